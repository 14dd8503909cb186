//
// GuiDeflateTest.cpp — parley-gui's "Compress (permessage-deflate)" option end to end against a
// real third-party server (python3-websockets, tests/client/py/deflate_server.py): the offer goes
// with connect and load runs, the state and status bar say deflate, the message log shows each
// compressed message's size on the wire, a server that declines is noted, and the option
// survives a restart.
//
#include "client/DeflateServer.h"
#include "gui/GuiFixture.h"
#include <Poco/Path.h>
#include <cppunit/extensions/HelperMacros.h>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/combobox.h>
#include <wx/notebook.h>
#include <wx/spinctrl.h>
#include <wx/stattext.h>
#include <wx/statusbr.h>
#include <wx/textctrl.h>
#include <wx/tglbtn.h>

using namespace parley;
using namespace parley::test;
using gui::LogListCtrl;
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

/// Ticks or clears a check box as a click would (wxEVT_CHECKBOX included).
void tick(wxCheckBox* box, bool on)
{
	box->SetValue(on);
	wxCommandEvent event(wxEVT_CHECKBOX, box->GetId());
	event.SetEventObject(box);
	event.SetInt(on ? 1 : 0);
	box->GetEventHandler()->ProcessEvent(event);
}

/// Clicks Connect and waits until this connection is open.
void connectTo(gui::MainFrame* f, const std::string& url)
{
	f->bar()->urlBox()->SetValue(wxString::FromUTF8(url));
	click(f->bar()->connectButton());
	CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(),
		GuiEnvironment::pumpUntil([f] { return f->sessionState() == client::SessionState::Open; }, kDeadline));
}

void disconnect(gui::MainFrame* f)
{
	click(f->bar()->connectButton());
	CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([f] { return f->sessionState() == client::SessionState::Closed; }, kDeadline));
}

/// Sends a text with the composer and waits for `replies` received text rows in all.
void sendAndWait(gui::MainFrame* f, const std::string& text, std::size_t replies)
{
	f->composer()->editor()->SetValue(wxString::FromUTF8(text));
	click(f->composer()->sendButton());
	CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
		return rowsWhere(f, LogListCtrl::Direction, "received").size() >= replies;
	}, kDeadline));
}

/// The byte count in an "On wire" cell ("deflate 1,234 B" → 1234).
long wireBytes(const wxString& cellText)
{
	wxString digits = cellText.AfterFirst(' ').BeforeFirst(' ');
	digits.Replace(",", "");
	long n = -1;
	digits.ToLong(&n);
	return n;
}

std::string repetitive(std::size_t size)
{
	std::string s;
	while (s.size() < size)
		s += "the gui compresses this; ";
	s.resize(size);
	return s;
}

} // namespace

class GuiDeflateTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(GuiDeflateTest);
	CPPUNIT_TEST(testCompressedMessagesInTheLog);
	CPPUNIT_TEST(testDeclinedIsNoted);
	CPPUNIT_TEST(testLoadRunWithDeflate);
	CPPUNIT_TEST(testOptionSurvivesRestart);
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

	void testCompressedMessagesInTheLog()
	{
		DeflateServer server;
		FrameHandle f;
		openOptions(f.get());
		CPPUNIT_ASSERT(f->bar()->deflateBox()->IsShownOnScreen());
		CPPUNIT_ASSERT(!f->bar()->deflateBox()->GetValue());  // off by default
		CPPUNIT_ASSERT_EQUAL(wxString("Compress (permessage-deflate)"), f->bar()->deflateBox()->GetLabel());
		tick(f->bar()->deflateBox(), true);
		connectTo(f.get(), server.url("/gui"));
		CPPUNIT_ASSERT_MESSAGE(f->bar()->indicator()->text().utf8_string(), f->bar()->indicator()->text().Contains("deflate"));
		CPPUNIT_ASSERT_EQUAL(wxString("Connection: open (deflate)"), f->GetStatusBar()->GetStatusText(1));
		CPPUNIT_ASSERT_MESSAGE(f->statusText().utf8_string(), f->statusText().Contains("permessage-deflate"));
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Preview,
				"permessage-deflate negotiated: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12").empty();
		}, kDeadline));
		const std::string request = server.waitRequests(1).at(0);
		CPPUNIT_ASSERT_MESSAGE(request, request.find("[\"Sec-WebSocket-Extensions\", \"permessage-deflate; client_max_window_bits\"]")
			!= std::string::npos);

		// Both rows of the exchange say deflate and how few bytes went over the wire.
		const std::string text = repetitive(2000);
		sendAndWait(f.get(), text, 1);
		const long sent = rowsWhere(f.get(), LogListCtrl::Direction, "sent").at(0);
		const long received = rowsWhere(f.get(), LogListCtrl::Direction, "received").at(0);
		CPPUNIT_ASSERT_EQUAL(wxString("2,000"), cell(f.get(), sent, LogListCtrl::Length));
		for (long row : {sent, received})
		{
			const wxString wire = cell(f.get(), row, LogListCtrl::Wire);
			CPPUNIT_ASSERT_MESSAGE(wire.utf8_string(), wire.StartsWith("deflate ") && wire.EndsWith(" B"));
			CPPUNIT_ASSERT_MESSAGE(wire.utf8_string(), wireBytes(wire) > 0 && wireBytes(wire) < 500);
			CPPUNIT_ASSERT(cell(f.get(), row, LogListCtrl::Preview).StartsWith("the gui compresses this; "));
			// The payload pane's title says so too.
			f->logPanel()->showDetails(row);
			const wxString title = f->logPanel()->detailTitle()->GetLabel();
			CPPUNIT_ASSERT_MESSAGE(title.utf8_string(), title.Contains("2,000 bytes") && title.Contains(
				wxString::FromUTF8("compressed (permessage-deflate): ") + wxString::Format("%ld", wireBytes(wire)) + " bytes on the wire"));
		}
		// Control frames are never compressed.
		click(f->bar()->pingButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !rowsWhere(f.get(), LogListCtrl::Kind, "pong").empty(); }, kDeadline));
		CPPUNIT_ASSERT_EQUAL(wxString(), cell(f.get(), rowsWhere(f.get(), LogListCtrl::Kind, "ping").at(0), LogListCtrl::Wire));
		disconnect(f.get());
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].messages == 1 && stats[0].compressed == 1);

		// Unticked: nothing offered, nothing compressed.
		tick(f->bar()->deflateBox(), false);
		f->logPanel()->clear();
		connectTo(f.get(), server.url("/gui"));
		CPPUNIT_ASSERT(!f->bar()->indicator()->text().Contains("deflate"));
		CPPUNIT_ASSERT_EQUAL(wxString("Connection: open"), f->GetStatusBar()->GetStatusText(1));
		CPPUNIT_ASSERT(server.waitRequests(2).at(1).find("Sec-WebSocket-Extensions") == std::string::npos);
		sendAndWait(f.get(), text, 1);
		for (long row : {rowsWhere(f.get(), LogListCtrl::Direction, "sent").at(0), rowsWhere(f.get(), LogListCtrl::Direction, "received").at(0)})
			CPPUNIT_ASSERT_EQUAL(wxString(), cell(f.get(), row, LogListCtrl::Wire));
		CPPUNIT_ASSERT(rowsWhere(f.get(), LogListCtrl::Preview, "permessage-deflate").empty());
	}

	void testDeclinedIsNoted()
	{
		DeflateServer server({"--compression", "none"});
		FrameHandle f;
		openOptions(f.get());
		tick(f->bar()->deflateBox(), true);
		connectTo(f.get(), server.url());
		CPPUNIT_ASSERT(!f->bar()->indicator()->text().Contains("deflate"));
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] {
			return !rowsWhere(f.get(), LogListCtrl::Preview, "permessage-deflate not negotiated: the server declined").empty();
		}, kDeadline));
		sendAndWait(f.get(), repetitive(500), 1);
		CPPUNIT_ASSERT_EQUAL(wxString(), cell(f.get(), rowsWhere(f.get(), LogListCtrl::Direction, "received").at(0), LogListCtrl::Wire));
		CPPUNIT_ASSERT_EQUAL(wxString(), cell(f.get(), rowsWhere(f.get(), LogListCtrl::Direction, "sent").at(0), LogListCtrl::Wire));
	}

	void testLoadRunWithDeflate()
	{
		DeflateServer server;
		FrameHandle f;
		openOptions(f.get());
		tick(f->bar()->deflateBox(), true);
		f->bar()->urlBox()->SetValue(wxString::FromUTF8(server.url()));
		f->tabs()->SetSelection(1);
		f->loadPanel()->countSpin()->SetValue(2000);
		click(f->loadPanel()->runButton());
		CPPUNIT_ASSERT(GuiEnvironment::pumpUntil([&] { return !f->loadRunning(); }, seconds(60)));
		CPPUNIT_ASSERT_MESSAGE(f->loadPanel()->verdict().utf8_string(), f->loadPanel()->verdict().Contains("2,000 of 2,000 verified"));
		GuiEnvironment::pumpFor(std::chrono::milliseconds(100));
		CPPUNIT_ASSERT(!rowsWhere(f.get(), LogListCtrl::Preview, " deflate=on payload-out=").empty());
		const auto stats = server.waitStats(1);
		CPPUNIT_ASSERT(stats.size() == 1 && stats[0].messages == 2000 && stats[0].compressed == 2000);
	}

	void testOptionSurvivesRestart()
	{
		const std::string path = Poco::Path::temp() + "parley-gui-deflate-" + std::to_string(::getpid()) + ".conf";
		std::remove(path.c_str());
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT(!f->bar()->deflateBox()->GetValue());
			tick(f->bar()->deflateBox(), true);
			f.close();
		}
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT(f->bar()->deflateBox()->GetValue());
			client::ConnectOptions options;
			std::string error;
			f->bar()->urlBox()->SetValue("ws://127.0.0.1:9/");
			CPPUNIT_ASSERT(f->bar()->connectOptions(options, error));
			CPPUNIT_ASSERT(options.deflate.enabled);
			tick(f->bar()->deflateBox(), false);
			f.close();
		}
		{
			FrameHandle f(path);
			CPPUNIT_ASSERT(!f->bar()->deflateBox()->GetValue());
		}
		std::remove(path.c_str());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(GuiDeflateTest, "gui");
