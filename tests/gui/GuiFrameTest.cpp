//
// GuiFrameTest.cpp — the real parley-gui window driven through its own widgets against a host
// run by the test: connect, send, see the reply, ping, filter, close; the 10,000-message load
// run; refused connections, bad input, a host that closes with an error or dies mid-run; a log of
// 100,000 rows; settings that survive a restart; the local host panel.
//
#include "client/TlsTestServer.h"
#include "gui/GuiFixture.h"
#include "support/TestEnv.h"
#include <Poco/Path.h>
#include <cppunit/extensions/HelperMacros.h>
#include <cstdio>
#include <unistd.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/choice.h>
#include <wx/combobox.h>
#include <wx/filepicker.h>
#include <wx/gauge.h>
#include <wx/listbox.h>
#include <wx/notebook.h>
#include <wx/radiobut.h>
#include <wx/spinctrl.h>
#include <wx/srchctrl.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>
#include <wx/tglbtn.h>

using namespace parley;
using namespace parley::test;
using gui::LogListCtrl;
using gui::StateIndicator;
using parley::test::TestCertificate;
using parley::test::TlsEchoServer;
using std::chrono::seconds;

namespace {

constexpr auto kDeadline = seconds(20);

bool isOpen(gui::MainFrame* f)
{
	return f->sessionState() == client::SessionState::Open;
}

bool isClosed(gui::MainFrame* f)
{
	return f->sessionState() == client::SessionState::Closed;
}

void connectTo(gui::MainFrame* f, const std::string& url)
{
	f->bar()->urlBox()->SetValue(wxString::FromUTF8(url));
	click(f->bar()->connectButton());
	CPPUNIT_ASSERT_MESSAGE("did not connect to " + url + ": " + f->bar()->indicator()->text().utf8_string(),
		GuiEnvironment::pumpUntil([f] { return isOpen(f); }, kDeadline));
}

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

void sendText(gui::MainFrame* f, const wxString& text)
{
	f->composer()->editor()->SetValue(text);
	click(f->composer()->sendButton());
}

} // namespace

class GuiFrameTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(GuiFrameTest);
	CPPUNIT_TEST(testConnectSendReceiveFilterDisconnect);
	CPPUNIT_TEST(testLoadRunVerifiesTenThousand);
	CPPUNIT_TEST(testRefusedConnectionShowsError);
	CPPUNIT_TEST(testBadUrlAndBadInputNeverConnect);
	CPPUNIT_TEST(testHostClosingWithErrorCode);
	CPPUNIT_TEST(testCloseWithChosenCodeAndReason);
	CPPUNIT_TEST(testHostDiesMidRun);
	CPPUNIT_TEST(testCancelLoadRun);
	CPPUNIT_TEST(testBinaryMessageAndHexDetails);
	CPPUNIT_TEST(testHundredThousandRows);
	CPPUNIT_TEST(testExportWritesShownRows);
	CPPUNIT_TEST(testSettingsSurviveRestart);
	CPPUNIT_TEST(testAutoReconnect);
	CPPUNIT_TEST(testLocalHostPanel);
	CPPUNIT_TEST(testTlsOptionsSavedAndUsed);
	CPPUNIT_TEST(testLocalHostAnnouncingWss);
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

	void testConnectSendReceiveFilterDisconnect()
	{
		InProcessHost host;
		FrameHandle f;
		CPPUNIT_ASSERT(!f->composer()->sendButton()->IsEnabled());  // nothing to send on yet
		connectTo(f.get(), host.url());
		CPPUNIT_ASSERT_EQUAL(int(StateIndicator::Tone::Good), int(f->bar()->indicator()->tone()));
		CPPUNIT_ASSERT(f->bar()->indicator()->text().Contains("Open"));
		CPPUNIT_ASSERT_EQUAL(wxString("Disconnect"), f->bar()->connectButton()->GetLabel());

		// Send with the button: the sent row and the host's reply ("hello gui <number>") appear.
		sendText(f.get(), "hello gui");
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Direction, "received").empty();
		}, kDeadline));
		const auto sent = rowsWhere(f.get(), LogListCtrl::Direction, "sent");
		const auto received = rowsWhere(f.get(), LogListCtrl::Direction, "received");
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), sent.size());
		CPPUNIT_ASSERT_EQUAL(wxString("hello gui"), cell(f.get(), sent[0], LogListCtrl::Preview));
		CPPUNIT_ASSERT_EQUAL(wxString("text"), cell(f.get(), received[0], LogListCtrl::Kind));
		const wxString reply = cell(f.get(), received[0], LogListCtrl::Preview);
		CPPUNIT_ASSERT_MESSAGE(reply.utf8_string(), reply.StartsWith("hello gui "));
		long suffix = -1;
		CPPUNIT_ASSERT(reply.Mid(10).ToLong(&suffix) && suffix >= 0 && suffix <= 999999);
		CPPUNIT_ASSERT_EQUAL(wxString::Format("%zu", reply.utf8_string().size()), cell(f.get(), received[0], LogListCtrl::Length));

		// Selecting the reply shows its whole payload below the list.
		auto* list = f->logPanel()->list();
		list->SetItemState(received[0], wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED, wxLIST_STATE_SELECTED | wxLIST_STATE_FOCUSED);
		GuiEnvironment::pumpFor(std::chrono::milliseconds(50));
		CPPUNIT_ASSERT_EQUAL(reply, f->logPanel()->detail()->GetValue());
		// Filtering keeps the selected message selected (at its new row) and shown.
		choose(f->logPanel()->filterChoice(), 2);
		CPPUNIT_ASSERT_EQUAL(0L, list->selectedRow());
		CPPUNIT_ASSERT_EQUAL(reply, cell(f.get(), 0, LogListCtrl::Preview));
		CPPUNIT_ASSERT_EQUAL(reply, f->logPanel()->detail()->GetValue());
		choose(f->logPanel()->filterChoice(), 1);  // now it is filtered out: no selection, no details
		CPPUNIT_ASSERT_EQUAL(-1L, list->selectedRow());
		CPPUNIT_ASSERT(f->logPanel()->detail()->GetValue().empty());
		choose(f->logPanel()->filterChoice(), 0);

		// Ctrl+Enter in the editor sends too.
		f->composer()->editor()->SetValue("second");
		pressCtrlEnter(f->composer()->editor());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return rowsWhere(f.get(), LogListCtrl::Preview, "second").size() == 2;
		}, kDeadline));

		// Ping: the pong arrives and the round-trip time is shown.
		click(f->bar()->pingButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Kind, "pong").empty() && f->bar()->rttLabel()->GetLabel().Contains("s");
		}, kDeadline));
		const wxString rtt = f->bar()->rttLabel()->GetLabel();  // "RTT 83 µs" or "RTT 1.20 ms"
		CPPUNIT_ASSERT_MESSAGE(rtt.utf8_string(), rtt.StartsWith("RTT ") && wxIsdigit(rtt[4]) && rtt.EndsWith("s"));

		// Filters: Sent shows only our two messages and the ping; Control only ping and pong;
		// the search box narrows by payload.
		const long all = list->GetItemCount();
		choose(f->logPanel()->filterChoice(), 1);
		CPPUNIT_ASSERT_EQUAL(3L, long(list->GetItemCount()));
		for (long row = 0; row < 3; ++row) CPPUNIT_ASSERT(cell(f.get(), row, LogListCtrl::Direction).Contains("sent"));
		choose(f->logPanel()->filterChoice(), 3);
		CPPUNIT_ASSERT_EQUAL(2L, long(list->GetItemCount()));
		CPPUNIT_ASSERT_EQUAL(wxString("ping"), cell(f.get(), 0, LogListCtrl::Kind));
		CPPUNIT_ASSERT_EQUAL(wxString("pong"), cell(f.get(), 1, LogListCtrl::Kind));
		choose(f->logPanel()->filterChoice(), 2);
		f->logPanel()->searchBox()->SetValue("SECOND");  // case-insensitive
		CPPUNIT_ASSERT_EQUAL(1L, long(list->GetItemCount()));
		CPPUNIT_ASSERT(cell(f.get(), 0, LogListCtrl::Preview).StartsWith("second "));
		f->logPanel()->searchBox()->SetValue("");
		choose(f->logPanel()->filterChoice(), 0);
		CPPUNIT_ASSERT_EQUAL(all, long(list->GetItemCount()));

		// Disconnect: a clean close (1000), the button says Connect again.
		click(f->bar()->connectButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("1000"));
		CPPUNIT_ASSERT(f->bar()->indicator()->tone() != StateIndicator::Tone::Bad);
		CPPUNIT_ASSERT_EQUAL(wxString("Connect"), f->bar()->connectButton()->GetLabel());
		CPPUNIT_ASSERT(!f->composer()->sendButton()->IsEnabled());
		CPPUNIT_ASSERT(!rowsWhere(f.get(), LogListCtrl::Kind, "close").empty());

		// The status bar and counters saw it all.
		CPPUNIT_ASSERT(f->livePanel()->countersText().Contains("Errors 0"));
	}

	void testLoadRunVerifiesTenThousand()
	{
		InProcessHost host;
		FrameHandle f;
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(host.url()));
		f->tabs()->SetSelection(1);
		auto* load = f->loadPanel();
		CPPUNIT_ASSERT_EQUAL(10000, load->countSpin()->GetValue());  // the default
		CPPUNIT_ASSERT_EQUAL(wxString("Send 10,000"), load->runButton()->GetLabel());
		load->windowSpin()->SetValue(64);
		click(load->runButton());
		CPPUNIT_ASSERT(f->loadRunning());
		CPPUNIT_ASSERT(load->cancelButton()->IsEnabled());
		CPPUNIT_ASSERT(!load->runButton()->IsEnabled());
		CPPUNIT_ASSERT_MESSAGE(load->verdict().utf8_string(),
			GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, seconds(180)));
		CPPUNIT_ASSERT_MESSAGE(load->verdict().utf8_string(), load->verdict().Contains("10,000 of 10,000 verified"));
		CPPUNIT_ASSERT_EQUAL(wxString("10,000"), load->value(gui::LoadPanel::Sent));
		CPPUNIT_ASSERT_EQUAL(wxString("10,000"), load->value(gui::LoadPanel::Received));
		CPPUNIT_ASSERT_EQUAL(wxString("10,000"), load->value(gui::LoadPanel::Verified));
		CPPUNIT_ASSERT_EQUAL(wxString("0"), load->value(gui::LoadPanel::Mismatched));
		CPPUNIT_ASSERT_EQUAL(wxString("0"), load->value(gui::LoadPanel::Missing));
		CPPUNIT_ASSERT(load->value(gui::LoadPanel::P99) != wxString::FromUTF8("—"));
		CPPUNIT_ASSERT_EQUAL(1000, load->gauge()->GetValue());
		CPPUNIT_ASSERT(load->runButton()->IsEnabled());
		CPPUNIT_ASSERT(!load->cancelButton()->IsEnabled());
		// The live view counted the traffic and the log has the summary line.
		GuiEnvironment::pumpFor(std::chrono::milliseconds(300));
		CPPUNIT_ASSERT_MESSAGE(f->livePanel()->countersText().utf8_string(), f->livePanel()->countersText().Contains("Sent 10,000"));
		CPPUNIT_ASSERT(!rowsWhere(f.get(), LogListCtrl::Preview, "verified 10,000 of 10,000").empty());
		double chartTotal = 0;
		// The chart's samples end at the last whole second; wait for the run's seconds to be in.
		GuiEnvironment::pumpUntil([&] {
			chartTotal = 0;
			for (const auto& s : f->livePanel()->chart()->samples()) chartTotal += s.messages;
			return chartTotal >= 20000;
		}, seconds(5));
		CPPUNIT_ASSERT_EQUAL(20000.0, chartTotal);
	}

	void testRefusedConnectionShowsError()
	{
		FrameHandle f;
		const std::string url = "ws://127.0.0.1:" + std::to_string(freePort()) + "/ws";
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(url));
		click(f->bar()->connectButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return isClosed(f.get()) && f->bar()->indicator()->tone() == StateIndicator::Tone::Bad;
		}, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Lower().Contains("refused"));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Lower().Contains("refused"));
		CPPUNIT_ASSERT(!rowsWhere(f.get(), LogListCtrl::Kind, "error").empty());
		CPPUNIT_ASSERT_EQUAL(wxString("Connect"), f->bar()->connectButton()->GetLabel());
		CPPUNIT_ASSERT(f->IsShown());  // and no dialog: the asserts check in tearDown found none
		// A load run against the same URL fails the same way, in the result panel.
		f->tabs()->SetSelection(1);
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->loadPanel()->verdict().utf8_string(), f->loadPanel()->verdict().Contains("Stopped"));
		CPPUNIT_ASSERT(f->statusText().Lower().Contains("refused"));
	}

	void testBadUrlAndBadInputNeverConnect()
	{
		FrameHandle f;
		f->bar()->urlBox()->SetValue("http://127.0.0.1:1/ws");
		click(f->bar()->connectButton());
		GuiEnvironment::pumpFor(std::chrono::milliseconds(100));
		CPPUNIT_ASSERT_EQUAL(int(client::SessionState::Idle), int(f->sessionState()));
		CPPUNIT_ASSERT_EQUAL(int(StateIndicator::Tone::Bad), int(f->bar()->indicator()->tone()));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("bad URL"));
		CPPUNIT_ASSERT(!rowsWhere(f.get(), LogListCtrl::Preview, "bad URL").empty());

		// A header line without a colon is refused before connecting.
		f->bar()->urlBox()->SetValue("ws://127.0.0.1:1/ws");
		f->bar()->headersBox()->SetValue("X-Good: yes\nno colon here");
		click(f->bar()->connectButton());
		CPPUNIT_ASSERT(f->statusText().Contains("header line 2"));
		CPPUNIT_ASSERT_EQUAL(int(client::SessionState::Idle), int(f->sessionState()));

		// An empty URL and a load run with a bad URL: messages, no run.
		f->bar()->urlBox()->SetValue("");
		click(f->bar()->connectButton());
		CPPUNIT_ASSERT(f->statusText().Contains("URL"));
		f->bar()->urlBox()->SetValue("ws://");
		f->tabs()->SetSelection(1);
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(!f->loadRunning());
		CPPUNIT_ASSERT(f->statusText().Contains("bad URL"));
	}

	void testHostClosingWithErrorCode()
	{
		InProcessHost host;
		FrameHandle f;
		connectTo(f.get(), host.url("/boom"));
		sendText(f.get(), "boom");
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("1011"));
		CPPUNIT_ASSERT_EQUAL(int(StateIndicator::Tone::Bad), int(f->bar()->indicator()->tone()));
		CPPUNIT_ASSERT(f->statusText().Contains("1011"));
		const auto closes = rowsWhere(f.get(), LogListCtrl::Kind, "close");
		CPPUNIT_ASSERT(!closes.empty());
		bool receivedClose = false;
		for (long row : closes)
			receivedClose = receivedClose || (cell(f.get(), row, LogListCtrl::Direction).Contains("received") &&
				cell(f.get(), row, LogListCtrl::Preview).StartsWith("1011"));
		CPPUNIT_ASSERT(receivedClose);
	}

	void testCloseWithChosenCodeAndReason()
	{
		InProcessHost host;
		FrameHandle f;
		// Open the options with their toggle; send extra headers (subprotocols: a server that
		// selects one, in testSubprotocolInStatusBar).
		auto* toggle = f->bar()->optionsToggle();
		CPPUNIT_ASSERT(!f->bar()->subprotocolBox()->IsShownOnScreen());
		toggle->SetValue(true);
		wxCommandEvent event(wxEVT_TOGGLEBUTTON, toggle->GetId());
		event.SetEventObject(toggle);
		event.SetInt(1);
		toggle->GetEventHandler()->ProcessEvent(event);
		GuiEnvironment::pumpFor(std::chrono::milliseconds(50));
		CPPUNIT_ASSERT(f->bar()->subprotocolBox()->IsShownOnScreen());
		CPPUNIT_ASSERT(f->bar()->subprotocolBox()->GetSize().y > 0);
		f->bar()->headersBox()->SetValue("X-Client: parley-gui tests\nAuthorization: Bearer abc");
		connectTo(f.get(), host.url());
		// A code a client may not send is refused with a message; the connection stays open.
		f->bar()->closeCodeBox()->SetValue("1006");
		click(f->bar()->closeButton());
		CPPUNIT_ASSERT(f->statusText().Contains("1006"));
		CPPUNIT_ASSERT(isOpen(f.get()));
		f->bar()->closeCodeBox()->SetValue("4000 Application");
		f->bar()->closeReasonBox()->SetValue("done here");
		click(f->bar()->closeButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
		bool sentClose = false;
		for (long row : rowsWhere(f.get(), LogListCtrl::Kind, "close"))
			sentClose = sentClose || (cell(f.get(), row, LogListCtrl::Direction).Contains("sent") &&
				cell(f.get(), row, LogListCtrl::Preview) == "4000: done here");
		CPPUNIT_ASSERT(sentClose);
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("4000"));
	}

	void testHostDiesMidRun()
	{
		auto host = std::make_unique<InProcessHost>();
		FrameHandle f;
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(host->url()));
		f->tabs()->SetSelection(1);
		f->loadPanel()->countSpin()->SetValue(50000000);
		f->loadPanel()->windowSpin()->SetValue(8);
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return f->loadPanel()->value(gui::LoadPanel::Verified) != wxString::FromUTF8("—") &&
				f->loadPanel()->value(gui::LoadPanel::Verified) != "0";
		}, kDeadline));
		host.reset();  // the host goes away mid-run
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, seconds(60)));
		CPPUNIT_ASSERT_MESSAGE(f->loadPanel()->verdict().utf8_string(), f->loadPanel()->verdict().Contains("Stopped"));
		CPPUNIT_ASSERT(f->statusText().Contains("load run failed"));
		CPPUNIT_ASSERT(!rowsWhere(f.get(), LogListCtrl::Kind, "error").empty());
		CPPUNIT_ASSERT(f->loadPanel()->runButton()->IsEnabled());
	}

	void testCancelLoadRun()
	{
		InProcessHost host;
		FrameHandle f;
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(host.url()));
		f->tabs()->SetSelection(1);
		f->loadPanel()->countSpin()->SetValue(50000000);
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return f->loadPanel()->value(gui::LoadPanel::Sent) != wxString::FromUTF8("—");
		}, kDeadline));
		click(f->loadPanel()->cancelButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->loadPanel()->verdict().utf8_string(), f->loadPanel()->verdict().Contains("Cancelled"));
	}

	void testBinaryMessageAndHexDetails()
	{
		InProcessHost host;
		FrameHandle f;
		connectTo(f.get(), host.url("/echo"));
		auto* composer = f->composer();
		// Bad hex: a message, nothing sent.
		composer->binaryRadio()->SetValue(true);
		composer->setBinaryMode(true);
		composer->editor()->SetValue("01 0g");
		click(composer->sendButton());
		CPPUNIT_ASSERT(f->statusText().Contains("not a hex digit"));
		composer->editor()->SetValue("00 01 fe ff 41");
		click(composer->sendButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return rowsWhere(f.get(), LogListCtrl::Kind, "binary").size() == 2;
		}, kDeadline));
		const auto rows = rowsWhere(f.get(), LogListCtrl::Kind, "binary");
		CPPUNIT_ASSERT_EQUAL(wxString("5"), cell(f.get(), rows[1], LogListCtrl::Length));
		CPPUNIT_ASSERT_EQUAL(wxString("00 01 fe ff 41"), cell(f.get(), rows[1], LogListCtrl::Preview));
		f->logPanel()->list()->SetItemState(rows[1], wxLIST_STATE_SELECTED, wxLIST_STATE_SELECTED);
		GuiEnvironment::pumpFor(std::chrono::milliseconds(50));
		CPPUNIT_ASSERT_MESSAGE(f->logPanel()->detail()->GetValue().utf8_string(),
			f->logPanel()->detail()->GetValue().StartsWith("00000000  00 01 fe ff 41"));
		// Saved messages: save, load back after editing, delete.
		composer->saveNameBox()->SetValue("five bytes");
		click(composer->saveButton());
		CPPUNIT_ASSERT_EQUAL(1u, composer->savedList()->GetCount());
		composer->setBinaryMode(false);
		composer->editor()->SetValue("something else");
		composer->loadSaved(0);
		CPPUNIT_ASSERT(composer->binaryMode());
		CPPUNIT_ASSERT_EQUAL(wxString("00 01 fe ff 41"), composer->editor()->GetValue());
		composer->savedList()->SetSelection(0);
		click(composer->deleteButton());
		CPPUNIT_ASSERT_EQUAL(0u, composer->savedList()->GetCount());
	}

	void testHundredThousandRows()
	{
		FrameHandle f;
		// The session's listener is fed from another thread, like the network thread does.
		std::thread network([&] {
			client::SessionListener& listener = f->sessionListener();
			for (int i = 0; i < 50000; ++i)
			{
				client::FrameRecord frame;
				frame.time = std::chrono::system_clock::now();
				frame.direction = client::Direction::Sent;
				frame.payload = "message #" + std::to_string(i);
				listener.onFrame(frame);
				frame.direction = client::Direction::Received;
				frame.payload += " 12345";
				listener.onFrame(frame);
			}
		});
		network.join();
		auto* list = f->logPanel()->list();
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return list->GetItemCount() >= 100000; }, seconds(60)));
		CPPUNIT_ASSERT_EQUAL(100000L, long(list->GetItemCount()));
		CPPUNIT_ASSERT_EQUAL(wxString("message #49999 12345"), cell(f.get(), 99999, LogListCtrl::Preview));
		// Follow keeps the newest row in view.
		GuiEnvironment::pumpFor(std::chrono::milliseconds(100));
		CPPUNIT_ASSERT(list->GetTopItem() + list->GetCountPerPage() >= 99999);
		choose(f->logPanel()->filterChoice(), 2);
		CPPUNIT_ASSERT_EQUAL(50000L, long(list->GetItemCount()));
		f->logPanel()->searchBox()->SetValue("#4242 ");
		CPPUNIT_ASSERT_EQUAL(1L, long(list->GetItemCount()));
		CPPUNIT_ASSERT_EQUAL(wxString("message #4242 12345"), cell(f.get(), 0, LogListCtrl::Preview));
		f->logPanel()->searchBox()->SetValue("");
		choose(f->logPanel()->filterChoice(), 0);
		CPPUNIT_ASSERT_EQUAL(100000L, long(list->GetItemCount()));
		click(f->logPanel()->clearButton());
		CPPUNIT_ASSERT_EQUAL(0L, long(list->GetItemCount()));
	}

	void testExportWritesShownRows()
	{
		InProcessHost host;
		FrameHandle f;
		connectTo(f.get(), host.url("/echo"));
		sendText(f.get(), "line \"one\"\nand two");
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Direction, "received").empty();
		}, kDeadline));
		choose(f->logPanel()->filterChoice(), 2);
		const std::string path = Poco::Path::temp() + "parley-gui-export-" + std::to_string(::getpid()) + ".jsonl";
		CPPUNIT_ASSERT(f->logPanel()->exportTo(path));
		std::ifstream in(path);
		std::stringstream content;
		content << in.rdbuf();
		std::remove(path.c_str());
		CPPUNIT_ASSERT_MESSAGE(content.str(), content.str().find("\"direction\":\"received\",\"kind\":\"text\",\"length\":18,\"text\":\"line \\\"one\\\"\\nand two\"}\n") != std::string::npos);
		CPPUNIT_ASSERT(content.str().find("\"sent\"") == std::string::npos);
		CPPUNIT_ASSERT(f->statusText().Contains("exported 1 rows"));
		CPPUNIT_ASSERT(!f->logPanel()->exportTo("/nonexistent-dir/x.jsonl"));
		CPPUNIT_ASSERT(f->statusText().Contains("cannot write"));
	}

	void testSettingsSurviveRestart()
	{
		const std::string path = Poco::Path::temp() + "parley-gui-settings-" + std::to_string(::getpid()) + ".conf";
		std::remove(path.c_str());
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT_EQUAL(wxString("ws://127.0.0.1:8080/ws"), f->bar()->urlBox()->GetValue());  // the default
			f->bar()->urlBox()->SetValue("ws://127.0.0.1:9/remembered");
			f->loadPanel()->countSpin()->SetValue(1234);
			f->loadPanel()->windowSpin()->SetValue(7);
			f->composer()->editor()->SetValue("saved one");
			f->composer()->saveNameBox()->SetValue("greeting");
			click(f->composer()->saveButton());
			f->bar()->autoReconnectBox()->SetValue(true);
			f->SetSize(1100, 700);
			f.close();
		}
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT_EQUAL(wxString("ws://127.0.0.1:9/remembered"), f->bar()->urlBox()->GetValue());
			CPPUNIT_ASSERT_EQUAL(1234, f->loadPanel()->countSpin()->GetValue());
			CPPUNIT_ASSERT_EQUAL(7, f->loadPanel()->windowSpin()->GetValue());
			CPPUNIT_ASSERT_EQUAL(wxString("Send 1,234"), f->loadPanel()->runButton()->GetLabel());
			CPPUNIT_ASSERT_EQUAL(1u, f->composer()->savedList()->GetCount());
			CPPUNIT_ASSERT_EQUAL(std::string("saved one"), f->composer()->saved()[0].payload);
			CPPUNIT_ASSERT(f->bar()->autoReconnectBox()->GetValue());
			CPPUNIT_ASSERT_EQUAL(1100, f->GetSize().x);
			CPPUNIT_ASSERT_EQUAL(700, f->GetSize().y);
		}
		std::remove(path.c_str());
	}

	void testAutoReconnect()
	{
		auto host = std::make_unique<InProcessHost>();
		const std::string url = host->url("/echo");
		FrameHandle f;
		f->bar()->autoReconnectBox()->SetValue(true);
		connectTo(f.get(), url);
		host.reset();  // the connection drops (1001 going away)
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
		// Nothing listens now: the reconnect attempts fail and it gives up after 3 tries.
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return f->statusText().Contains("gave up"); }, seconds(30)));
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), rowsWhere(f.get(), LogListCtrl::Preview, "reconnecting in").size());
		CPPUNIT_ASSERT_EQUAL(int(StateIndicator::Tone::Bad), int(f->bar()->indicator()->tone()));
	}

	void testLocalHostPanel()
	{
		// A configuration of our own: any free port, the build's plugins, the default admin.port
		// (which the panel overrides with any free one: another host may hold 8081).
		const std::string config = Poco::Path::temp() + "parley-gui-host-" + std::to_string(::getpid()) + ".properties";
		{
			std::ofstream out(config);
			out << "server.address = 127.0.0.1\nserver.port = 0\nplugins.dir = " << pluginDir() << "\nroute./ws = random-suffix\n";
		}
		FrameHandle f;
		auto* hostPanel = f->hostPanel();
		CPPUNIT_ASSERT_EQUAL(binDir() + "/parley-host", hostPanel->executable());  // next to the program
		f->tabs()->SetSelection(2);
		hostPanel->configPicker()->SetPath(wxString::FromUTF8(config));
		click(hostPanel->connectButton());  // "Start & connect"
		CPPUNIT_ASSERT_MESSAGE(hostPanel->output().utf8_string(), GuiEnvironment::pumpUntil([&] { return isOpen(f.get()); }, kDeadline));
		CPPUNIT_ASSERT(hostPanel->running());
		CPPUNIT_ASSERT(hostPanel->output().Contains("listening on ws://127.0.0.1:"));
		CPPUNIT_ASSERT(hostPanel->output().Contains("operator endpoints on http://127.0.0.1:"));
		CPPUNIT_ASSERT_MESSAGE(hostPanel->output().utf8_string(), !hostPanel->output().Contains("127.0.0.1:8081"));
		CPPUNIT_ASSERT(f->bar()->url().rfind("ws://127.0.0.1:", 0) == 0);
		sendText(f.get(), "via local host");
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Direction, "received").empty();
		}, kDeadline));
		CPPUNIT_ASSERT_EQUAL(0, f->tabs()->GetSelection());  // connecting brings the composer forward
		f->tabs()->SetSelection(2);
		click(hostPanel->stopButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !hostPanel->running(); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(hostPanel->stateText().utf8_string(), hostPanel->stateText().Contains("Exited with status 0"));
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("1001"));

		// A configuration the host refuses: its one-line error shows in the status bar.
		{
			std::ofstream out(config);
			out << "server.port = 0\nadmin.port = 0\nplugins.dir = " << pluginDir() << "\nroute./ws = no-such-plugin\n";
		}
		click(hostPanel->startButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !hostPanel->running(); }, kDeadline));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("exited with status"));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("no-such-plugin"));
		std::remove(config.c_str());
	}

	void testTlsOptionsSavedAndUsed()
	{
		TestCertificate cert;
		TlsEchoServer server(cert);
		const std::string path = Poco::Path::temp() + "parley-gui-tls-" + std::to_string(::getpid()) + ".conf";
		std::remove(path.c_str());
		{
			FrameHandle f(path);
			openOptions(f.get());
			CPPUNIT_ASSERT(f->bar()->insecureBox()->IsShownOnScreen());
			CPPUNIT_ASSERT(f->bar()->caFilePicker()->IsShownOnScreen());
			CPPUNIT_ASSERT(!f->bar()->insecureBox()->GetValue());  // verify by default
			CPPUNIT_ASSERT(f->bar()->caFilePicker()->GetPath().empty());

			// Not trusted yet: the failure says why.
			f->bar()->urlBox()->SetValue(wxString::FromUTF8(server.url("/echo")));
			click(f->bar()->connectButton());
			CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
				return isClosed(f.get()) && f->bar()->indicator()->tone() == StateIndicator::Tone::Bad;
			}, kDeadline));
			CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(),
				f->bar()->indicator()->text().Contains("certificate verify failed (self-signed certificate)"));
			CPPUNIT_ASSERT(f->statusText().Contains("certificate verify failed"));

			// Trust the test certificate: it connects, and messages go both ways over TLS.
			f->bar()->caFilePicker()->SetPath(wxString::FromUTF8(cert.certFile()));
			connectTo(f.get(), server.url("/echo"));
			sendText(f.get(), "hello over wss");
			CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
				return !rowsWhere(f.get(), LogListCtrl::Direction, "received").empty();
			}, kDeadline));
			CPPUNIT_ASSERT_EQUAL(wxString("hello over wss"),
				cell(f.get(), rowsWhere(f.get(), LogListCtrl::Direction, "received")[0], LogListCtrl::Preview));
			click(f->bar()->connectButton());  // Disconnect: 1000
			CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
			CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("1000"));

			// The load run uses the same TLS settings.
			f->tabs()->SetSelection(1);
			f->loadPanel()->countSpin()->SetValue(2000);
			click(f->loadPanel()->runButton());
			CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, seconds(60)));
			CPPUNIT_ASSERT_MESSAGE(f->loadPanel()->verdict().utf8_string(),
				f->loadPanel()->verdict().Contains("2,000 of 2,000 verified"));

			// Accept any certificate instead of trusting the file.
			f->bar()->caFilePicker()->SetPath(wxEmptyString);
			f->bar()->insecureBox()->SetValue(true);
			connectTo(f.get(), server.url("/echo"));
			f.close();
		}
		{
			// Both settings survive a restart, and a connection started with them opens.
			FrameHandle f(path);
			CPPUNIT_ASSERT(f->bar()->insecureBox()->GetValue());
			CPPUNIT_ASSERT(f->bar()->caFilePicker()->GetPath().empty());
			connectTo(f.get(), server.url("/"));
			f->bar()->insecureBox()->SetValue(false);
			f->bar()->caFilePicker()->SetPath(wxString::FromUTF8(cert.certFile()));
			f.close();
		}
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT(!f->bar()->insecureBox()->GetValue());
			CPPUNIT_ASSERT_EQUAL(cert.certFile(), f->bar()->caFilePicker()->GetPath().utf8_string());
			connectTo(f.get(), server.url("/"));
		}
		std::remove(path.c_str());
	}

	void testLocalHostAnnouncingWss()
	{
		// A stand-in for a parley-host that serves TLS: the TLS echo server, which announces
		// "listening on wss://127.0.0.1:PORT" like the host does.
		TestCertificate cert;
		const std::string program = cert.dir() + "/parley-host";
		{
			std::ofstream out(program);
			out << "#!/bin/sh\nexec " << python() << " " << TlsEchoServer::script() << " --cert " << cert.certFile()
				<< " --key " << cert.keyFile() << " \"$@\"\n";
		}
		::chmod(program.c_str(), 0755);
		const std::string config = cert.dir() + "/host.properties";
		{
			std::ofstream out(config);
			out << "server.port = 0\n";
		}
		gui::MainFrameOptions options;
		options.hostExecutable = program;
		FrameHandle f({}, options);
		openOptions(f.get());
		f->bar()->caFilePicker()->SetPath(wxString::FromUTF8(cert.certFile()));
		auto* hostPanel = f->hostPanel();
		f->tabs()->SetSelection(2);
		hostPanel->configPicker()->SetPath(wxString::FromUTF8(config));
		click(hostPanel->connectButton());  // "Start & connect"
		CPPUNIT_ASSERT_MESSAGE(hostPanel->output().utf8_string() + f->bar()->indicator()->text().utf8_string(),
			GuiEnvironment::pumpUntil([&] { return isOpen(f.get()); }, kDeadline));
		CPPUNIT_ASSERT(hostPanel->output().Contains("listening on wss://127.0.0.1:"));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->url(), f->bar()->url().rfind("wss://127.0.0.1:", 0) == 0);
		CPPUNIT_ASSERT_MESSAGE(hostPanel->hostUrl(), hostPanel->hostUrl().rfind("wss://127.0.0.1:", 0) == 0);
		CPPUNIT_ASSERT(hostPanel->stateText().Contains("wss://127.0.0.1:"));
		sendText(f.get(), "via a TLS host");
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Direction, "received").empty();
		}, kDeadline));
		f->tabs()->SetSelection(2);
		click(hostPanel->stopButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !hostPanel->running(); }, kDeadline));
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return isClosed(f.get()); }, kDeadline));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(GuiFrameTest, "gui");
