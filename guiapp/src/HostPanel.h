//
// HostPanel.h — start and stop a local parley-host (the one next to parley-gui) with a chosen
// configuration file, show its output, and connect to it in one click. The host runs as a child
// process (wxExecute, asynchronous, output redirected); the GUI never opens a socket itself.
//
#ifndef PARLEY_GUI_HOSTPANEL_INCLUDED
#define PARLEY_GUI_HOSTPANEL_INCLUDED

#include <chrono>
#include <functional>
#include <string>
#include <wx/panel.h>
#include <wx/timer.h>

class wxButton;
class wxFilePickerCtrl;
class wxInputStream;
class wxProcess;
class wxProcessEvent;
class wxSpinCtrl;
class wxStaticText;
class wxTextCtrl;

namespace parley {
namespace gui {

struct Settings;

class HostPanel : public wxPanel
{
public:
	/// hostExecutable: the parley-host to run ("" = the one in the same folder as this program).
	HostPanel(wxWindow* parent, std::string hostExecutable = {});
	~HostPanel() override;

	/// Called with a one-line message for the status bar and log (error = true for problems).
	void setOnStatus(std::function<void(const std::string&, bool)> onStatus) { _onStatus = std::move(onStatus); }
	/// Called with the host's WebSocket URL when the user asks to connect to it.
	void setOnConnect(std::function<void(const std::string&)> onConnect) { _onConnect = std::move(onConnect); }

	void load(const Settings& settings);
	void store(Settings& settings) const;

	/// Starts the host. Returns false (and reports why) if it is running, the binary or the
	/// configuration file is missing, or it could not be launched.
	bool start();
	/// Asks the host to stop (SIGTERM; SIGKILL if it is still there after 3 s).
	void stop();
	/// Returns true while the host process runs.
	bool running() const noexcept { return _pid != 0; }
	/// Returns the URL of the host's WebSocket route: the scheme, address and port the running
	/// host announced ("listening on ws://..." or "listening on wss://..." when it serves TLS),
	/// else ws:// and the address and port of the configuration file and the port field; the
	/// route is "/ws" if the file has it, else its first.
	std::string hostUrl() const;
	/// Connect in one click: starts the host if needed, then hands hostUrl() to the connect
	/// callback once the host says it is listening (or after 3 s).
	void connectToHost();

	const std::string& executable() const noexcept { return _executable; }
	/// Returns everything the host printed so far (stdout and stderr).
	wxString output() const;
	/// Returns the process state line ("running (pid 123)", "exited with status 0", ...).
	wxString stateText() const;

	wxFilePickerCtrl* configPicker() const noexcept { return _config; }
	wxSpinCtrl* portSpin() const noexcept { return _port; }
	wxButton* startButton() const noexcept { return _start; }
	wxButton* stopButton() const noexcept { return _stop; }
	wxButton* connectButton() const noexcept { return _connect; }

private:
	void onTimer(wxTimerEvent& event);
	void onProcessEnded(wxProcessEvent& event);
	void drain();
	void drainStream(wxInputStream* stream, std::string& partial);
	void appendOutput(const std::string& line);
	void updateButtons();
	void status(const std::string& text, bool error);

	std::string _executable;
	wxFilePickerCtrl* _config;
	wxSpinCtrl* _port;
	wxButton* _start;
	wxButton* _stop;
	wxButton* _connect;
	wxStaticText* _state;
	wxTextCtrl* _output;
	wxProcess* _process = nullptr;
	long _pid = 0;
	wxTimer _pollTimer;
	wxTimer _killTimer;
	std::string _partialOut, _partialErr;
	bool _connectPending = false;
	std::string _lastLine;   ///< the host's last line of output (why it exited)
	std::string _announced;  ///< "ws://ADDR:PORT" or "wss://ADDR:PORT" from the host's "listening on" line
	std::chrono::steady_clock::time_point _startedAt{};
	std::function<void(const std::string&, bool)> _onStatus;
	std::function<void(const std::string&)> _onConnect;
};

} // namespace gui
} // namespace parley

#endif
