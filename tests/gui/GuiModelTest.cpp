//
// GuiModelTest.cpp — the GUI's plain parts: hex in and out, previews, the message log's filter,
// search, capacity and export, the per-second traffic history, and settings round trips.
//
#include "gui/GuiFixture.h"
#include "LiveChart.h"
#include "MessageLog.h"
#include "PayloadFormat.h"
#include "Settings.h"
#include "TrafficHistory.h"
#include <cppunit/extensions/HelperMacros.h>
#include <sstream>
#include <wx/fileconf.h>
#include <wx/sstream.h>

using namespace parley::gui;

namespace {

LogEntry frame(LogOrigin origin, LogKind kind, std::string payload, std::uint16_t code = 0)
{
	LogEntry e;
	e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
	e.origin = origin;
	e.kind = kind;
	e.payload = std::move(payload);
	e.closeCode = code;
	return e;
}

} // namespace

class GuiModelTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(GuiModelTest);
	CPPUNIT_TEST(testHex);
	CPPUNIT_TEST(testPreviewAndUtf8);
	CPPUNIT_TEST(testCloseNamesAndDigits);
	CPPUNIT_TEST(testLogFilterAndSearch);
	CPPUNIT_TEST(testLogCapacityDropsOldest);
	CPPUNIT_TEST(testLogExportJson);
	CPPUNIT_TEST(testCompressedRows);
	CPPUNIT_TEST(testTrafficHistory);
	CPPUNIT_TEST(testNiceCeiling);
	CPPUNIT_TEST(testSettingsRoundTrip);
	CPPUNIT_TEST_SUITE_END();

public:
	void testHex()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("00 7f ff"), toHex(std::string("\x00\x7f\xff", 3)));
		CPPUNIT_ASSERT_EQUAL(std::string("61 62 \xE2\x80\xA6"), toHex("abc", 2));
		std::string out, error;
		CPPUNIT_ASSERT(parseHex("01 a2 FF", out, error));
		CPPUNIT_ASSERT_EQUAL(std::string("\x01\xa2\xff", 3), out);
		CPPUNIT_ASSERT(parseHex("0x01,0x02:03-04\n05", out, error));
		CPPUNIT_ASSERT_EQUAL(std::string("\x01\x02\x03\x04\x05", 5), out);
		CPPUNIT_ASSERT(parseHex("0a0b", out, error));
		CPPUNIT_ASSERT_EQUAL(std::string("\x0a\x0b", 2), out);
		CPPUNIT_ASSERT(parseHex("", out, error) && out.empty());
		CPPUNIT_ASSERT(!parseHex("abc", out, error));
		CPPUNIT_ASSERT_EQUAL(std::string("hex: a lone digit (bytes need two) at position 3"), error);
		CPPUNIT_ASSERT(!parseHex("01 zz", out, error));
		CPPUNIT_ASSERT_EQUAL(std::string("hex: 'z' is not a hex digit at position 4"), error);
		CPPUNIT_ASSERT(out.empty());
		CPPUNIT_ASSERT(!parseHex("0x", out, error));
		const std::string dump = hexDump("0123456789abcdefXY");
		CPPUNIT_ASSERT_EQUAL(std::string("00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n"
			"00000010  58 59                                             |XY|\n"), dump);
		CPPUNIT_ASSERT(hexDump(std::string(40, 'a'), 16).find("24 more bytes not shown") != std::string::npos);
	}

	void testPreviewAndUtf8()
	{
		CPPUNIT_ASSERT(isUtf8("h\xC3\xA9llo"));
		CPPUNIT_ASSERT(!isUtf8("\xC3"));
		CPPUNIT_ASSERT(!isUtf8("\xED\xA0\x80"));  // a surrogate
		CPPUNIT_ASSERT(!isUtf8("\xC0\x80"));      // overlong
		CPPUNIT_ASSERT_EQUAL(std::string("a\xE2\x8F\x8E" "b"), previewText("a\nb", 10));
		CPPUNIT_ASSERT_EQUAL(std::string("h\xC3\xA9l\xE2\x80\xA6"), previewText("h\xC3\xA9llo", 3));
		CPPUNIT_ASSERT_EQUAL(std::string("(not UTF-8) ff"), previewText("\xff", 30));
		LogEntry close = frame(LogOrigin::Received, LogKind::Close, "bye", 1011);
		CPPUNIT_ASSERT_EQUAL(std::string("1011 Internal error: bye"), close.preview());
		CPPUNIT_ASSERT_EQUAL(std::string("1011 Internal error\nreason: bye"), close.details(100));
		LogEntry big = frame(LogOrigin::Received, LogKind::Text, std::string(100, 'x'));
		CPPUNIT_ASSERT(big.details(10).rfind(std::string(10, 'x') + "\n\n", 0) == 0);
		CPPUNIT_ASSERT(big.details(10).find("90 more bytes") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(std::string(100, 'x'), big.details(100));
	}

	void testCloseNamesAndDigits()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("1000 Normal closure"), describeClose(1000, ""));
		CPPUNIT_ASSERT_EQUAL(std::string("4000: x"), describeClose(4000, "x"));
		CPPUNIT_ASSERT_EQUAL(std::string("0"), groupDigits(0));
		CPPUNIT_ASSERT_EQUAL(std::string("999"), groupDigits(999));
		CPPUNIT_ASSERT_EQUAL(std::string("10,000"), groupDigits(10000));
		CPPUNIT_ASSERT_EQUAL(std::string("1,234,567"), groupDigits(1234567));
	}

	void testLogFilterAndSearch()
	{
		MessageLog log;
		log.append(frame(LogOrigin::Sent, LogKind::Text, "Hello"));
		log.append(frame(LogOrigin::Received, LogKind::Text, "hello 42"));
		log.append(frame(LogOrigin::Sent, LogKind::Ping, ""));
		log.append(frame(LogOrigin::Received, LogKind::Pong, ""));
		log.append(LogEntry::local(LogKind::Info, "connected"));
		log.append(frame(LogOrigin::Received, LogKind::Close, "bye", 1000));
		CPPUNIT_ASSERT_EQUAL(std::size_t(6), log.visibleCount());
		log.setFilter(LogFilter::Sent, "");
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), log.visibleCount());
		log.setFilter(LogFilter::Received, "");
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), log.visibleCount());
		log.setFilter(LogFilter::Control, "");
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), log.visibleCount());
		CPPUNIT_ASSERT(log.visible(2).kind == LogKind::Close);
		log.setFilter(LogFilter::All, "HELLO");
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), log.visibleCount());
		// New rows respect the filter.
		CPPUNIT_ASSERT(log.append(frame(LogOrigin::Sent, LogKind::Text, "hello again")));
		CPPUNIT_ASSERT(!log.append(frame(LogOrigin::Sent, LogKind::Text, "other")));
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), log.visibleCount());
		const std::uint64_t id = log.idAt(1);  // "hello 42"
		log.setFilter(LogFilter::Received, "");
		CPPUNIT_ASSERT_EQUAL(0L, log.rowOf(id));
		log.setFilter(LogFilter::Sent, "");
		CPPUNIT_ASSERT_EQUAL(-1L, log.rowOf(id));
		log.setFilter(LogFilter::Control, "1000");  // close codes are searchable
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), log.visibleCount());
		log.clear();
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), log.size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), log.visibleCount());
		CPPUNIT_ASSERT_THROW(log.visible(0), std::out_of_range);
	}

	void testLogCapacityDropsOldest()
	{
		MessageLog log(3);
		log.setFilter(LogFilter::Sent, "");
		for (int i = 0; i < 5; ++i) log.append(frame(i % 2 ? LogOrigin::Received : LogOrigin::Sent, LogKind::Text, std::to_string(i)));
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), log.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), log.dropped());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), log.visibleCount());  // "2" and "4"
		CPPUNIT_ASSERT_EQUAL(std::string("2"), log.visible(0).payload);
		CPPUNIT_ASSERT_EQUAL(std::string("4"), log.visible(1).payload);
		log.setFilter(LogFilter::All, "");
		CPPUNIT_ASSERT_EQUAL(std::string("2"), log.visible(0).payload);
	}

	void testLogExportJson()
	{
		MessageLog log;
		log.append(frame(LogOrigin::Sent, LogKind::Text, "a\"b\\c\x01"));
		log.append(frame(LogOrigin::Received, LogKind::Binary, std::string("\x00\xff", 2)));
		log.append(frame(LogOrigin::Received, LogKind::Close, "", 1001));
		std::ostringstream out;
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), log.exportJsonLines(out));
		CPPUNIT_ASSERT_EQUAL(std::string(
			"{\"time\":\"2023-11-14T22:13:20.123Z\",\"direction\":\"sent\",\"kind\":\"text\",\"length\":6,\"text\":\"a\\\"b\\\\c\\u0001\"}\n"
			"{\"time\":\"2023-11-14T22:13:20.123Z\",\"direction\":\"received\",\"kind\":\"binary\",\"length\":2,\"hex\":\"00 ff\"}\n"
			"{\"time\":\"2023-11-14T22:13:20.123Z\",\"direction\":\"received\",\"kind\":\"close\",\"length\":0,\"code\":1001,\"text\":\"\"}\n"),
			out.str());
		std::ostringstream text;
		log.setFilter(LogFilter::Sent, "");
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), log.exportText(text));
		CPPUNIT_ASSERT(text.str().find("sent  text  6 B\n") != std::string::npos);
	}

	void testCompressedRows()
	{
		// A compressed message from the session keeps its flag and wire size in the log.
		parley::client::FrameRecord record;
		record.direction = parley::client::Direction::Received;
		record.kind = parley::client::FrameKind::Text;
		record.payload = std::string(5000, 'z');
		record.compressed = true;
		record.wireSize = 1234;
		LogEntry e = LogEntry::fromFrame(record);
		CPPUNIT_ASSERT(e.compressed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1234), e.wireSize);
		CPPUNIT_ASSERT_EQUAL(std::string("deflate 1,234 B"), e.wireText());
		record.compressed = false;
		record.wireSize = 5000;
		CPPUNIT_ASSERT_EQUAL(std::string(), LogEntry::fromFrame(record).wireText());
		CPPUNIT_ASSERT_EQUAL(std::string(), LogEntry::local(LogKind::Info, "x").wireText());

		MessageLog log;
		LogEntry sent = frame(LogOrigin::Sent, LogKind::Text, "aaaaaaaaaaaaaaaa");
		sent.compressed = true;
		sent.wireSize = 4;
		log.append(sent);
		log.append(frame(LogOrigin::Received, LogKind::Text, "plain"));
		std::ostringstream out;
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), log.exportJsonLines(out));
		CPPUNIT_ASSERT_EQUAL(std::string(
			"{\"time\":\"2023-11-14T22:13:20.123Z\",\"direction\":\"sent\",\"kind\":\"text\",\"length\":16,\"compressed\":true,\"wire\":4,\"text\":\"aaaaaaaaaaaaaaaa\"}\n"
			"{\"time\":\"2023-11-14T22:13:20.123Z\",\"direction\":\"received\",\"kind\":\"text\",\"length\":5,\"text\":\"plain\"}\n"),
			out.str());
		std::ostringstream text;
		log.exportText(text);
		CPPUNIT_ASSERT_MESSAGE(text.str(), text.str().find("sent  text  16 B  (deflate, 4 B on the wire)\n") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(text.str(), text.str().find("received  text  5 B\n") != std::string::npos);
	}

	void testTrafficHistory()
	{
		TrafficHistory history(60);
		const auto t0 = TrafficHistory::Clock::time_point(std::chrono::seconds(1000));
		history.addMessages(10, t0);
		history.addMessages(5, t0 + std::chrono::milliseconds(500));
		history.addRtt(100, t0);
		history.addRtt(300, t0);
		history.addMessages(7, t0 + std::chrono::seconds(2));
		auto samples = history.samples(t0 + std::chrono::seconds(3));
		CPPUNIT_ASSERT_EQUAL(std::size_t(60), samples.size());
		CPPUNIT_ASSERT_EQUAL(7.0, samples[59].messages);   // second 1002
		CPPUNIT_ASSERT_EQUAL(0.0, samples[58].messages);   // second 1001
		CPPUNIT_ASSERT_EQUAL(15.0, samples[57].messages);  // second 1000
		CPPUNIT_ASSERT_EQUAL(200.0, samples[57].rttMicros);
		CPPUNIT_ASSERT_EQUAL(-1.0, samples[59].rttMicros);
		// A minute later the old seconds are gone, even though their buckets were reused.
		samples = history.samples(t0 + std::chrono::seconds(62));
		CPPUNIT_ASSERT_EQUAL(7.0, samples[0].messages);
		samples = history.samples(t0 + std::chrono::seconds(63));
		double total = 0;
		for (const auto& s : samples) total += s.messages;
		CPPUNIT_ASSERT_EQUAL(0.0, total);
	}

	void testNiceCeiling()
	{
		CPPUNIT_ASSERT_EQUAL(10.0, LiveChart::niceCeiling(10));
		CPPUNIT_ASSERT_EQUAL(20.0, LiveChart::niceCeiling(11));
		CPPUNIT_ASSERT_EQUAL(50000.0, LiveChart::niceCeiling(31234));
		CPPUNIT_ASSERT_EQUAL(0.5, LiveChart::niceCeiling(0.3));
		CPPUNIT_ASSERT_EQUAL(1.0, LiveChart::niceCeiling(0));
	}

	void testSettingsRoundTrip()
	{
		parley::test::GuiEnvironment::ensure();
		wxStringInputStream empty("");
		wxFileConfig config(empty);
		Settings defaults = Settings::load(config);
		CPPUNIT_ASSERT_EQUAL(std::string("ws://127.0.0.1:8080/ws"), defaults.url);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(10000), defaults.loadCount);
		CPPUNIT_ASSERT(!defaults.insecure);
		CPPUNIT_ASSERT_EQUAL(std::string(), defaults.caFile);
		CPPUNIT_ASSERT(!defaults.deflate);
		Settings s;
		s.rememberUrl("ws://a:1/x");
		s.rememberUrl("ws://b:2/y");
		s.rememberUrl("ws://a:1/x");
		s.headers = "X-A: 1\nX-B: 2";
		s.subprotocol = "chat.v2, chat.v1";
		s.origin = "https://app.example";
		s.savedMessages = {{"one", "hello", false}, {"two", "00 ff", true}};
		s.loadCount = 5000000000ull;
		s.loadWindow = 256;
		s.composerText = "h\xC3\xA9llo";
		s.insecure = true;
		s.caFile = "/etc/ssl/my ca.pem";
		s.deflate = true;
		s.save(config);
		const Settings r = Settings::load(config);
		CPPUNIT_ASSERT_EQUAL(std::string("ws://a:1/x"), r.url);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.urlHistory.size());
		CPPUNIT_ASSERT_EQUAL(std::string("ws://b:2/y"), r.urlHistory[1]);
		CPPUNIT_ASSERT_EQUAL(s.headers, r.headers);
		CPPUNIT_ASSERT_EQUAL(s.subprotocol, r.subprotocol);
		CPPUNIT_ASSERT_EQUAL(s.origin, r.origin);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.savedMessages.size());
		CPPUNIT_ASSERT_EQUAL(std::string("00 ff"), r.savedMessages[1].payload);
		CPPUNIT_ASSERT(r.savedMessages[1].binary);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5000000000ull), r.loadCount);
		CPPUNIT_ASSERT_EQUAL(256, r.loadWindow);
		CPPUNIT_ASSERT_EQUAL(s.composerText, r.composerText);
		CPPUNIT_ASSERT(r.insecure);
		CPPUNIT_ASSERT_EQUAL(s.caFile, r.caFile);
		CPPUNIT_ASSERT(r.deflate);
		s.deflate = false;
		s.save(config);
		CPPUNIT_ASSERT(!Settings::load(config).deflate);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(GuiModelTest, "gui");
