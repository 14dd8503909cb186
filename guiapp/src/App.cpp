//
// App.cpp
//
#include "App.h"
#include "MainFrame.h"
#include "UiLog.h"
#include <wx/cmdline.h>
#include <wx/fileconf.h>
#include <wx/filename.h>
#include <wx/notebook.h>
#include <wx/stdpaths.h>

namespace parley {
namespace gui {

void App::OnInitCmdLine(wxCmdLineParser& parser)
{
	wxApp::OnInitCmdLine(parser);
	parser.AddOption("s", "settings", "settings file (default ~/.config/parley-gui.conf)");
	parser.AddSwitch("c", "connect", "connect to the URL at start");
	parser.AddSwitch("r", "run", "start a load run at start (Send N with the saved settings)");
	parser.AddParam("ws[s]://host:port/path", wxCMD_LINE_VAL_STRING, wxCMD_LINE_PARAM_OPTIONAL);
}

bool App::OnCmdLineParsed(wxCmdLineParser& parser)
{
	if (!wxApp::OnCmdLineParsed(parser)) return false;
	parser.Found("settings", &_settingsFile);
	_connect = parser.Found("connect");
	_run = parser.Found("run");
	if (parser.GetParamCount() > 0) _url = parser.GetParam(0);
	return true;
}

bool App::OnInit()
{
	SetAppName("parley-gui");
	SetAppDisplayName("Parley");
	if (!wxApp::OnInit()) return false;
	// wx's own error messages (a settings file that cannot be written, ...) go to stderr and the
	// status bar, never into modal message boxes.
	delete wxLog::SetActiveTarget(new UiLog);
	if (_settingsFile.empty())
	{
		// ~/.config/parley-gui.conf
		wxStandardPaths::Get().SetFileLayout(wxStandardPaths::FileLayout_XDG);
		_settingsFile = wxFileConfig::GetLocalFileName("parley-gui");
	}
	// A first run on a fresh account: the folder may not exist yet.
	const wxString dir = wxFileName(_settingsFile).GetPath();
	if (!dir.empty() && !wxFileName::DirExists(dir)) wxFileName::Mkdir(dir, wxS_DIR_DEFAULT, wxPATH_MKDIR_FULL);
	_config = std::make_unique<wxFileConfig>("parley-gui", wxEmptyString, _settingsFile, wxEmptyString, wxCONFIG_USE_LOCAL_FILE);
	auto* frame = new MainFrame(*_config);
	if (!_url.empty()) frame->bar()->setUrl(_url.utf8_string());
	frame->Show();
	if (_connect) frame->connect();
	if (_run)
	{
		frame->tabs()->SetSelection(1);
		frame->startLoadRun();
	}
	return true;
}

int App::OnExit()
{
	_config.reset();
	return wxApp::OnExit();
}

} // namespace gui
} // namespace parley
