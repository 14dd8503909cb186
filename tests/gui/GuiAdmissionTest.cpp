//
// GuiAdmissionTest.cpp — parley-gui's handshake options end to end against a real third-party
// server (python3-websockets, tests/client/py/admission_server.py): the subprotocols, Origin,
// token and headers typed in Options reach the server exactly, on connect and in load runs; the
// selected subprotocol and a refusal's status and reason show in the status bar.
//
#include "client/AdmissionServer.h"
#include "gui/GuiFixture.h"
#include <Poco/Path.h>
#include <cppunit/extensions/HelperMacros.h>
#include <cstdio>
#include <unistd.h>
#include <wx/button.h>
#include <wx/choice.h>
#include <wx/combobox.h>
#include <wx/notebook.h>
#include <wx/spinctrl.h>
#include <wx/statusbr.h>
#include <wx/textctrl.h>
#include <wx/tglbtn.h>

using namespace parley;
using namespace parley::test;
using gui::StateIndicator;
using std::chrono::seconds;

namespace {

constexpr auto kDeadline = seconds(20);

/// Opens the connection options with their toggle, as a click would.
void openOptions(gui::MainFrame* f)
{
	auto* toggle = f->bar()->optionsToggle();
	toggle->SetValue(true);
	wxCommandEvent event(wxEVT_TOGGLEBUTTON, toggle->GetId());
	event.SetEventObject(toggle);
	event.SetInt(1);
	toggle->GetEventHandler()->ProcessEvent(event);
	GuiEnvironment::pumpFor(std::chrono::milliseconds(50));
}

/// Clicks Connect and waits until this connection is open or has failed (a state left from an
/// earlier connection does not count: its "connecting to" log row must have come first).
void connectAndWait(gui::MainFrame* f, const std::string& url)
{
	const std::size_t attempts = rowsWhere(f, gui::LogListCtrl::Preview, "connecting to").size();
	f->bar()->urlBox()->SetValue(wxString::FromUTF8(url));
	click(f->bar()->connectButton());
	CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([f, attempts] {
		return rowsWhere(f, gui::LogListCtrl::Preview, "connecting to").size() > attempts
			&& (f->sessionState() == client::SessionState::Open || f->sessionState() == client::SessionState::Closed);
	}, kDeadline));
}

std::size_t has(const std::string& request, const std::string& name, const std::string& value)
{
	return AdmissionServer::count(request, AdmissionServer::header(name, value));
}

} // namespace

class GuiAdmissionTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(GuiAdmissionTest);
	CPPUNIT_TEST(testSubprotocolInStatusBar);
	CPPUNIT_TEST(testRefusalShowsStatusAndReason);
	CPPUNIT_TEST(testSubprotocolNotOffered);
	CPPUNIT_TEST(testLoadRunSendsTheHandshake);
	CPPUNIT_TEST(testBadOptionsNeverConnect);
	CPPUNIT_TEST(testOriginSavedTokenNot);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		GuiEnvironment::ensure();
		GuiEnvironment::takeAsserts();
	}

	void tearDown() override
	{
		const auto asserts = GuiEnvironment::takeAsserts();
		CPPUNIT_ASSERT_MESSAGE(asserts.empty() ? "" : "wx assertion failed: " + asserts.front(), asserts.empty());
	}

	void testSubprotocolInStatusBar()
	{
		AdmissionServer server({"--protocols", "chat.v1", "--origin", "https://app.example", "--token", "g-t0k"});
		FrameHandle f;
		openOptions(f.get());
		CPPUNIT_ASSERT(f->bar()->originBox()->IsShownOnScreen());
		CPPUNIT_ASSERT(f->bar()->tokenBox()->IsShownOnScreen());
		f->bar()->subprotocolBox()->SetValue("chat.v2, chat.v1");
		f->bar()->originBox()->SetValue("https://app.example");
		f->bar()->tokenBox()->SetValue("g-t0k");
		f->bar()->headersBox()->SetValue("X-Gui: yes\nX-Two: a b");
		connectAndWait(f.get(), server.url("/gui"));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->sessionState() == client::SessionState::Open);
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("subprotocol chat.v1"));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("chat.v1"));
		CPPUNIT_ASSERT_EQUAL(wxString("Connection: open (chat.v1)"), f->GetStatusBar()->GetStatusText(1));
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Sec-WebSocket-Protocol", "chat.v2, chat.v1"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Origin", "https://app.example"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "Authorization", "Bearer g-t0k"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-Gui", "yes"));
		CPPUNIT_ASSERT_EQUAL_MESSAGE(request, std::size_t(1), has(request, "X-Two", "a b"));
		// A connection without the offer shows none.
		click(f->bar()->connectButton());  // Disconnect
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return f->sessionState() == client::SessionState::Closed; }, kDeadline));
		f->bar()->subprotocolBox()->SetValue("");
		connectAndWait(f.get(), server.url("/gui"));
		CPPUNIT_ASSERT(f->sessionState() == client::SessionState::Open);
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), !f->statusText().Contains("subprotocol"));
		CPPUNIT_ASSERT_EQUAL(wxString("Connection: open"), f->GetStatusBar()->GetStatusText(1));
	}

	void testRefusalShowsStatusAndReason()
	{
		AdmissionServer server({"--origin", "https://app.example"});
		FrameHandle f;
		openOptions(f.get());
		f->bar()->originBox()->SetValue("https://evil.example");
		connectAndWait(f.get(), server.url("/gui"));
		CPPUNIT_ASSERT(f->sessionState() == client::SessionState::Closed);
		const wxString expected = "HTTP 403 Forbidden: origin https://evil.example not allowed";
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains(expected));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains(expected));
		CPPUNIT_ASSERT_EQUAL(int(StateIndicator::Tone::Bad), int(f->bar()->indicator()->tone()));

		AdmissionServer auth({"--token", "right"});
		f->bar()->originBox()->SetValue("");
		f->bar()->tokenBox()->SetValue("wrong");
		connectAndWait(f.get(), auth.url("/gui"));
		CPPUNIT_ASSERT(f->sessionState() == client::SessionState::Closed);
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(),
			f->statusText().Contains("HTTP 401 Unauthorized: invalid or missing token (WWW-Authenticate: Bearer realm="));
	}

	void testSubprotocolNotOffered()
	{
		AdmissionServer server({"--answer-protocol", "evil.v9"});
		FrameHandle f;
		openOptions(f.get());
		f->bar()->subprotocolBox()->SetValue("chat.v1");
		connectAndWait(f.get(), server.url("/gui"));
		CPPUNIT_ASSERT(f->sessionState() == client::SessionState::Closed);
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(),
			f->statusText().Contains("the server selected subprotocol 'evil.v9' that was not offered (offered: chat.v1)"));
	}

	void testLoadRunSendsTheHandshake()
	{
		AdmissionServer server({"--protocols", "chat.v1", "--token", "load"});
		FrameHandle f;
		openOptions(f.get());
		f->bar()->subprotocolBox()->SetValue("chat.v1");
		f->bar()->tokenBox()->SetValue("load");
		f->bar()->headersBox()->SetValue("X-Load: 1");
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(server.url("/load")));
		f->tabs()->SetSelection(1);
		f->loadPanel()->countSpin()->SetValue(200);
		f->loadPanel()->connsSpin()->SetValue(2);
		choose(f->loadPanel()->expectChoice(), 1);  // echo
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->loadPanel()->verdict().utf8_string(), f->loadPanel()->verdict().Contains("200 of 200 verified"));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("subprotocol=chat.v1"));
		const auto requests = server.waitRequests(2);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), requests.size());
		for (const std::string& r : requests)
		{
			CPPUNIT_ASSERT_EQUAL_MESSAGE(r, std::size_t(1), has(r, "Authorization", "Bearer load"));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(r, std::size_t(1), has(r, "X-Load", "1"));
		}
		// A refused load run says why in the status bar.
		f->bar()->tokenBox()->SetValue("nope");
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("HTTP 401 Unauthorized: invalid or missing token"));
	}

	void testBadOptionsNeverConnect()
	{
		AdmissionServer server;
		FrameHandle f;
		openOptions(f.get());
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(server.url("/gui")));
		f->bar()->subprotocolBox()->SetValue("chat.v1, chat\"v2");
		click(f->bar()->connectButton());
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("bad subprotocol 'chat\"v2'"));
		CPPUNIT_ASSERT_EQUAL(int(client::SessionState::Idle), int(f->sessionState()));
		f->bar()->subprotocolBox()->SetValue("");
		f->bar()->originBox()->SetValue("https://a.example");
		f->bar()->headersBox()->SetValue("Origin: https://b.example");
		click(f->bar()->connectButton());
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("header 'Origin' given next to the origin option"));
		f->bar()->headersBox()->SetValue("");
		f->bar()->tokenBox()->SetValue("a b");
		f->tabs()->SetSelection(1);
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(!f->loadRunning());
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("bad token"));
		GuiEnvironment::pumpFor(std::chrono::milliseconds(100));
		CPPUNIT_ASSERT(server.requests().empty());
	}

	void testOriginSavedTokenNot()
	{
		const std::string path = Poco::Path::temp() + "parley-gui-admission-" + std::to_string(::getpid()) + ".conf";
		std::remove(path.c_str());
		{
			FrameHandle f(path);
			f->bar()->subprotocolBox()->SetValue("chat.v2, chat.v1");
			f->bar()->originBox()->SetValue("https://app.example");
			f->bar()->tokenBox()->SetValue("secret-token");
			f.close();
		}
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT_EQUAL(wxString("chat.v2, chat.v1"), f->bar()->subprotocolBox()->GetValue());
			CPPUNIT_ASSERT_EQUAL(wxString("https://app.example"), f->bar()->originBox()->GetValue());
			CPPUNIT_ASSERT_EQUAL(wxString(), f->bar()->tokenBox()->GetValue());
		}
		std::FILE* file = std::fopen(path.c_str(), "r");
		CPPUNIT_ASSERT(file);
		std::string text;
		char buffer[4096];
		for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0;)
			text.append(buffer, n);
		std::fclose(file);
		CPPUNIT_ASSERT_MESSAGE(text, text.find("secret-token") == std::string::npos);
		std::remove(path.c_str());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(GuiAdmissionTest, "gui");
