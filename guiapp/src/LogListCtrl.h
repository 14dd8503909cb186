//
// LogListCtrl.h — the message log's virtual list: it holds no rows of its own and asks the
// MessageLog for the text of each visible cell, so 100,000 rows cost nothing extra.
//
#ifndef PARLEY_GUI_LOGLISTCTRL_INCLUDED
#define PARLEY_GUI_LOGLISTCTRL_INCLUDED

#include "MessageLog.h"
#include <wx/listctrl.h>

namespace parley {
namespace gui {

class LogListCtrl : public wxListCtrl
{
public:
	enum Column { Time, Direction, Kind, Length, Wire, Preview };

	LogListCtrl(wxWindow* parent, const MessageLog& log);

	/// Matches the row count to the log and repaints; with follow, scrolls to the newest row.
	void refreshRows(bool follow);
	/// Returns the first selected row, or -1.
	long selectedRow() const;

protected:
	wxString OnGetItemText(long item, long column) const override;
	wxItemAttr* OnGetItemAttr(long item) const override;

private:
	void fitPreviewColumn();

	const MessageLog& _log;
	mutable wxItemAttr _sent, _received, _info, _error, _control;
};

} // namespace gui
} // namespace parley

#endif
