//
// ComposerPanel.cpp
//
#include "ComposerPanel.h"
#include "PayloadFormat.h"
#include <wx/button.h>
#include <wx/listbox.h>
#include <wx/radiobut.h>
#include <wx/sizer.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>

namespace parley {
namespace gui {

ComposerPanel::ComposerPanel(wxWindow* parent):
	wxPanel(parent, wxID_ANY)
{
	auto* top = new wxBoxSizer(wxVERTICAL);

	auto* modeRow = new wxBoxSizer(wxHORIZONTAL);
	_text = new wxRadioButton(this, wxID_ANY, "Text", wxDefaultPosition, wxDefaultSize, wxRB_GROUP);
	_binary = new wxRadioButton(this, wxID_ANY, "Binary (hex)");
	_binary->SetToolTip("Type bytes as hex: 01 a2 ff, 0x01,0x02 or 01:02 all work");
	modeRow->Add(_text, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 10);
	modeRow->Add(_binary, 0, wxALIGN_CENTER_VERTICAL);
	modeRow->AddStretchSpacer();
	_send = new wxButton(this, wxID_ANY, "Send  (Ctrl+Enter)");
	_send->SetToolTip("Send the message on the open connection");
	modeRow->Add(_send, 0, wxALIGN_CENTER_VERTICAL);
	top->Add(modeRow, 0, wxEXPAND | wxALL, 6);

	_editor = new wxTextCtrl(this, wxID_ANY, wxEmptyString, wxDefaultPosition, wxSize(-1, 90), wxTE_MULTILINE);
	_editor->SetFont(wxFont(wxFontInfo().Family(wxFONTFAMILY_TELETYPE)));
	top->Add(_editor, 1, wxEXPAND | wxLEFT | wxRIGHT, 6);

	top->Add(new wxStaticText(this, wxID_ANY, "Saved messages (click to load)"), 0, wxLEFT | wxRIGHT | wxTOP, 6);
	_savedList = new wxListBox(this, wxID_ANY, wxDefaultPosition, wxSize(200, 70));
	top->Add(_savedList, 1, wxEXPAND | wxLEFT | wxRIGHT | wxTOP, 6);
	auto* saveRow = new wxBoxSizer(wxHORIZONTAL);
	_saveName = new wxTextCtrl(this, wxID_ANY, wxEmptyString, wxDefaultPosition, wxDefaultSize, wxTE_PROCESS_ENTER);
	_saveName->SetHint("name for the message above");
	saveRow->Add(_saveName, 1, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_save = new wxButton(this, wxID_ANY, "Save");
	saveRow->Add(_save, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_delete = new wxButton(this, wxID_ANY, "Delete");
	saveRow->Add(_delete, 0, wxALIGN_CENTER_VERTICAL);
	top->Add(saveRow, 0, wxEXPAND | wxALL, 6);
	SetSizer(top);

	_send->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
		if (_onSend) _onSend();
	});
	_text->Bind(wxEVT_RADIOBUTTON, [this](wxCommandEvent&) { setBinaryMode(false); });
	_binary->Bind(wxEVT_RADIOBUTTON, [this](wxCommandEvent&) { setBinaryMode(true); });
	Bind(wxEVT_CHAR_HOOK, &ComposerPanel::onCharHook, this);
	_save->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { saveCurrent(_saveName->GetValue().Trim().Trim(false).utf8_string()); });
	_saveName->Bind(wxEVT_TEXT_ENTER, [this](wxCommandEvent&) { saveCurrent(_saveName->GetValue().Trim().Trim(false).utf8_string()); });
	_delete->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
		const int index = _savedList->GetSelection();
		if (index == wxNOT_FOUND || index >= static_cast<int>(_saved.size()))
		{
			status("select a saved message to delete", true);
			return;
		}
		status("deleted saved message '" + _saved[static_cast<std::size_t>(index)].name + "'", false);
		_saved.erase(_saved.begin() + index);
		refreshSavedList();
	});
	_savedList->Bind(wxEVT_LISTBOX, [this](wxCommandEvent& event) { loadSaved(event.GetSelection()); });
}

void ComposerPanel::load(const Settings& settings)
{
	_saved = settings.savedMessages;
	refreshSavedList();
	_text->SetValue(!settings.composerBinary);
	_binary->SetValue(settings.composerBinary);
	_editor->ChangeValue(wxString::FromUTF8(settings.composerText));
}

void ComposerPanel::store(Settings& settings) const
{
	settings.savedMessages = _saved;
	settings.composerBinary = binaryMode();
	settings.composerText = _editor->GetValue().utf8_string();
}

bool ComposerPanel::payload(std::string& out, bool& binary, std::string& error) const
{
	binary = binaryMode();
	const std::string typed = _editor->GetValue().utf8_string();
	if (!binary)
	{
		out = typed;
		return true;
	}
	return parseHex(typed, out, error);
}

bool ComposerPanel::binaryMode() const
{
	return _binary->GetValue();
}

void ComposerPanel::setBinaryMode(bool binary)
{
	_text->SetValue(!binary);
	_binary->SetValue(binary);
	const std::string typed = _editor->GetValue().utf8_string();
	if (binary)
	{
		// Text -> hex of its UTF-8 bytes, unless it already is hex.
		std::string bytes, error;
		if (!parseHex(typed, bytes, error) || typed.empty())
			_editor->ChangeValue(wxString::FromUTF8(toHex(typed)));
	}
	else
	{
		// Hex -> text when the bytes are UTF-8; otherwise leave the hex for the user to fix.
		std::string bytes, error;
		if (!typed.empty() && parseHex(typed, bytes, error) && isUtf8(bytes))
			_editor->ChangeValue(wxString::FromUTF8(bytes));
	}
}

void ComposerPanel::setSendEnabled(bool enabled)
{
	_send->Enable(enabled);
}

bool ComposerPanel::saveCurrent(const std::string& name)
{
	if (name.empty())
	{
		status("type a name for the saved message first", true);
		_saveName->SetFocus();
		return false;
	}
	SavedMessage message{name, _editor->GetValue().utf8_string(), binaryMode()};
	bool replaced = false;
	for (SavedMessage& m : _saved)
	{
		if (m.name == name)
		{
			m = message;
			replaced = true;
		}
	}
	if (!replaced) _saved.push_back(message);
	refreshSavedList();
	_saveName->Clear();
	status((replaced ? "replaced saved message '" : "saved message '") + name + "'", false);
	return true;
}

void ComposerPanel::loadSaved(int index)
{
	if (index < 0 || index >= static_cast<int>(_saved.size())) return;
	const SavedMessage& m = _saved[static_cast<std::size_t>(index)];
	_text->SetValue(!m.binary);
	_binary->SetValue(m.binary);
	_editor->ChangeValue(wxString::FromUTF8(m.payload));
	_savedList->SetSelection(index);
}

void ComposerPanel::onCharHook(wxKeyEvent& event)
{
	const int key = event.GetKeyCode();
	if ((key == WXK_RETURN || key == WXK_NUMPAD_ENTER) && event.GetModifiers() == wxMOD_CONTROL)
	{
		if (_onSend) _onSend();
		return;
	}
	event.Skip();
}

void ComposerPanel::refreshSavedList()
{
	_savedList->Clear();
	for (const SavedMessage& m : _saved)
		_savedList->Append(wxString::FromUTF8(m.name + (m.binary ? "  [binary]" : "")));
}

void ComposerPanel::status(const std::string& text, bool error)
{
	if (_onStatus) _onStatus(text, error);
}

} // namespace gui
} // namespace parley
