//
// HostPanel.cpp
//
#include "HostPanel.h"
#include "Settings.h"
#include "parley/config/HostConfig.h"
#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>
#include <wx/button.h>
#include <wx/filename.h>
#include <wx/filepicker.h>
#include <wx/process.h>
#include <wx/sizer.h>
#include <wx/spinctrl.h>
#include <wx/stattext.h>
#include <wx/stdpaths.h>
#include <wx/stream.h>
#include <wx/textctrl.h>

namespace parley {
namespace gui {

namespace {

/// The output pane keeps roughly this many characters (the oldest go first).
constexpr long kOutputLimit = 200000;

std::string executableDir()
{
	return wxFileName(wxStandardPaths::Get().GetExecutablePath()).GetPath().utf8_string();
}

bool containsIgnoreCase(const std::string& text, const char* word)
{
	std::string lower(text);
	std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return lower.find(word) != std::string::npos;
}

} // namespace

HostPanel::HostPanel(wxWindow* parent, std::string hostExecutable):
	wxPanel(parent, wxID_ANY),
	_executable(hostExecutable.empty() ? executableDir() + "/parley-host" : std::move(hostExecutable)),
	_pollTimer(this),
	_killTimer(this)
{
	auto* top = new wxBoxSizer(wxVERTICAL);
	auto* intro = new wxStaticText(this, wxID_ANY,
		"Run a parley-host on this machine and talk to it, no terminal needed.");
	top->Add(intro, 0, wxEXPAND | wxALL, 6);

	auto* grid = new wxFlexGridSizer(2, 4, 6);
	grid->AddGrowableCol(1, 1);
	grid->Add(new wxStaticText(this, wxID_ANY, "Program"), 0, wxALIGN_CENTER_VERTICAL);
	const bool found = wxFileName::IsFileExecutable(wxString::FromUTF8(_executable));
	auto* program = new wxStaticText(this, wxID_ANY, wxString::FromUTF8(found ? _executable : _executable + "  (not found)"),
		wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_START);
	program->SetToolTip(wxString::FromUTF8(_executable));
	if (!found) program->SetForegroundColour(wxColour(200, 40, 40));
	grid->Add(program, 1, wxEXPAND | wxALIGN_CENTER_VERTICAL);
	grid->Add(new wxStaticText(this, wxID_ANY, "Config"), 0, wxALIGN_CENTER_VERTICAL);
	const std::string defaultConfig = HostConfig::defaultFile(executableDir());
	_config = new wxFilePickerCtrl(this, wxID_ANY, wxString::FromUTF8(defaultConfig), "Choose a parley-host configuration",
		"Properties (*.properties)|*.properties|All files|*", wxDefaultPosition, wxDefaultSize,
		wxFLP_OPEN | wxFLP_FILE_MUST_EXIST | wxFLP_USE_TEXTCTRL);
	grid->Add(_config, 1, wxEXPAND);
	grid->Add(new wxStaticText(this, wxID_ANY, "Port"), 0, wxALIGN_CENTER_VERTICAL);
	auto* portRow = new wxBoxSizer(wxHORIZONTAL);
	_port = new wxSpinCtrl(this, wxID_ANY, "0", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 0, 65535, 0);
	_port->SetToolTip("0 = the port in the configuration file");
	portRow->Add(_port, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	portRow->Add(new wxStaticText(this, wxID_ANY, "(0 = from the file)"), 0, wxALIGN_CENTER_VERTICAL);
	grid->Add(portRow, 1, wxEXPAND);
	top->Add(grid, 0, wxEXPAND | wxALL, 6);

	auto* buttons = new wxBoxSizer(wxHORIZONTAL);
	_start = new wxButton(this, wxID_ANY, "Start");
	_stop = new wxButton(this, wxID_ANY, "Stop");
	_connect = new wxButton(this, wxID_ANY, "Start && connect");
	_connect->SetToolTip("Start the host if needed, then connect the URL bar to it");
	buttons->Add(_start, 0, wxRIGHT, 6);
	buttons->Add(_stop, 0, wxRIGHT, 6);
	buttons->Add(_connect, 1);
	top->Add(buttons, 0, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 6);
	_state = new wxStaticText(this, wxID_ANY, "Not running.", wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_END);
	top->Add(_state, 0, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 6);

	top->Add(new wxStaticText(this, wxID_ANY, "Host output"), 0, wxLEFT | wxRIGHT, 6);
	_output = new wxTextCtrl(this, wxID_ANY, wxEmptyString, wxDefaultPosition, wxSize(-1, 60),
		wxTE_MULTILINE | wxTE_READONLY | wxTE_DONTWRAP);
	_output->SetFont(wxFont(wxFontInfo(8).Family(wxFONTFAMILY_TELETYPE)));
	top->Add(_output, 1, wxEXPAND | wxALL, 6);
	SetSizer(top);

	_start->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { start(); });
	_stop->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { stop(); });
	_connect->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { connectToHost(); });
	Bind(wxEVT_TIMER, &HostPanel::onTimer, this);
	Bind(wxEVT_END_PROCESS, &HostPanel::onProcessEnded, this);
	updateButtons();
}

HostPanel::~HostPanel()
{
	_pollTimer.Stop();
	_killTimer.Stop();
	if (_process)
	{
		// The window goes away before the host: ask it to stop and let the process object
		// delete itself when the host is gone.
		wxProcess::Kill(static_cast<int>(_pid), wxSIGTERM);
		_process->Detach();
		_process = nullptr;
		_pid = 0;
	}
}

void HostPanel::load(const Settings& settings)
{
	if (!settings.hostConfig.empty() && wxFileName::FileExists(wxString::FromUTF8(settings.hostConfig)))
		_config->SetPath(wxString::FromUTF8(settings.hostConfig));
	_port->SetValue(settings.hostPort);
}

void HostPanel::store(Settings& settings) const
{
	settings.hostConfig = _config->GetPath().utf8_string();
	settings.hostPort = _port->GetValue();
}

bool HostPanel::start()
{
	if (_process)
	{
		status("the local host is already running (pid " + std::to_string(_pid) + ")", false);
		return false;
	}
	if (!wxFileName::IsFileExecutable(wxString::FromUTF8(_executable)))
	{
		status("cannot start the local host: " + _executable + " not found (build parley-host next to parley-gui)", true);
		return false;
	}
	const std::string config = _config->GetPath().utf8_string();
	if (config.empty() || !wxFileName::FileExists(wxString::FromUTF8(config)))
	{
		status("cannot start the local host: choose a configuration file" + (config.empty() ? std::string() : " ('" + config + "' does not exist)"), true);
		return false;
	}
	// The operator endpoints on any free port (named in the output): a host started from here
	// must not fail because another host holds the default admin.port.
	std::vector<std::string> args{_executable, "--config=" + config, "--admin-port=0"};
	if (_port->GetValue() > 0) args.push_back("--port=" + std::to_string(_port->GetValue()));
	std::vector<const char*> argv;
	for (const std::string& a : args) argv.push_back(a.c_str());
	argv.push_back(nullptr);

	_process = new wxProcess(this);
	_process->Redirect();
	_partialOut.clear();
	_partialErr.clear();
	_announced.clear();
	_lastLine.clear();
	std::string commandLine;
	for (const std::string& a : args) commandLine += (commandLine.empty() ? "" : " ") + a;
	appendOutput("$ " + commandLine);
	_pid = wxExecute(argv.data(), wxEXEC_ASYNC, _process);
	if (_pid <= 0)
	{
		delete _process;
		_process = nullptr;
		_pid = 0;
		status("cannot start the local host: launching " + _executable + " failed", true);
		updateButtons();
		return false;
	}
	_startedAt = std::chrono::steady_clock::now();
	_pollTimer.Start(100);
	_state->SetLabel(wxString::Format(L"Running (pid %ld) — %s", _pid, wxString::FromUTF8(hostUrl())));
	status("local host started (pid " + std::to_string(_pid) + ")", false);
	updateButtons();
	return true;
}

void HostPanel::stop()
{
	if (!_process) return;
	_connectPending = false;
	wxProcess::Kill(static_cast<int>(_pid), wxSIGTERM);
	_state->SetLabel(wxString::Format(L"Stopping (pid %ld)…", _pid));
	_killTimer.StartOnce(3000);
}

std::string HostPanel::hostUrl() const
{
	std::string address = "127.0.0.1";
	int port = 8080;
	std::string route = "/ws";
	try
	{
		const HostConfig config = HostConfig::fromFile(_config->GetPath().utf8_string());
		if (!config.address.empty() && config.address != "0.0.0.0" && config.address != "::") address = config.address;
		port = config.port;
		if (!config.routes.empty() && config.routes.find("/ws") == config.routes.end()) route = config.routes.begin()->first;
	}
	catch (const std::exception&)
	{
		// The host will say what is wrong with the file when it starts; use the defaults here.
	}
	if (_port->GetValue() > 0) port = _port->GetValue();
	if (_process && !_announced.empty()) return _announced + route;
	return "ws://" + address + ":" + std::to_string(port) + route;
}

void HostPanel::connectToHost()
{
	if (!_process && !start()) return;
	_connectPending = true;
	status("waiting for the local host to listen…", false);
}

wxString HostPanel::output() const
{
	return _output->GetValue();
}

wxString HostPanel::stateText() const
{
	return _state->GetLabel();
}

void HostPanel::onTimer(wxTimerEvent& event)
{
	if (event.GetTimer().GetId() == _killTimer.GetId())
	{
		if (_process)
		{
			appendOutput("(still running after 3 s: sending SIGKILL)");
			wxProcess::Kill(static_cast<int>(_pid), wxSIGKILL);
		}
		return;
	}
	drain();
	if (_connectPending && _process && std::chrono::steady_clock::now() - _startedAt > std::chrono::seconds(3))
	{
		// No "listening" line seen: try anyway (the client session reports a refusal).
		_connectPending = false;
		if (_onConnect) _onConnect(hostUrl());
	}
}

void HostPanel::onProcessEnded(wxProcessEvent& event)
{
	drain();
	for (std::string* partial : {&_partialOut, &_partialErr})
	{
		if (partial->empty()) continue;
		appendOutput(*partial);
		_lastLine = *partial;
	}
	_partialOut.clear();
	_partialErr.clear();
	_pollTimer.Stop();
	_killTimer.Stop();
	const int code = event.GetExitCode();
	const long pid = _pid;
	delete _process;
	_process = nullptr;
	_pid = 0;
	_connectPending = false;
	_state->SetLabel(wxString::Format("Exited with status %d (pid %ld).", code, pid));
	appendOutput("(parley-host exited with status " + std::to_string(code) + ")");
	if (code == 0)
	{
		status("local host stopped", false);
	}
	else
	{
		// The host's last line says why (bad configuration, port in use, ...).
		status("local host exited with status " + std::to_string(code) + (_lastLine.empty() ? "" : ": " + _lastLine), true);
	}
	updateButtons();
}

void HostPanel::drain()
{
	if (!_process) return;
	drainStream(_process->GetInputStream(), _partialOut);
	drainStream(_process->GetErrorStream(), _partialErr);
}

void HostPanel::drainStream(wxInputStream* stream, std::string& partial)
{
	if (!stream) return;
	char buffer[4096];
	// CanRead() says whether a read would not block; read what is there, line by line.
	for (int rounds = 0; rounds < 64 && stream->CanRead(); ++rounds)
	{
		stream->Read(buffer, sizeof buffer);
		const std::size_t n = stream->LastRead();
		if (n == 0) break;
		partial.append(buffer, n);
		std::size_t nl;
		while ((nl = partial.find('\n')) != std::string::npos)
		{
			std::string line = partial.substr(0, nl);
			if (!line.empty() && line.back() == '\r') line.pop_back();
			partial.erase(0, nl + 1);
			appendOutput(line);
			if (!line.empty()) _lastLine = line;
			// "listening on ws://ADDR:PORT", or wss:// when the host serves TLS.
			const auto at = line.find("listening on ");
			const std::size_t begin = at == std::string::npos ? std::string::npos : at + std::strlen("listening on ");
			const std::size_t scheme = begin == std::string::npos ? 0
				: line.compare(begin, 5, "ws://") == 0 ? 5
				: line.compare(begin, 6, "wss://") == 0 ? 6 : 0;
			if (scheme != 0)
			{
				const std::size_t end = line.find_first_of(" /", begin + scheme);
				_announced = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
				_state->SetLabel(wxString::Format(L"Running (pid %ld) — %s", _pid, wxString::FromUTF8(hostUrl())));
			}
			if (_connectPending && containsIgnoreCase(line, "listen"))
			{
				_connectPending = false;
				if (_onConnect) _onConnect(hostUrl());
			}
		}
	}
}

void HostPanel::appendOutput(const std::string& line)
{
	if (_output->GetLastPosition() > kOutputLimit) _output->Remove(0, kOutputLimit / 2);
	_output->AppendText(wxString::FromUTF8(line) + "\n");
}

void HostPanel::updateButtons()
{
	_start->Enable(!_process);
	_stop->Enable(_process != nullptr);
	_config->Enable(!_process);
	_port->Enable(!_process);
	_connect->SetLabel(_process ? "Connect" : "Start && connect");
}

void HostPanel::status(const std::string& text, bool error)
{
	if (_onStatus) _onStatus(text, error);
}

} // namespace gui
} // namespace parley
