//
// UiLog.h — the wxLog target of parley-gui: wx's own messages go to stderr and, for warnings and
// errors, to the main window's status bar and message log, instead of modal message boxes.
//
#ifndef PARLEY_GUI_UILOG_INCLUDED
#define PARLEY_GUI_UILOG_INCLUDED

#include <wx/log.h>

namespace parley {
namespace gui {

class UiLog : public wxLog
{
protected:
	void DoLogRecord(wxLogLevel level, const wxString& message, const wxLogRecordInfo& info) override;
};

} // namespace gui
} // namespace parley

#endif
