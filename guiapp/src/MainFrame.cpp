//
// MainFrame.cpp
//
#include "MainFrame.h"
#include "PayloadFormat.h"
#include "parley/client/Url.h"
#include <wx/aboutdlg.h>
#include <wx/button.h>
#include <wx/combobox.h>
#include <wx/confbase.h>
#include <wx/display.h>
#include <wx/menu.h>
#include <wx/notebook.h>
#include <wx/sizer.h>
#include <wx/splitter.h>
#include <wx/statusbr.h>
#include <wx/textctrl.h>

namespace parley {
namespace gui {

namespace {

enum MenuId
{
	ID_EXPORT = wxID_HIGHEST + 1,
	ID_CLEAR_LOG,
	ID_CONNECT,
	ID_PING,
	ID_SEND_N
};

wxString rttText(double micros)
{
	if (micros < 1000) return wxString::Format(L"%.0f µs", micros);
	return wxString::Format("%.2f ms", micros / 1000);
}

} // namespace

MainFrame::MainFrame(wxConfigBase& config, const MainFrameOptions& options):
	wxFrame(nullptr, wxID_ANY, "Parley", wxDefaultPosition, wxSize(1280, 820)),
	_config(config),
	_settings(Settings::load(config)),
	_flushTimer(this),
	_tickTimer(this),
	_reconnectTimer(this),
	_disconnectTimer(this)
{
	buildMenu();
	CreateStatusBar(3);
	const int widths[] = {-1, 230, 260};
	GetStatusBar()->SetStatusWidths(3, widths);

	auto* root = new wxPanel(this, wxID_ANY);
	auto* rootSizer = new wxBoxSizer(wxVERTICAL);
	_bar = new ConnectionBar(root);
	rootSizer->Add(_bar, 0, wxEXPAND);

	_split = new wxSplitterWindow(root, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxSP_LIVE_UPDATE | wxSP_3DSASH);
	_split->SetMinimumPaneSize(300);
	_split->SetSashGravity(0.0);
	auto* left = new wxPanel(_split, wxID_ANY);
	auto* leftSizer = new wxBoxSizer(wxVERTICAL);
	_tabs = new wxNotebook(left, wxID_ANY);
	_composer = new ComposerPanel(_tabs);
	_loadPanel = new LoadPanel(_tabs);
	_hostPanel = new HostPanel(_tabs, options.hostExecutable);
	_tabs->AddPage(_composer, "Compose", true);
	_tabs->AddPage(_loadPanel, "Load run");
	_tabs->AddPage(_hostPanel, "Local host");
	leftSizer->Add(_tabs, 3, wxEXPAND | wxLEFT | wxTOP, 4);
	_live = new LivePanel(left);
	leftSizer->Add(_live, 2, wxEXPAND | wxLEFT, 4);
	left->SetSizer(leftSizer);
	_logPanel = new LogPanel(_split);
	_split->SplitVertically(left, _logPanel, _settings.mainSash);
	rootSizer->Add(_split, 1, wxEXPAND);
	root->SetSizer(rootSizer);

	_bar->load(_settings);
	_composer->load(_settings);
	_loadPanel->load(_settings);
	_hostPanel->load(_settings);

	// Geometry: restore size and position if they still fit on a display.
	SetMinSize(FromDIP(wxSize(1080, 700)));
	wxSize size(_settings.width, _settings.height);
	SetSize(size);
	if (_settings.x >= 0 && _settings.y >= 0 && wxDisplay::GetFromPoint(wxPoint(_settings.x + 40, _settings.y + 20)) != wxNOT_FOUND)
		Move(_settings.x, _settings.y);
	else
		Centre();
	if (_settings.maximized) Maximize();
	_logPanel->setDetailHeight(_settings.logSash);
	Layout();

	// Producer threads never touch a window: they wake the UI thread with CallAfter (thread-safe,
	// it queues an event), once per batch.
	_inbox.setWakeUp([this] { CallAfter(&MainFrame::onInboxWake); });
	_session = std::make_unique<client::Session>(_bridge);

	// Wiring.
	_bar->connectButton()->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { onConnectButton(); });
	_bar->urlBox()->Bind(wxEVT_TEXT_ENTER, [this](wxCommandEvent&) {
		if (_state == client::SessionState::Idle || _state == client::SessionState::Closed) connect();
	});
	_bar->pingButton()->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { onPing(); });
	_bar->closeButton()->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { onCloseButton(); });
	_composer->setOnSend([this] { onSend(); });
	auto status = [this](const std::string& text, bool error) { setStatus(text, error); };
	_composer->setOnStatus(status);
	_logPanel->setOnStatus(status);
	_hostPanel->setOnStatus([this](const std::string& text, bool error) {
		setStatus(text, error);
		if (error) logError(text);
		else logInfo(text);
	});
	_hostPanel->setOnConnect([this](const std::string& url) {
		_bar->setUrl(url);
		if (_state == client::SessionState::Open || _state == client::SessionState::Connecting)
		{
			_userClosing = true;
			_session->disconnect();
		}
		connect();
		_tabs->SetSelection(0);
	});
	_loadPanel->runButton()->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { startLoadRun(); });
	_loadPanel->cancelButton()->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { onCancelLoad(); });
	_live->resetButton()->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) {
		_counters = TrafficCounters{};
		_history.clear();
		_live->showCounters(_counters);
		_live->chart()->setSamples(_history.samples(TrafficHistory::Clock::now()));
	});
	Bind(wxEVT_TIMER, &MainFrame::onFlushTimer, this, _flushTimer.GetId());
	Bind(wxEVT_TIMER, &MainFrame::onTick, this, _tickTimer.GetId());
	Bind(wxEVT_TIMER, &MainFrame::onReconnectTimer, this, _reconnectTimer.GetId());
	Bind(wxEVT_TIMER, &MainFrame::onDisconnectTimer, this, _disconnectTimer.GetId());
	Bind(wxEVT_CLOSE_WINDOW, &MainFrame::onCloseWindow, this);

	applyState(client::SessionState::Idle, 0, {});
	_live->chart()->setSamples(_history.samples(TrafficHistory::Clock::now()));
	setStatus("Ready. Type a ws:// or wss:// URL and Connect, or start a local host in the Local host tab.", false);
	_tickTimer.Start(kTickIntervalMs);
}

MainFrame::~MainFrame()
{
	_flushTimer.Stop();
	_tickTimer.Stop();
	_reconnectTimer.Stop();
	_disconnectTimer.Stop();
	// Stop the producers before the inbox and the windows go.
	_loadWorker.cancel();
	_loadWorker.reap();
	_session.reset();
}

void MainFrame::buildMenu()
{
	auto* file = new wxMenu;
	file->Append(ID_EXPORT, L"&Export log…\tCtrl+E");
	file->Append(ID_CLEAR_LOG, "C&lear log\tCtrl+L");
	file->AppendSeparator();
	file->Append(wxID_EXIT, "&Quit\tCtrl+Q");
	auto* connection = new wxMenu;
	connection->Append(ID_CONNECT, "&Connect / Disconnect\tCtrl+K");
	connection->Append(ID_PING, "&Ping\tCtrl+P");
	connection->Append(ID_SEND_N, "Start &load run\tCtrl+R");
	auto* help = new wxMenu;
	help->Append(wxID_ABOUT, "&About Parley");
	auto* bar = new wxMenuBar;
	bar->Append(file, "&File");
	bar->Append(connection, "&Connection");
	bar->Append(help, "&Help");
	SetMenuBar(bar);

	Bind(wxEVT_MENU, [this](wxCommandEvent&) {
		wxCommandEvent click(wxEVT_BUTTON, _logPanel->exportButton()->GetId());
		click.SetEventObject(_logPanel->exportButton());
		_logPanel->exportButton()->GetEventHandler()->ProcessEvent(click);
	}, ID_EXPORT);
	Bind(wxEVT_MENU, [this](wxCommandEvent&) { _logPanel->clear(); }, ID_CLEAR_LOG);
	Bind(wxEVT_MENU, [this](wxCommandEvent&) { Close(); }, wxID_EXIT);
	Bind(wxEVT_MENU, [this](wxCommandEvent&) { onConnectButton(); }, ID_CONNECT);
	Bind(wxEVT_MENU, [this](wxCommandEvent&) { onPing(); }, ID_PING);
	Bind(wxEVT_MENU, [this](wxCommandEvent&) {
		_tabs->SetSelection(1);
		if (!_loadWorker.busy()) startLoadRun();
	}, ID_SEND_N);
	Bind(wxEVT_MENU, [this](wxCommandEvent&) {
		wxAboutDialogInfo info;
		info.SetName("Parley");
		info.SetDescription("A desktop client for the Parley WebSocket message engine:\n"
			"connect, talk, run the verified 10,000-message exchange, and watch the traffic.");
		wxAboutBox(info, this);
	}, wxID_ABOUT);
}

void MainFrame::connect()
{
	cancelReconnect();
	client::ConnectOptions options;
	std::string error;
	if (!_bar->connectOptions(options, error))
	{
		_bar->showState(_state, StateIndicator::Tone::Bad, wxString::FromUTF8("Not connected — " + error));
		setStatus(error, true);
		logError(error);
		++_counters.errors;
		return;
	}
	_userClosing = false;
	_lastError.clear();
	_lastReply = client::HandshakeReply{};
	_lastOptions = options;
	_bar->setUrl(options.url);
	_reconnectAttempt = 0;
	if (options.insecure && client::Url::parse(options.url).secure)
		logInfo("certificates are not checked: 'Accept self-signed / untrusted certificates' is on");
	_session->connect(options);
}

void MainFrame::onConnectButton()
{
	switch (_state)
	{
	case client::SessionState::Idle:
	case client::SessionState::Closed:
		connect();
		break;
	case client::SessionState::Connecting:
		_userClosing = true;
		cancelReconnect();
		_session->disconnect();
		setStatus("connecting cancelled", false);
		break;
	case client::SessionState::Open:
		_userClosing = true;
		cancelReconnect();
		_session->close(1000, {});
		_disconnectTimer.StartOnce(3000);
		break;
	case client::SessionState::Closing:
		_userClosing = true;
		_session->disconnect();
		break;
	}
}

void MainFrame::onSend()
{
	if (_state != client::SessionState::Open)
	{
		setStatus("not connected: click Connect first", true);
		return;
	}
	std::string payload, error;
	bool binary = false;
	if (!_composer->payload(payload, binary, error))
	{
		setStatus(error, true);
		return;
	}
	if (binary) _session->sendBinary(std::move(payload));
	else _session->sendText(std::move(payload));
}

void MainFrame::onPing()
{
	if (_state != client::SessionState::Open)
	{
		setStatus("not connected: click Connect first", true);
		return;
	}
	_bar->showRtt(wxString::FromUTF8("RTT …"));
	_session->ping();
}

void MainFrame::onCloseButton()
{
	if (_state != client::SessionState::Open)
	{
		setStatus("not connected", true);
		return;
	}
	std::uint16_t code = 1000;
	std::string reason, error;
	if (!_bar->closeRequest(code, reason, error))
	{
		setStatus(error, true);
		return;
	}
	_userClosing = true;
	cancelReconnect();
	_session->close(code, reason);
	_disconnectTimer.StartOnce(3000);
}

void MainFrame::startLoadRun()
{
	if (_loadWorker.busy())
	{
		setStatus("a load run is already running", true);
		return;
	}
	const std::string url = _bar->url();
	try
	{
		client::Url::parse(url);
	}
	catch (const std::exception& e)
	{
		setStatus(e.what(), true);
		logError(std::string("load run not started: ") + e.what());
		++_counters.errors;
		return;
	}
	// The same handshake as the connection bar's: subprotocols, Origin, token, headers, TLS.
	client::ConnectOptions connectOptions;
	std::string error;
	if (!_bar->connectOptions(connectOptions, error))
	{
		setStatus(error, true);
		logError("load run not started: " + error);
		++_counters.errors;
		return;
	}
	client::LoadOptions options = _loadPanel->options(url);
	static_cast<client::HandshakeOptions&>(options) = connectOptions;
	options.insecure = _bar->insecure();
	options.caFile = _bar->caFile();
	_loadRequested = options.count;
	_loadUrl = url;
	_lastProgress = client::LoadProgress{};
	_loadSawRtt = false;
	_loadWorker.start(options);
	_bar->setUrl(url);
	_loadPanel->showStarted(options.count);
	const std::string what = "load run: " + groupDigits(options.count) + " messages, window " + std::to_string(options.window) +
		(options.conns > 1 ? ", " + std::to_string(options.conns) + " connections" : std::string()) + " → " + url;
	logInfo(what);
	setStatus(what, false);
	updateStatusFields();
}

void MainFrame::onCancelLoad()
{
	if (!_loadWorker.busy()) return;
	_loadWorker.cancel();
	setStatus("cancelling the load run…", false);
}

void MainFrame::onInboxWake()
{
	const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - _lastFlush).count();
	if (elapsed >= kFlushIntervalMs)
		flushInbox();
	else if (!_flushTimer.IsRunning())
		_flushTimer.StartOnce(static_cast<int>(kFlushIntervalMs - elapsed));
}

void MainFrame::onFlushTimer(wxTimerEvent&)
{
	flushInbox();
}

void MainFrame::onTick(wxTimerEvent&)
{
	flushInbox();
	_live->chart()->setSamples(_history.samples(TrafficHistory::Clock::now()));
	_live->showCounters(_counters);
}

void MainFrame::flushInbox()
{
	InboxBatch batch = _inbox.take();
	const auto now = TrafficHistory::Clock::now();
	for (SessionEvent& e : batch.session)
	{
		switch (e.type)
		{
		case SessionEvent::Type::Frame:
			if (e.frame.direction == client::Direction::Sent) ++_counters.sent;
			else ++_counters.received;
			_counters.bytes += e.frame.payload.size();
			if (e.frame.kind == client::FrameKind::Text || e.frame.kind == client::FrameKind::Binary) _history.addMessages(1, now);
			_logPanel->append(LogEntry::fromFrame(e.frame));
			break;
		case SessionEvent::Type::State:
			applyState(e.state, e.closeCode, e.text);
			break;
		case SessionEvent::Type::Error:
			_lastError = e.text;
			++_counters.errors;
			logError(e.text);
			setStatus(e.text, true);
			break;
		case SessionEvent::Type::Handshake:
			_lastReply = e.reply;
			break;
		case SessionEvent::Type::PingRtt:
		{
			const double micros = static_cast<double>(e.rtt.count());
			_history.addRtt(micros, now);
			_bar->showRtt("RTT " + rttText(micros));
			logInfo("pong after " + rttText(micros).utf8_string());
			break;
		}
		}
	}
	for (const client::LoadProgress& p : batch.progress) applyLoadProgress(p);
	if (!batch.progress.empty()) _loadPanel->showProgress(batch.progress.back());
	if (batch.loadDone) applyLoadDone(*batch.loadDone);

	_logPanel->flush();
	if (!batch.empty()) _live->showCounters(_counters);
	_lastFlush = std::chrono::steady_clock::now();
}

void MainFrame::applyLoadProgress(const client::LoadProgress& p)
{
	const auto now = TrafficHistory::Clock::now();
	const std::uint64_t sent = p.sent >= _lastProgress.sent ? p.sent - _lastProgress.sent : 0;
	const std::uint64_t received = p.received >= _lastProgress.received ? p.received - _lastProgress.received : 0;
	_counters.sent += sent;
	_counters.received += received;
	_history.addMessages(sent + received, now);
	if (p.recentRttMicros > 0)
	{
		_history.addRtt(p.recentRttMicros, now);
		_loadSawRtt = true;
	}
	_lastProgress = p;
}

void MainFrame::applyLoadDone(const client::LoadSummary& s)
{
	client::LoadProgress last;
	last.sent = s.sent;
	last.received = s.received;
	// A run shorter than one progress report measured no round trip yet: chart its median.
	if (!_loadSawRtt && s.received > 0 && s.p50Micros > 0) last.recentRttMicros = s.p50Micros;
	applyLoadProgress(last);
	_loadWorker.reap();
	_loadPanel->showSummary(s);
	if (s.ok(_loadRequested))
	{
		const std::string text = "load run verified " + groupDigits(s.verified) + " of " + groupDigits(_loadRequested) + ": " + s.line();
		logInfo(text);
		setStatus(text, false);
	}
	else
	{
		std::string text = s.cancelled ? "load run cancelled" : "load run failed";
		if (!s.error.empty()) text += ": " + s.error;
		if (!s.firstMismatch.empty()) text += " (first mismatch: " + s.firstMismatch + ")";
		text += " — " + s.line();
		if (!s.cancelled) ++_counters.errors;
		logError(text);
		setStatus(text, !s.cancelled);
	}
	updateStatusFields();
}

void MainFrame::applyState(client::SessionState state, std::uint16_t closeCode, const std::string& reason)
{
	const client::SessionState previous = _state;
	_state = state;
	const wxString url = wxString::FromUTF8(_lastOptions.url);
	switch (state)
	{
	case client::SessionState::Idle:
		_bar->showState(state, StateIndicator::Tone::Idle, "Not connected");
		break;
	case client::SessionState::Connecting:
		_bar->showState(state, StateIndicator::Tone::Busy, wxString::FromUTF8("Connecting to ") + url + wxString::FromUTF8("…"));
		logInfo("connecting to " + _lastOptions.url + (_reconnectAttempt ? " (attempt " + std::to_string(_reconnectAttempt + 1) + ")" : ""));
		break;
	case client::SessionState::Open:
		_reconnectAttempt = 0;
		_lastError.clear();
	{
		const std::string& subprotocol = _lastReply.subprotocol;
		std::string text = "connected to " + _lastOptions.url + (subprotocol.empty() ? "" : ", subprotocol " + subprotocol);
		if (_lastReply.deflate) text += ", permessage-deflate";
		wxString shown = L"Open — " + url;
		if (!subprotocol.empty()) shown += L" · " + wxString::FromUTF8(subprotocol);
		if (_lastReply.deflate) shown += L" · deflate";
		_bar->showState(state, StateIndicator::Tone::Good, shown);
		logInfo(text);
		if (_lastReply.deflate)
			logInfo("permessage-deflate negotiated: " + _lastReply.extensions);
		else if (_lastReply.deflateOffered)
			logInfo("permessage-deflate not negotiated: the server declined, messages go uncompressed");
		setStatus(text, false);
	}
		break;
	case client::SessionState::Closing:
		_bar->showState(state, StateIndicator::Tone::Busy, wxString::FromUTF8("Closing…"));
		break;
	case client::SessionState::Closed:
	{
		_disconnectTimer.Stop();
		std::string text;
		bool bad = false;
		bool alreadyLogged = false;
		if (previous == client::SessionState::Connecting && !_userClosing)
		{
			// Never opened: say why it failed (the error row is in the log already).
			const std::string why = !_lastError.empty() ? _lastError : !reason.empty() ? reason : describeClose(closeCode, {});
			text = "Failed — " + why;
			bad = true;
			alreadyLogged = !_lastError.empty();
		}
		else if (closeCode)
		{
			text = "Closed — " + describeClose(closeCode, reason);
			bad = !(closeCode == 1000 || closeCode == 1001 || (_userClosing && closeCode != 1006));
		}
		else if (!_lastError.empty())
		{
			text = (previous == client::SessionState::Open ? "Connection lost — " : "Failed — ") + _lastError;
			bad = true;
		}
		else
		{
			text = reason.empty() ? "Closed" : "Closed — " + reason;
			bad = !_userClosing;
		}
		if (bad && !_lastError.empty() && text.find(_lastError) == std::string::npos) text += " (" + _lastError + ")";
		_bar->showState(state, bad ? StateIndicator::Tone::Bad : StateIndicator::Tone::Idle, wxString::FromUTF8(text));
		if (bad)
		{
			if (!alreadyLogged) logError(text);
			setStatus(text, true);
		}
		else
		{
			logInfo(text);
			setStatus(text, false);
		}
		if (!_userClosing && previous != client::SessionState::Closed) scheduleReconnect();
		break;
	}
	}
	_composer->setSendEnabled(state == client::SessionState::Open);
	updateStatusFields();
}

void MainFrame::scheduleReconnect()
{
	if (!_bar->autoReconnect() || _lastOptions.url.empty()) return;
	if (_reconnectAttempt >= _bar->reconnectAttempts())
	{
		logError("auto-reconnect gave up after " + std::to_string(_reconnectAttempt) + " attempts");
		setStatus("auto-reconnect gave up after " + std::to_string(_reconnectAttempt) + " attempts", true);
		_reconnectAttempt = 0;
		return;
	}
	++_reconnectAttempt;
	const int interval = _bar->reconnectIntervalMs();
	_reconnectPending = true;
	_reconnectTimer.StartOnce(interval);
	const std::string text = "reconnecting in " + wxString::Format("%.1f", interval / 1000.0).utf8_string() + " s (attempt " +
		std::to_string(_reconnectAttempt) + " of " + std::to_string(_bar->reconnectAttempts()) + ")";
	_bar->showState(_state, StateIndicator::Tone::Busy, _bar->indicator()->text() + wxString::FromUTF8(" — " + text));
	logInfo(text);
}

void MainFrame::cancelReconnect()
{
	_reconnectTimer.Stop();
	_reconnectPending = false;
}

void MainFrame::onReconnectTimer(wxTimerEvent&)
{
	if (!_reconnectPending) return;
	_reconnectPending = false;
	if (_state != client::SessionState::Closed && _state != client::SessionState::Idle) return;
	_lastError.clear();
	_session->connect(_lastOptions);
}

void MainFrame::onDisconnectTimer(wxTimerEvent&)
{
	// The peer did not answer our close within 3 s: drop the connection.
	if (_state == client::SessionState::Closing || _state == client::SessionState::Open)
	{
		logInfo("no close reply within 3 s: dropping the connection");
		_session->disconnect();
	}
}

void MainFrame::reportProblem(const std::string& text)
{
	++_counters.errors;
	logError(text);
	setStatus(text, true);
}

void MainFrame::setStatus(const std::string& text, bool error)
{
	wxString line = wxString::FromUTF8(text);
	if (error) line = wxString::FromUTF8("⚠ ") + line;
	SetStatusText(line, 0);
}

wxString MainFrame::statusText() const
{
	return GetStatusBar()->GetStatusText(0);
}

void MainFrame::logInfo(const std::string& text)
{
	_logPanel->append(LogEntry::local(LogKind::Info, text));
}

void MainFrame::logError(const std::string& text)
{
	_logPanel->append(LogEntry::local(LogKind::Error, text));
}

void MainFrame::updateStatusFields()
{
	wxString connection = wxString("Connection: ") + client::toString(_state);
	if (_state == client::SessionState::Open && (!_lastReply.subprotocol.empty() || _lastReply.deflate))
	{
		wxString details = wxString::FromUTF8(_lastReply.subprotocol);
		if (_lastReply.deflate) details += details.empty() ? "deflate" : ", deflate";
		connection += " (" + details + ")";
	}
	SetStatusText(connection, 1);
	SetStatusText(_loadWorker.busy() ? wxString::FromUTF8("Load run: running…") : wxString("Load run: idle"), 2);
}

void MainFrame::saveSettings()
{
	_bar->store(_settings);
	_composer->store(_settings);
	_loadPanel->store(_settings);
	_hostPanel->store(_settings);
	_settings.maximized = IsMaximized();
	if (!IsMaximized() && !IsIconized())
	{
		const wxRect r = GetRect();
		_settings.x = r.x;
		_settings.y = r.y;
		_settings.width = r.width;
		_settings.height = r.height;
	}
	_settings.mainSash = _split->GetSashPosition();
	_settings.logSash = _logPanel->detailHeight();
	_settings.save(_config);
}

void MainFrame::onCloseWindow(wxCloseEvent&)
{
	saveSettings();
	_flushTimer.Stop();
	_tickTimer.Stop();
	_loadWorker.cancel();
	_loadWorker.reap();
	_session.reset();
	_hostPanel->stop();
	Destroy();
}

} // namespace gui
} // namespace parley
