//
// LogPanel.cpp
//
#include "LogPanel.h"
#include "PayloadFormat.h"
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/choice.h>
#include <wx/filedlg.h>
#include <wx/srchctrl.h>
#include <wx/sizer.h>
#include <wx/splitter.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>

namespace parley {
namespace gui {

namespace {

/// The detail pane shows at most this much of one payload (Export writes everything).
constexpr std::size_t kDetailLimit = 2u << 20;

/// Neither the list nor the payload pane gets smaller than this (pixels).
constexpr int kMinPane = 120;

bool endsWith(const std::string& s, const std::string& suffix)
{
	return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

LogPanel::LogPanel(wxWindow* parent):
	wxPanel(parent, wxID_ANY)
{
	auto* top = new wxBoxSizer(wxVERTICAL);
	auto* bar = new wxBoxSizer(wxHORIZONTAL);
	const wxString filters[] = {"All", "Sent", "Received", "Control"};
	_filter = new wxChoice(this, wxID_ANY, wxDefaultPosition, wxDefaultSize, WXSIZEOF(filters), filters);
	_filter->SetSelection(0);
	_filter->SetToolTip("Show all rows, only sent or received frames, or only ping/pong/close");
	bar->Add(_filter, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_search = new wxSearchCtrl(this, wxID_ANY, wxEmptyString, wxDefaultPosition, wxSize(220, -1));
	_search->SetMinSize(wxSize(150, -1));
	_search->ShowCancelButton(true);
	_search->SetDescriptiveText("Search payloads");
	bar->Add(_search, 1, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_follow = new wxCheckBox(this, wxID_ANY, "Follow");
	_follow->SetValue(true);
	_follow->SetToolTip("Keep the newest row in view");
	bar->Add(_follow, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 4);
	_countLabel = new wxStaticText(this, wxID_ANY, "0 rows", wxDefaultPosition, wxSize(100, -1), wxALIGN_RIGHT | wxST_NO_AUTORESIZE | wxST_ELLIPSIZE_START);
	bar->Add(_countLabel, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_clear = new wxButton(this, wxID_ANY, "Clear", wxDefaultPosition, wxDefaultSize, wxBU_EXACTFIT);
	bar->Add(_clear, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_export = new wxButton(this, wxID_ANY, L"Export…", wxDefaultPosition, wxDefaultSize, wxBU_EXACTFIT);
	_export->SetToolTip("Write the rows shown to a file (JSON Lines or text)");
	bar->Add(_export, 0, wxALIGN_CENTER_VERTICAL);
	top->Add(bar, 0, wxEXPAND | wxALL, 6);

	_splitter = new wxSplitterWindow(this, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxSP_LIVE_UPDATE | wxSP_3DSASH);
	_splitter->SetMinimumPaneSize(kMinPane);
	_splitter->SetSashGravity(1.0);
	_list = new LogListCtrl(_splitter, _log);
	auto* detailPanel = new wxPanel(_splitter, wxID_ANY);
	auto* detailSizer = new wxBoxSizer(wxVERTICAL);
	_detailTitle = new wxStaticText(detailPanel, wxID_ANY, "Select a row to see its whole payload.");
	detailSizer->Add(_detailTitle, 0, wxEXPAND | wxALL, 4);
	_detail = new wxTextCtrl(detailPanel, wxID_ANY, wxEmptyString, wxDefaultPosition, wxDefaultSize,
		wxTE_MULTILINE | wxTE_READONLY | wxTE_DONTWRAP | wxTE_RICH2);
	_detail->SetFont(wxFont(wxFontInfo().Family(wxFONTFAMILY_TELETYPE)));
	detailSizer->Add(_detail, 1, wxEXPAND);
	detailPanel->SetSizer(detailSizer);
	_splitter->SplitHorizontally(_list, detailPanel, -220);
	top->Add(_splitter, 1, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 6);
	SetSizer(top);

	_filter->Bind(wxEVT_CHOICE, [this](wxCommandEvent&) { onControlsChanged(); });
	_search->Bind(wxEVT_TEXT, [this](wxCommandEvent&) { onControlsChanged(); });
	_search->Bind(wxEVT_SEARCHCTRL_CANCEL_BTN, [this](wxCommandEvent&) {
		_search->ChangeValue(wxEmptyString);
		onControlsChanged();
	});
	_clear->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { clear(); });
	_export->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { onExportClicked(); });
	_list->Bind(wxEVT_LIST_ITEM_SELECTED, [this](wxListEvent& event) { showDetails(event.GetIndex()); });
	_list->Bind(wxEVT_LIST_ITEM_FOCUSED, [this](wxListEvent& event) {
		if (_list->selectedRow() == event.GetIndex()) showDetails(event.GetIndex());
	});
	_splitter->Bind(wxEVT_SIZE, [this](wxSizeEvent& event) {
		event.Skip();
		const int wanted = _wantedDetailHeight;
		if (wanted >= 0 && event.GetSize().y > 200)
		{
			_wantedDetailHeight = -1;
			CallAfter([this, wanted] { setDetailHeight(wanted); });
		}
	});
	_follow->Bind(wxEVT_CHECKBOX, [this](wxCommandEvent&) {
		if (_follow->GetValue()) _list->refreshRows(true);
	});
}

void LogPanel::append(LogEntry entry)
{
	_log.append(std::move(entry));
	// Rows added on the UI thread outside a batch (local events) show on the next idle turn.
	if (!_dirty) CallAfter(&LogPanel::flush);
	_dirty = true;
}

void LogPanel::flush()
{
	if (!_dirty) return;
	_dirty = false;
	_list->refreshRows(_follow->GetValue());
	updateCountLabel();
}

void LogPanel::applyFilter(LogFilter filter, const std::string& search)
{
	_filter->SetSelection(static_cast<int>(filter));
	_search->ChangeValue(wxString::FromUTF8(search));
	onControlsChanged();
}

void LogPanel::setDetailHeight(int pixels)
{
	const int height = _splitter->GetClientSize().y;
	if (height <= 200)
	{
		_wantedDetailHeight = pixels;  // not laid out yet: on the first real size
		return;
	}
	_wantedDetailHeight = -1;
	const int top = std::clamp(height - std::max(pixels, kMinPane), kMinPane, height - kMinPane);
	_splitter->SetSashPosition(top);
}

int LogPanel::detailHeight() const
{
	return _splitter->GetClientSize().y - _splitter->GetSashPosition();
}

void LogPanel::onControlsChanged()
{
	const int selection = _filter->GetSelection();
	const LogFilter filter = selection < 0 ? LogFilter::All : static_cast<LogFilter>(selection);
	// Row numbers mean other rows after filtering: remember the selected entry, not its row.
	const long selected = _list->selectedRow();
	const bool hadSelection = selected >= 0 && static_cast<std::size_t>(selected) < _log.visibleCount();
	const std::uint64_t selectedId = hadSelection ? _log.idAt(static_cast<std::size_t>(selected)) : 0;
	if (selected >= 0) _list->SetItemState(selected, 0, wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
	_log.setFilter(filter, _search->GetValue().utf8_string());
	const long row = hadSelection ? _log.rowOf(selectedId) : -1;
	_list->refreshRows(_follow->GetValue() && row < 0);
	if (row >= 0)
	{
		_list->SetItemState(row, wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED, wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
		_list->EnsureVisible(row);
	}
	showDetails(row);
	updateCountLabel();
	_dirty = false;
}

void LogPanel::clear()
{
	const long selected = _list->selectedRow();
	if (selected >= 0) _list->SetItemState(selected, 0, wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
	_log.clear();
	_list->refreshRows(false);
	showDetails(-1);
	updateCountLabel();
	_dirty = false;
}

bool LogPanel::exportTo(const std::string& path)
{
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	if (!out)
	{
		status("cannot write '" + path + "': " + std::strerror(errno), true);
		return false;
	}
	const bool json = endsWith(path, ".jsonl") || endsWith(path, ".json");
	const std::size_t rows = json ? _log.exportJsonLines(out) : _log.exportText(out);
	out.flush();
	if (!out)
	{
		status("writing '" + path + "' failed: " + std::strerror(errno), true);
		return false;
	}
	status("exported " + groupDigits(rows) + " rows to " + path, false);
	return true;
}

void LogPanel::showDetails(long row)
{
	if (row < 0 || static_cast<std::size_t>(row) >= _log.visibleCount())
	{
		_detailTitle->SetLabel("Select a row to see its whole payload.");
		_detail->ChangeValue(wxEmptyString);
		return;
	}
	const LogEntry& e = _log.visible(static_cast<std::size_t>(row));
	_detailTitle->SetLabel(wxString::FromUTF8(e.timeText() + "  " + toString(e.origin) + "  " + toString(e.kind) + "  " +
		groupDigits(e.payload.size()) + " bytes" + (e.kind == LogKind::Binary ? " (hex)" : "") +
		(e.compressed ? "  ·  compressed (permessage-deflate): " + groupDigits(e.wireSize) + " bytes on the wire" : "")));
	_detail->ChangeValue(wxString::FromUTF8(e.details(kDetailLimit)));
	_detail->ShowPosition(0);
}

void LogPanel::onExportClicked()
{
	wxFileDialog dialog(this, "Export message log", wxEmptyString, "parley-log.jsonl",
		"JSON Lines (*.jsonl)|*.jsonl|Text (*.txt)|*.txt|All files|*", wxFD_SAVE | wxFD_OVERWRITE_PROMPT);
	if (dialog.ShowModal() != wxID_OK) return;
	exportTo(dialog.GetPath().utf8_string());
}

void LogPanel::updateCountLabel()
{
	wxString text;
	if (_log.visibleCount() == _log.size())
		text = wxString::FromUTF8(groupDigits(_log.size()) + " rows");
	else
		text = wxString::FromUTF8(groupDigits(_log.visibleCount()) + " of " + groupDigits(_log.size()) + " rows");
	if (_countLabel->GetLabel() != text) _countLabel->SetLabel(text);
}

void LogPanel::status(const std::string& text, bool error)
{
	if (_onStatus) _onStatus(text, error);
}

} // namespace gui
} // namespace parley
