//
// MainFrame.h — parley-gui's window: connection bar on top; Compose / Load run / Local host tabs
// and the live chart on the left; the message log on the right; the status bar below. The frame
// owns the client session and the load worker; their news arrives through the EventInbox, whose
// wake-up is a CallAfter, and is applied on the UI thread at most ~30 times a second.
//
#ifndef PARLEY_GUI_MAINFRAME_INCLUDED
#define PARLEY_GUI_MAINFRAME_INCLUDED

#include "ConnectionBar.h"
#include "ComposerPanel.h"
#include "EventInbox.h"
#include "HostPanel.h"
#include "LivePanel.h"
#include "LoadPanel.h"
#include "LoadWorker.h"
#include "LogPanel.h"
#include "SessionBridge.h"
#include "Settings.h"
#include "TrafficHistory.h"
#include "parley/client/Session.h"
#include <chrono>
#include <memory>
#include <string>
#include <wx/frame.h>
#include <wx/timer.h>

class wxCloseEvent;
class wxConfigBase;
class wxNotebook;
class wxSplitterWindow;

namespace parley {
namespace gui {

struct MainFrameOptions
{
	std::string hostExecutable;  ///< "" = parley-host next to this program
};

class MainFrame : public wxFrame
{
public:
	/// At most ~30 UI updates per second however fast frames arrive.
	static constexpr int kFlushIntervalMs = 33;
	/// The chart and counters move on this tick even when nothing arrives.
	static constexpr int kTickIntervalMs = 250;

	/// Reads the settings from config (and writes them back when the window closes).
	MainFrame(wxConfigBase& config, const MainFrameOptions& options = {});
	~MainFrame() override;

	/// Applies everything the session and the load worker reported since the last call (the
	/// inbox's wake-up and the tick call it; tests may too).
	void flushInbox();
	/// Writes the current settings (URL, load options, saved messages, geometry...) to the config.
	void saveSettings();

	/// Connects to the URL in the bar. Problems (bad URL, bad header) go to the status bar and log.
	void connect();
	/// Starts a load run against the URL in the bar.
	void startLoadRun();

	/// Shows a problem reported from outside the session (wx's own log) in the status bar and log.
	void reportProblem(const std::string& text);

	/// Returns the state the UI last applied (not the network thread's state).
	client::SessionState sessionState() const noexcept { return _state; }
	/// Returns the status bar's message field.
	wxString statusText() const;
	/// The listener the session reports to (tests may feed it frames directly).
	client::SessionListener& sessionListener() noexcept { return _bridge; }

	ConnectionBar* bar() const noexcept { return _bar; }
	ComposerPanel* composer() const noexcept { return _composer; }
	LoadPanel* loadPanel() const noexcept { return _loadPanel; }
	HostPanel* hostPanel() const noexcept { return _hostPanel; }
	LogPanel* logPanel() const noexcept { return _logPanel; }
	LivePanel* livePanel() const noexcept { return _live; }
	wxNotebook* tabs() const noexcept { return _tabs; }
	bool loadRunning() const noexcept { return _loadWorker.busy(); }

private:
	void buildMenu();
	void onConnectButton();
	void onSend();
	void onPing();
	void onCloseButton();
	void onCancelLoad();
	void onInboxWake();
	void onFlushTimer(wxTimerEvent& event);
	void onTick(wxTimerEvent& event);
	void onReconnectTimer(wxTimerEvent& event);
	void onDisconnectTimer(wxTimerEvent& event);
	void onCloseWindow(wxCloseEvent& event);
	void applyState(client::SessionState state, std::uint16_t closeCode, const std::string& reason);
	void applyLoadProgress(const client::LoadProgress& progress);
	void applyLoadDone(const client::LoadSummary& summary);
	void scheduleReconnect();
	void cancelReconnect();
	void setStatus(const std::string& text, bool error);
	void logInfo(const std::string& text);
	void logError(const std::string& text);
	void updateStatusFields();

	wxConfigBase& _config;
	Settings _settings;
	// Declared before the session and the worker: they report into these until they are gone.
	EventInbox _inbox;
	SessionBridge _bridge{_inbox};
	std::unique_ptr<client::Session> _session;
	LoadWorker _loadWorker{_inbox};
	std::uint64_t _loadRequested = 0;
	std::string _loadUrl;
	client::LoadProgress _lastProgress;
	bool _loadSawRtt = false;

	client::SessionState _state = client::SessionState::Idle;
	client::ConnectOptions _lastOptions;
	std::string _lastError;       ///< the session's last error since connect()
	client::HandshakeReply _lastReply;  ///< the server's answer to the last opening handshake
	bool _userClosing = false;    ///< the user asked to close: no auto-reconnect
	int _reconnectAttempt = 0;
	bool _reconnectPending = false;

	TrafficHistory _history;
	TrafficCounters _counters;
	std::chrono::steady_clock::time_point _lastFlush{};

	wxTimer _flushTimer;  ///< one-shot: the rest of the 33 ms since the last flush
	wxTimer _tickTimer;   ///< 4 Hz: chart, counters, and a safety net for the inbox
	wxTimer _reconnectTimer;
	wxTimer _disconnectTimer;

	ConnectionBar* _bar = nullptr;
	wxSplitterWindow* _split = nullptr;
	wxNotebook* _tabs = nullptr;
	ComposerPanel* _composer = nullptr;
	LoadPanel* _loadPanel = nullptr;
	HostPanel* _hostPanel = nullptr;
	LivePanel* _live = nullptr;
	LogPanel* _logPanel = nullptr;
};

} // namespace gui
} // namespace parley

#endif
