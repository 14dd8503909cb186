//
// App.h — parley-gui's wxApp: reads the command line, opens the settings file and shows the
// main window.
//
#ifndef PARLEY_GUI_APP_INCLUDED
#define PARLEY_GUI_APP_INCLUDED

#include <memory>
#include <wx/app.h>
#include <wx/confbase.h>

class wxCmdLineParser;

namespace parley {
namespace gui {

class App : public wxApp
{
public:
	bool OnInit() override;
	int OnExit() override;
	void OnInitCmdLine(wxCmdLineParser& parser) override;
	bool OnCmdLineParsed(wxCmdLineParser& parser) override;

private:
	wxString _settingsFile;  ///< --settings=FILE; "" = ~/.config/parley-gui.conf
	wxString _url;           ///< optional URL argument: put in the bar
	bool _connect = false;   ///< --connect: connect at start
	bool _run = false;       ///< --run: start a load run at start
	std::unique_ptr<wxConfigBase> _config;
};

} // namespace gui
} // namespace parley

#endif
