//
// GuiFixture.cpp
//
#include "gui/GuiFixture.h"
#include "support/TestEnv.h"
#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Path.h>
#include <Poco/Process.h>
#include <Poco/UUIDGenerator.h>
#include <cppunit/TestAssert.h>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <wx/app.h>
#include <wx/button.h>
#include <wx/choice.h>
#include <wx/evtloop.h>
#include <wx/fileconf.h>
#include <wx/init.h>
#include <wx/log.h>
#include <wx/utils.h>

namespace parley {
namespace test {

namespace {

class TestApp : public wxApp
{
public:
	bool OnInit() override { return true; }
};

std::mutex assertMutex;
std::vector<std::string> assertsSeen;
wxGUIEventLoop* eventLoop = nullptr;

void recordAssert(const wxString& file, int line, const wxString& func, const wxString& cond, const wxString& msg)
{
	const std::string text = file.utf8_string() + ":" + std::to_string(line) + " " + func.utf8_string() + ": " +
		cond.utf8_string() + " " + msg.utf8_string();
	std::fprintf(stderr, "wx assertion: %s\n", text.c_str());
	std::lock_guard<std::mutex> lock(assertMutex);
	assertsSeen.push_back(text);
}

void pumpOnce()
{
	eventLoop->YieldFor(wxEVT_CATEGORY_ALL);
	wxTheApp->ProcessPendingEvents();
	wxTheApp->ProcessIdle();
}

std::string tempPath(const std::string& suffix)
{
	return Poco::Path::temp() + "parley-gui-test-" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString() + suffix;
}

} // namespace

void GuiEnvironment::ensure()
{
	static bool started = false;
	if (started) return;
	static int argc = 1;
	static char arg0[] = "parley-tests";
	static char* argv[] = {arg0, nullptr};
	wxApp::SetInstance(new TestApp);
	if (!wxEntryStart(argc, argv))
		throw std::runtime_error("wx could not start (no display?): run the gui tests under xvfb-run -a");
	wxTheApp->SetAppName("parley-gui-tests");
	if (!wxTheApp->CallOnInit()) throw std::runtime_error("wxApp::OnInit failed");
	wxSetAssertHandler(&recordAssert);
	delete wxLog::SetActiveTarget(new wxLogStderr);  // wx errors must not open modal boxes here either
	eventLoop = new wxGUIEventLoop;
	wxEventLoopBase::SetActive(eventLoop);
	started = true;
}

bool GuiEnvironment::pumpUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout)
{
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;)
	{
		pumpOnce();
		if (cond()) return true;
		if (std::chrono::steady_clock::now() >= deadline) return false;
		wxMilliSleep(5);
	}
}

void GuiEnvironment::pumpFor(std::chrono::milliseconds duration)
{
	pumpUntil([] { return false; }, duration);
}

std::vector<std::string> GuiEnvironment::takeAsserts()
{
	std::lock_guard<std::mutex> lock(assertMutex);
	std::vector<std::string> out;
	out.swap(assertsSeen);
	return out;
}

FrameHandle::FrameHandle(const std::string& configPath, const gui::MainFrameOptions& options):
	_configPath(configPath.empty() ? tempPath(".conf") : configPath),
	_ownsFile(configPath.empty())
{
	GuiEnvironment::ensure();
	_config = std::make_unique<wxFileConfig>("parley-gui-tests", wxEmptyString, wxString::FromUTF8(_configPath), wxEmptyString,
		wxCONFIG_USE_LOCAL_FILE);
	_frame = new gui::MainFrame(*_config, options);
	_frame->Bind(wxEVT_DESTROY, [this](wxWindowDestroyEvent& event) {
		if (event.GetEventObject() == _frame) _destroyed = true;
		event.Skip();
	});
	_frame->Show();
	GuiEnvironment::pumpFor(std::chrono::milliseconds(50));
}

FrameHandle::~FrameHandle()
{
	try
	{
		close();
	}
	catch (...)
	{
	}
	_config.reset();
	if (_ownsFile) std::remove(_configPath.c_str());
}

void FrameHandle::close()
{
	if (!_frame) return;
	_frame->Close(true);
	GuiEnvironment::pumpUntil([this] { return _destroyed; }, std::chrono::seconds(10));
	_frame = nullptr;
	if (_config) _config->Flush();
}

InProcessHost::InProcessHost()
{
	Poco::Logger& logger = Poco::Logger::get("parley-gui-test-host");
	logger.setLevel("error");
	HostConfig config;
	config.address = "127.0.0.1";
	config.port = 0;
	config.adminPort = 0;
	config.pluginDir = pluginDir();
	config.routes["/ws"] = {"random-suffix"};
	config.routes["/echo"] = {"echo"};
	config.routes["/boom"] = {"throwing"};
	config.engine.threads = 1;
	_registry = std::make_unique<PluginRegistry>(logger);
	_registry->setSettings(config.pluginSettings);
	_registry->loadDirectory(pluginDir());
	std::string why;
	if (!_registry->loadLibrary(testPluginDir() + "/throwing.so", &why))
		throw std::runtime_error("cannot load the throwing test plugin: " + why);
	_server = std::make_unique<host::HostServer>(config, *_registry, logger);
	_server->start();
}

InProcessHost::~InProcessHost()
{
	stop();
	_server.reset();
	_registry.reset();
}

std::string InProcessHost::url(const std::string& path) const
{
	return "ws://127.0.0.1:" + std::to_string(_server->port()) + path;
}

void InProcessHost::stop()
{
	if (_server) _server->stop();
}

unsigned short freePort()
{
	Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
	const unsigned short port = socket.address().port();
	socket.close();
	return port;
}

void click(wxButton* button)
{
	CPPUNIT_ASSERT_MESSAGE("button is not shown: " + button->GetLabel().utf8_string(), button->IsShownOnScreen());
	CPPUNIT_ASSERT_MESSAGE("button is disabled: " + button->GetLabel().utf8_string(), button->IsEnabled());
	wxCommandEvent event(wxEVT_BUTTON, button->GetId());
	event.SetEventObject(button);
	button->GetEventHandler()->ProcessEvent(event);
}

void choose(wxChoice* choice, int index)
{
	CPPUNIT_ASSERT(choice->IsEnabled());
	choice->SetSelection(index);
	wxCommandEvent event(wxEVT_CHOICE, choice->GetId());
	event.SetEventObject(choice);
	event.SetInt(index);
	event.SetString(choice->GetString(static_cast<unsigned>(index)));
	choice->GetEventHandler()->ProcessEvent(event);
}

void pressCtrlEnter(wxWindow* window)
{
	wxKeyEvent event(wxEVT_CHAR_HOOK);
	event.SetEventObject(window);
	event.m_keyCode = WXK_RETURN;
	event.m_controlDown = true;
	window->GetEventHandler()->ProcessEvent(event);
}

wxString cell(gui::MainFrame* frame, long row, long column)
{
	return frame->logPanel()->list()->GetItemText(row, static_cast<int>(column));
}

std::vector<long> rowsWhere(gui::MainFrame* frame, long column, const wxString& text)
{
	std::vector<long> rows;
	const long count = frame->logPanel()->list()->GetItemCount();
	for (long row = 0; row < count; ++row)
	{
		if (cell(frame, row, column).Contains(text)) rows.push_back(row);
	}
	return rows;
}

} // namespace test
} // namespace parley

// Under LeakSanitizer (PARLEY_SANITIZE builds, run with detect_leaks=1): wx, GTK, GLib,
// fontconfig and D-Bus keep process-wide caches until exit, and wx is never cleaned up here
// (wxEntryCleanup at exit would race the CppUnit runner's own teardown). Those are not leaks of
// ours; anything allocated only by Parley code is still reported. Unused without ASan.
extern "C" const char* __lsan_default_suppressions()
{
	return "leak:libwx_baseu\n"
		"leak:libwx_gtk3u\n"
		"leak:libgtk-3\n"
		"leak:libgdk-3\n"
		"leak:libglib-2.0\n"
		"leak:libgobject-2.0\n"
		"leak:libgio-2.0\n"
		"leak:libfontconfig\n"
		"leak:libpango\n"
		"leak:libcairo\n"
		"leak:libdbus-1\n"
		"leak:libX11\n";
}
