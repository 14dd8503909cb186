//
// LogPanel.h — the message log: filter (All / Sent / Received / Control), search, Follow, Clear,
// Export, the virtual list of rows, and below it the whole payload of the selected row.
//
#ifndef PARLEY_GUI_LOGPANEL_INCLUDED
#define PARLEY_GUI_LOGPANEL_INCLUDED

#include "LogListCtrl.h"
#include "MessageLog.h"
#include <functional>
#include <string>
#include <wx/panel.h>

class wxButton;
class wxCheckBox;
class wxChoice;
class wxSearchCtrl;
class wxSplitterWindow;
class wxStaticText;
class wxTextCtrl;

namespace parley {
namespace gui {

class LogPanel : public wxPanel
{
public:
	explicit LogPanel(wxWindow* parent);

	/// Called with a one-line message for the status bar (error = true for problems).
	void setOnStatus(std::function<void(const std::string&, bool)> onStatus) { _onStatus = std::move(onStatus); }

	/// Adds a row (UI thread only); the list catches up at the next flush().
	void append(LogEntry entry);
	/// Brings the list up to date with the rows added since the last flush (the UI timer calls it).
	void flush();
	/// Applies the filter and search now.
	void applyFilter(LogFilter filter, const std::string& search);
	/// Removes every row.
	void clear();
	/// Writes the rows shown to path (JSON Lines for *.jsonl / *.json, else plain text). Returns
	/// false and reports through the status callback on failure.
	bool exportTo(const std::string& path);
	/// Shows the whole payload of shown row `row` below the list (-1 clears it).
	void showDetails(long row);

	/// Sets the height of the payload pane below the list (applied once the panel has a size).
	void setDetailHeight(int pixels);
	/// Returns the height of the payload pane below the list.
	int detailHeight() const;

	const MessageLog& log() const noexcept { return _log; }
	LogListCtrl* list() const noexcept { return _list; }
	wxChoice* filterChoice() const noexcept { return _filter; }
	wxSearchCtrl* searchBox() const noexcept { return _search; }
	wxCheckBox* followBox() const noexcept { return _follow; }
	wxButton* clearButton() const noexcept { return _clear; }
	wxButton* exportButton() const noexcept { return _export; }
	wxTextCtrl* detail() const noexcept { return _detail; }
	wxStaticText* detailTitle() const noexcept { return _detailTitle; }
	wxSplitterWindow* splitter() const noexcept { return _splitter; }

private:
	void onControlsChanged();
	void onExportClicked();
	void updateCountLabel();
	void status(const std::string& text, bool error);

	MessageLog _log;
	bool _dirty = false;
	int _wantedDetailHeight = -1;
	wxChoice* _filter;
	wxSearchCtrl* _search;
	wxCheckBox* _follow;
	wxStaticText* _countLabel;
	wxButton* _clear;
	wxButton* _export;
	wxSplitterWindow* _splitter;
	LogListCtrl* _list;
	wxStaticText* _detailTitle;
	wxTextCtrl* _detail;
	std::function<void(const std::string&, bool)> _onStatus;
};

} // namespace gui
} // namespace parley

#endif
