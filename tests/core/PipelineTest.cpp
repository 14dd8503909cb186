//
// PipelineTest.cpp — chains of responders (in-process test responders).
//
#include "parley/Pipeline.h"
#include <cppunit/extensions/HelperMacros.h>
#include <stdexcept>

using namespace parley;

namespace {

class Append: public Responder
{
public:
	explicit Append(std::string suffix): _suffix(std::move(suffix)) {}
	void respond(const Message& m, Reply& r) override { r.send(m.payload, m.kind).append(_suffix); }

private:
	std::string _suffix;
};

class Upper: public Responder
{
public:
	void respond(const Message& m, Reply& r) override
	{
		std::string& out = r.send(m.payload, m.kind);
		for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	}
};

class Filter: public Responder
{
public:
	int calls = 0;
	void respond(const Message& m, Reply& r) override
	{
		++calls;
		if (m.payload == "drop") r.none();
		else if (m.payload == "bye") r.close(4001, "asked to");
		else r.send(m.payload, m.kind);
	}
};

class Thrower: public Responder
{
public:
	void respond(const Message&, Reply&) override { throw std::runtime_error("kaput"); }
};

class ToBinary: public Responder
{
public:
	void respond(const Message& m, Reply& r) override { r.send(m.payload, PayloadKind::Binary); }
};

/// Quotes the message and appends a suffix (as random-suffix does).
class QuoteAppend: public Responder
{
public:
	explicit QuoteAppend(std::string suffix): _suffix(std::move(suffix)) {}
	void respond(const Message& m, Reply& r) override { r.echo(m).append(_suffix); }

private:
	std::string _suffix;
};

std::vector<Stage> chain(std::vector<std::pair<std::string, Responder*>> items)
{
	std::vector<Stage> stages;
	for (auto& item : items) stages.push_back(Stage{item.first, std::unique_ptr<Responder>(item.second)});
	return stages;
}

} // namespace

class PipelineTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PipelineTest);
	CPPUNIT_TEST(testSingleStage);
	CPPUNIT_TEST(testEachStageGetsPreviousOutput);
	CPPUNIT_TEST(testNoneStopsChain);
	CPPUNIT_TEST(testCloseStopsChain);
	CPPUNIT_TEST(testThrowNamesPlugin);
	CPPUNIT_TEST(testKindFlowsThrough);
	CPPUNIT_TEST(testEmptyMessage);
	CPPUNIT_TEST(testEmptyChainRefused);
	CPPUNIT_TEST(testRepeatedRunsAreIndependent);
	CPPUNIT_TEST(testSingleStageQuoteIsNotCopied);
	CPPUNIT_TEST(testQuotesAreSettledBetweenStages);
	CPPUNIT_TEST(testSettleMakesReplySelfContained);
	CPPUNIT_TEST_SUITE_END();

public:
	void testSingleStage()
	{
		Pipeline p(chain({{"a", new Append("!")}}));
		const Reply& r = p.run(Message{PayloadKind::Text, "hi"});
		CPPUNIT_ASSERT(r.action == Reply::Action::Send);
		CPPUNIT_ASSERT_EQUAL(std::string("hi!"), r.payload);
	}

	void testEachStageGetsPreviousOutput()
	{
		Pipeline p(chain({{"a", new Append("-a")}, {"up", new Upper}, {"b", new Append("-b")}}));
		CPPUNIT_ASSERT_EQUAL(std::string("X-A-b"), p.run(Message{PayloadKind::Text, "x"}).payload);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), p.size());
		CPPUNIT_ASSERT(p.names() == (std::vector<std::string>{"a", "up", "b"}));
	}

	void testNoneStopsChain()
	{
		auto* last = new Filter;
		Pipeline p(chain({{"f", new Filter}, {"last", last}}));
		CPPUNIT_ASSERT(p.run(Message{PayloadKind::Text, "drop"}).action == Reply::Action::None);
		CPPUNIT_ASSERT_EQUAL(0, last->calls);
		CPPUNIT_ASSERT(p.run(Message{PayloadKind::Text, "keep"}).action == Reply::Action::Send);
		CPPUNIT_ASSERT_EQUAL(1, last->calls);
	}

	void testCloseStopsChain()
	{
		auto* last = new Filter;
		Pipeline p(chain({{"f", new Filter}, {"last", last}}));
		const Reply& r = p.run(Message{PayloadKind::Text, "bye"});
		CPPUNIT_ASSERT(r.action == Reply::Action::Close);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(4001), r.closeCode);
		CPPUNIT_ASSERT_EQUAL(std::string("asked to"), r.payload);
		CPPUNIT_ASSERT_EQUAL(0, last->calls);
	}

	void testThrowNamesPlugin()
	{
		Pipeline p(chain({{"a", new Append("!")}, {"bad-one", new Thrower}}));
		try
		{
			p.run(Message{PayloadKind::Text, "x"});
			CPPUNIT_FAIL("expected ResponderError");
		}
		catch (const ResponderError& e)
		{
			CPPUNIT_ASSERT_EQUAL(std::string("bad-one"), e.plugin());
			CPPUNIT_ASSERT(std::string(e.what()).find("kaput") != std::string::npos);
		}
	}

	void testKindFlowsThrough()
	{
		Pipeline p(chain({{"bin", new ToBinary}, {"a", new Append("z")}}));
		const Reply& r = p.run(Message{PayloadKind::Text, "q"});
		CPPUNIT_ASSERT(r.kind == PayloadKind::Binary);
		CPPUNIT_ASSERT_EQUAL(std::string("qz"), r.payload);
	}

	void testEmptyMessage()
	{
		Pipeline p(chain({{"a", new Append("")}}));
		const Reply& r = p.run(Message{PayloadKind::Text, ""});
		CPPUNIT_ASSERT(r.action == Reply::Action::Send);
		CPPUNIT_ASSERT(r.payload.empty());
	}

	void testEmptyChainRefused()
	{
		CPPUNIT_ASSERT_THROW(Pipeline(std::vector<Stage>{}), std::invalid_argument);
		std::vector<Stage> stages;
		stages.push_back(Stage{"null", nullptr});
		CPPUNIT_ASSERT_THROW(Pipeline(std::move(stages)), std::invalid_argument);
	}

	void testRepeatedRunsAreIndependent()
	{
		Pipeline p(chain({{"a", new Append("1")}, {"b", new Append("2")}, {"c", new Append("3")}}));
		for (int i = 0; i < 1000; ++i)
		{
			const std::string in = "m" + std::to_string(i);
			CPPUNIT_ASSERT_EQUAL(in + "123", p.run(Message{PayloadKind::Text, in}).payload);
		}
	}

	void testSingleStageQuoteIsNotCopied()
	{
		Pipeline p(chain({{"q", new QuoteAppend(" 42")}}));
		const Message m{PayloadKind::Binary, "hello"};
		const Reply& r = p.run(m);
		CPPUNIT_ASSERT(r.action == Reply::Action::Send);
		CPPUNIT_ASSERT(r.kind == PayloadKind::Binary);
		CPPUNIT_ASSERT(r.quotesMessage);
		CPPUNIT_ASSERT_EQUAL(std::string(" 42"), r.payload);
		CPPUNIT_ASSERT_EQUAL(std::string("hello 42"), r.bytes(m));
		// The next run starts from a clean reply: a send after a quote quotes nothing.
		Pipeline plain(chain({{"a", new Append("!")}}));
		CPPUNIT_ASSERT(!plain.run(m).quotesMessage);
	}

	void testQuotesAreSettledBetweenStages()
	{
		// Quote, quote, copy, quote: every stage sees the whole previous reply, and the chain's
		// reply is self-contained.
		Pipeline p(chain({{"q1", new QuoteAppend("-1")}, {"q2", new QuoteAppend("-2")}, {"up", new Upper},
			{"q3", new QuoteAppend("-3")}}));
		for (int i = 0; i < 3; ++i)
		{
			const std::string in = "m" + std::string(static_cast<std::size_t>(i) * 40, 'x');
			const Reply& r = p.run(Message{PayloadKind::Text, in});
			CPPUNIT_ASSERT(!r.quotesMessage);
			std::string upper = in + "-1-2";
			for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
			CPPUNIT_ASSERT_EQUAL(upper + "-3", r.payload);
		}
		Pipeline two(chain({{"q1", new QuoteAppend("a")}, {"q2", new QuoteAppend("b")}}));
		const Reply& r = two.run(Message{PayloadKind::Text, ""});
		CPPUNIT_ASSERT(!r.quotesMessage);
		CPPUNIT_ASSERT_EQUAL(std::string("ab"), r.payload);
	}

	void testSettleMakesReplySelfContained()
	{
		Reply r;
		r.echo(Message{PayloadKind::Text, "abc"}).append("def");
		std::string message = "abc";
		settle(r, message);
		message = "zzz"; // the message is gone; the reply is not affected
		CPPUNIT_ASSERT(!r.quotesMessage);
		CPPUNIT_ASSERT_EQUAL(std::string("abcdef"), r.payload);
		settle(r, "ignored"); // settling twice changes nothing
		CPPUNIT_ASSERT_EQUAL(std::string("abcdef"), r.payload);
		r.send("plain");
		CPPUNIT_ASSERT(!r.quotesMessage);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PipelineTest, "core");
