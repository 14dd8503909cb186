//
// UiLog.cpp
//
#include "UiLog.h"
#include "MainFrame.h"
#include <cstdio>
#include <wx/app.h>

namespace parley {
namespace gui {

void UiLog::DoLogRecord(wxLogLevel level, const wxString& message, const wxLogRecordInfo&)
{
	const std::string line = message.utf8_string();
	const char* what = level <= wxLOG_Error ? "error: " : level == wxLOG_Warning ? "warning: " : "";
	std::fprintf(stderr, "parley-gui: %s%s\n", what, line.c_str());
	if (level > wxLOG_Warning || !wxTheApp) return;
	// Messages may come from any thread: hand them to the UI thread.
	wxTheApp->CallAfter([line] {
		auto* frame = dynamic_cast<MainFrame*>(wxTheApp->GetTopWindow());
		if (frame && !frame->IsBeingDeleted()) frame->reportProblem(line);
	});
}

} // namespace gui
} // namespace parley
