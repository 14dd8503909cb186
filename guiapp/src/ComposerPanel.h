//
// ComposerPanel.h — write a message (text, or binary typed as hex), Send it (Ctrl+Enter), and keep
// a list of saved messages to send again.
//
#ifndef PARLEY_GUI_COMPOSERPANEL_INCLUDED
#define PARLEY_GUI_COMPOSERPANEL_INCLUDED

#include "Settings.h"
#include <functional>
#include <string>
#include <vector>
#include <wx/panel.h>

class wxButton;
class wxKeyEvent;
class wxListBox;
class wxRadioButton;
class wxTextCtrl;

namespace parley {
namespace gui {

class ComposerPanel : public wxPanel
{
public:
	explicit ComposerPanel(wxWindow* parent);

	/// Called when the user asks to send (Send button or Ctrl+Enter).
	void setOnSend(std::function<void()> onSend) { _onSend = std::move(onSend); }
	/// Called with a one-line message for the status bar (error = true for problems).
	void setOnStatus(std::function<void(const std::string&, bool)> onStatus) { _onStatus = std::move(onStatus); }

	/// Fills the editor and the saved messages from settings.
	void load(const Settings& settings);
	/// Copies the editor and the saved messages into settings.
	void store(Settings& settings) const;

	/// Returns the message to send: the text, or the bytes parsed from hex. Returns false and
	/// sets error (one line) if the hex does not parse.
	bool payload(std::string& out, bool& binary, std::string& error) const;
	/// Returns true when the editor is in binary (hex) mode.
	bool binaryMode() const;
	/// Switches between text and hex, converting the editor's content where it can.
	void setBinaryMode(bool binary);
	/// Enables or disables the Send button.
	void setSendEnabled(bool enabled);
	/// Saves the editor's content under name (replacing one of the same name). Returns false and
	/// reports through the status callback if name is empty.
	bool saveCurrent(const std::string& name);
	/// Loads saved message index into the editor.
	void loadSaved(int index);

	const std::vector<SavedMessage>& saved() const noexcept { return _saved; }
	wxTextCtrl* editor() const noexcept { return _editor; }
	wxButton* sendButton() const noexcept { return _send; }
	wxRadioButton* textRadio() const noexcept { return _text; }
	wxRadioButton* binaryRadio() const noexcept { return _binary; }
	wxListBox* savedList() const noexcept { return _savedList; }
	wxTextCtrl* saveNameBox() const noexcept { return _saveName; }
	wxButton* saveButton() const noexcept { return _save; }
	wxButton* deleteButton() const noexcept { return _delete; }

private:
	void onCharHook(wxKeyEvent& event);
	void refreshSavedList();
	void status(const std::string& text, bool error);

	wxRadioButton* _text;
	wxRadioButton* _binary;
	wxTextCtrl* _editor;
	wxButton* _send;
	wxListBox* _savedList;
	wxTextCtrl* _saveName;
	wxButton* _save;
	wxButton* _delete;
	std::vector<SavedMessage> _saved;
	std::function<void()> _onSend;
	std::function<void(const std::string&, bool)> _onStatus;
};

} // namespace gui
} // namespace parley

#endif
