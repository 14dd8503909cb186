//
// GuiFixture.h — what the gui tests share: wx started once per process on $DISPLAY (the runner's
// main() is plain, so this sets up a minimal wxApp itself), an event pump with deadlines, helpers
// that drive real widgets through their own events, a throwaway settings file, and a Parley host
// run in-process on an ephemeral port.
//
#ifndef PARLEY_TESTS_GUI_GUIFIXTURE_INCLUDED
#define PARLEY_TESTS_GUI_GUIFIXTURE_INCLUDED

#include "MainFrame.h"
#include "parley/PluginRegistry.h"
#include "parley/host/HostServer.h"
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <wx/string.h>

class wxButton;
class wxChoice;
class wxFileConfig;
class wxWindow;

namespace parley {
namespace test {

/// wx for the whole test process.
class GuiEnvironment
{
public:
	/// Starts wx the first time (throws std::runtime_error if there is no display: run the gui
	/// group under xvfb-run).
	static void ensure();
	/// Processes events (timers, CallAfter, idle, pending deletes) until cond() holds or the
	/// timeout passes. Returns cond()'s last value.
	static bool pumpUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout);
	/// Processes events for the given time.
	static void pumpFor(std::chrono::milliseconds duration);
	/// Returns and forgets the wx assertion failures seen since the last call (a wx assert
	/// would otherwise open a modal dialog and hang the run).
	static std::vector<std::string> takeAsserts();
};

/// A MainFrame on a throwaway settings file, closed and destroyed by the destructor.
class FrameHandle
{
public:
	/// configPath "" = a new temporary file (deleted at the end); otherwise that file (kept).
	/// options: the frame's (e.g. another program as the local host).
	explicit FrameHandle(const std::string& configPath = {}, const gui::MainFrameOptions& options = {});
	~FrameHandle();

	gui::MainFrame* operator->() const { return _frame; }
	gui::MainFrame* get() const { return _frame; }
	const std::string& configPath() const { return _configPath; }
	/// Closes the window like the user would (settings saved) and waits until it is destroyed.
	void close();

private:
	std::string _configPath;
	bool _ownsFile;
	std::unique_ptr<wxFileConfig> _config;
	gui::MainFrame* _frame = nullptr;
	bool _destroyed = false;
};

/// A Parley host in this process on 127.0.0.1 and an ephemeral port: /ws random-suffix,
/// /echo echo, /boom the test plugin "throwing" (a message "boom" makes the host close 1011).
class InProcessHost
{
public:
	InProcessHost();
	~InProcessHost();
	/// Returns ws://127.0.0.1:<port><path>.
	std::string url(const std::string& path = "/ws") const;
	/// Stops the host (connections get 1001).
	void stop();

private:
	std::unique_ptr<PluginRegistry> _registry;
	std::unique_ptr<host::HostServer> _server;
};

/// Returns a port on 127.0.0.1 that nothing listens on (bound once, then released).
unsigned short freePort();

/// A real click: asserts the button is shown and enabled, then sends it wxEVT_BUTTON.
void click(wxButton* button);
/// Picks item index of a choice and sends wxEVT_CHOICE, as a user's pick would.
void choose(wxChoice* choice, int index);
/// Sends Ctrl+Enter to a window (wxEVT_CHAR_HOOK, which goes up to its parents).
void pressCtrlEnter(wxWindow* window);
/// Returns the text of a cell of the message log list, through the list control.
wxString cell(gui::MainFrame* frame, long row, long column);
/// Returns the rows of the message log list whose cell in column contains text.
std::vector<long> rowsWhere(gui::MainFrame* frame, long column, const wxString& text);

} // namespace test
} // namespace parley

#endif
