//
// DeflateNegotiationTest.cpp — RFC 7692 permessage-deflate negotiation: server offer tables,
// client offers, client acceptance and rejection tables.
//
#include "parley/codec/DeflateNegotiation.h"
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <random>
#include <string>
#include <vector>

using parley::codec::DeflateClientConfig;
using parley::codec::DeflateNegotiation;
using parley::codec::DeflateParams;
using parley::codec::DeflateResponse;
using parley::codec::DeflateServerConfig;

namespace {

const std::string None = "<declined>";
const std::string Nct = "permessage-deflate; server_no_context_takeover";

struct ServerRow
{
	std::string offer;
	std::string expected;  ///< the answer, or None
};

std::string answer(const std::string& offer, const DeflateServerConfig& config = {})
{
	const auto agreed = DeflateNegotiation::negotiateServer(offer, config);
	return agreed ? agreed->response : None;
}

void checkRows(const std::vector<ServerRow>& rows, const DeflateServerConfig& config = {})
{
	for (const auto& row : rows)
		CPPUNIT_ASSERT_EQUAL_MESSAGE("offer: [" + row.offer + "]", row.expected, answer(row.offer, config));
}

struct ClientRow
{
	std::string response;
	DeflateResponse expected;
};

const char* name(DeflateResponse r)
{
	switch (r)
	{
	case DeflateResponse::Declined: return "Declined";
	case DeflateResponse::Accepted: return "Accepted";
	case DeflateResponse::Invalid: return "Invalid";
	}
	return "?";
}

void checkClientRows(const std::vector<ClientRow>& rows, const DeflateClientConfig& offered = {})
{
	for (const auto& row : rows)
	{
		DeflateParams params;
		std::string why;
		const DeflateResponse got = DeflateNegotiation::checkServerResponse(row.response, offered, params, &why);
		CPPUNIT_ASSERT_EQUAL_MESSAGE("response: [" + row.response + "] why: " + why, std::string(name(row.expected)), std::string(name(got)));
		CPPUNIT_ASSERT_EQUAL_MESSAGE("reason only on Invalid: [" + row.response + "]", got == DeflateResponse::Invalid, !why.empty());
	}
}

} // namespace

class DeflateNegotiationTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DeflateNegotiationTest);
	CPPUNIT_TEST(testEveryParameter);
	CPPUNIT_TEST(testQuotedValues);
	CPPUNIT_TEST(testCaseAndWhitespace);
	CPPUNIT_TEST(testOtherExtensionsAndEmptyElements);
	CPPUNIT_TEST(testFirstAcceptableOfferWins);
	CPPUNIT_TEST(testDeclinedOffers);
	CPPUNIT_TEST(testMalformedSyntax);
	CPPUNIT_TEST(testAgreedParams);
	CPPUNIT_TEST(testServerConfigVariants);
	CPPUNIT_TEST(testValidate);
	CPPUNIT_TEST(testClientOffer);
	CPPUNIT_TEST(testClientAccepts);
	CPPUNIT_TEST(testClientRejects);
	CPPUNIT_TEST(testClientLimits);
	CPPUNIT_TEST(testClientAgreedParams);
	CPPUNIT_TEST(testRoundTrip);
	CPPUNIT_TEST(testRandomOffers);
	CPPUNIT_TEST_SUITE_END();

public:
	void testEveryParameter()
	{
		checkRows({
			{"permessage-deflate", Nct},
			{"permessage-deflate; server_no_context_takeover", Nct},
			{"permessage-deflate; client_no_context_takeover", Nct + "; client_no_context_takeover"},
			{"permessage-deflate; server_max_window_bits=10", Nct + "; server_max_window_bits=10"},
			{"permessage-deflate; server_max_window_bits=15", Nct + "; server_max_window_bits=15"},
			{"permessage-deflate; server_max_window_bits=9", Nct + "; server_max_window_bits=9"},
			{"permessage-deflate; client_max_window_bits", Nct + "; client_max_window_bits=15"},
			{"permessage-deflate; client_max_window_bits=10", Nct + "; client_max_window_bits=10"},
			{"permessage-deflate; client_max_window_bits=8", Nct + "; client_max_window_bits=8"},
			{"permessage-deflate; client_max_window_bits=15", Nct + "; client_max_window_bits=15"},
			{"permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=12; "
			 "client_max_window_bits=11",
			 Nct + "; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11"},
		});
	}

	void testQuotedValues()
	{
		checkRows({
			{"permessage-deflate; client_max_window_bits=\"10\"", Nct + "; client_max_window_bits=10"},
			{"permessage-deflate; server_max_window_bits=\"9\"", Nct + "; server_max_window_bits=9"},
			{"permessage-deflate; server_max_window_bits=\"1\\5\"", Nct + "; server_max_window_bits=15"},
			{"permessage-deflate; server_max_window_bits=\"\"", None},
			{"permessage-deflate; server_max_window_bits=\" 9\"", None},
			{"permessage-deflate; server_max_window_bits=\"16\"", None},
			{"permessage-deflate; server_no_context_takeover=\"\"", None},
			{"permessage-deflate; client_max_window_bits=\"\"", None},
		});
	}

	void testCaseAndWhitespace()
	{
		checkRows({
			{"PerMessage-Deflate; Client_Max_Window_Bits", Nct + "; client_max_window_bits=15"},
			{"PERMESSAGE-DEFLATE; SERVER_NO_CONTEXT_TAKEOVER; SERVER_MAX_WINDOW_BITS=11", Nct + "; server_max_window_bits=11"},
			{"  permessage-deflate \t;\t client_max_window_bits\t=\t12 ", Nct + "; client_max_window_bits=12"},
			{"permessage-deflate;client_max_window_bits=12;client_no_context_takeover",
			 Nct + "; client_no_context_takeover; client_max_window_bits=12"},
			{"\tpermessage-deflate\t", Nct},
		});
	}

	void testOtherExtensionsAndEmptyElements()
	{
		checkRows({
			{"", None},
			{"   ", None},
			{", ,", None},
			{",permessage-deflate,", Nct},
			{"x-webkit-deflate-frame", None},
			{"permessage-deflatex", None},
			{"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits, foo; bar=\"a,b\"",
			 Nct + "; client_max_window_bits=15"},
			{"foo; bar=\"x, permessage-deflate\"", None},
			{"foo; bar=\"a\\\"b, permessage-deflate\"", None},
			{"foo; bar=\"a\\\"b\", permessage-deflate", Nct},
			{"foo; bar; baz=1, permessage-deflate; client_no_context_takeover, qux",
			 Nct + "; client_no_context_takeover"},
			// Two header fields joined by the caller.
			{"foo, bar; x=1, permessage-deflate", Nct},
		});
	}

	void testFirstAcceptableOfferWins()
	{
		checkRows({
			{"permessage-deflate; client_max_window_bits=10, permessage-deflate", Nct + "; client_max_window_bits=10"},
			{"permessage-deflate; server_max_window_bits=8, permessage-deflate", Nct},
			{"permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
			 Nct + "; server_max_window_bits=9"},
			{"permessage-deflate; foo, permessage-deflate; client_max_window_bits=9", Nct + "; client_max_window_bits=9"},
			{"permessage-deflate; server_max_window_bits=16, x, permessage-deflate; client_no_context_takeover",
			 Nct + "; client_no_context_takeover"},
			{"permessage-deflate; a=\"b\" c, permessage-deflate", Nct},
			{"permessage-deflate; client_max_window_bits=\"10, permessage-deflate", None},
		});
	}

	void testDeclinedOffers()
	{
		checkRows({
			// zlib cannot compress raw deflate with an 8-bit window: declined.
			{"permessage-deflate; server_max_window_bits=8", None},
			// Unknown parameters.
			{"permessage-deflate; foo", None},
			{"permessage-deflate; foo=1", None},
			{"permessage-deflate; max_window_bits=10", None},
			// Duplicates.
			{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", None},
			{"permessage-deflate; client_no_context_takeover; Client_No_Context_Takeover", None},
			{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", None},
			{"permessage-deflate; client_max_window_bits; client_max_window_bits=10", None},
			// Values where none belongs.
			{"permessage-deflate; server_no_context_takeover=1", None},
			{"permessage-deflate; client_no_context_takeover=true", None},
			// server_max_window_bits needs a value in 8..15 without leading zeros.
			{"permessage-deflate; server_max_window_bits", None},
			{"permessage-deflate; server_max_window_bits=16", None},
			{"permessage-deflate; server_max_window_bits=7", None},
			{"permessage-deflate; server_max_window_bits=0", None},
			{"permessage-deflate; server_max_window_bits=010", None},
			{"permessage-deflate; server_max_window_bits=1a", None},
			{"permessage-deflate; server_max_window_bits=-9", None},
			{"permessage-deflate; server_max_window_bits=99999999999999999999", None},
			// client_max_window_bits with a bad value.
			{"permessage-deflate; client_max_window_bits=16", None},
			{"permessage-deflate; client_max_window_bits=7", None},
			{"permessage-deflate; client_max_window_bits=abc", None},
			{"permessage-deflate; client_max_window_bits=09", None},
		});
	}

	void testMalformedSyntax()
	{
		checkRows({
			{"permessage-deflate;", None},
			{"permessage-deflate; ", None},
			{"permessage-deflate;; client_no_context_takeover", None},
			{"permessage-deflate; =10", None},
			{"permessage-deflate x", None},
			{"permessage-deflate; client_max_window_bits=10 11", None},
			{"permessage-deflate; client_max_window_bits=", None},
			{"permessage-deflate; client_max_window_bits=\"10", None},
			{"permessage-deflate; client_max_window_bits=\"10\"x", None},
			{"; client_max_window_bits", None},
			{"\"permessage-deflate\"", None},
			{"permessage-deflate; client_max_window_bits=1\x01", None},
		});
	}

	void testAgreedParams()
	{
		auto agreed = DeflateNegotiation::negotiateServer(
			"permessage-deflate; client_max_window_bits=11; server_max_window_bits=12", DeflateServerConfig());
		CPPUNIT_ASSERT(agreed.has_value());
		CPPUNIT_ASSERT(agreed->params.serverNoContextTakeover);
		CPPUNIT_ASSERT(!agreed->params.clientNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(12, agreed->params.serverMaxWindowBits);
		CPPUNIT_ASSERT_EQUAL(11, agreed->params.clientMaxWindowBits);

		agreed = DeflateNegotiation::negotiateServer("permessage-deflate; client_no_context_takeover", DeflateServerConfig());
		CPPUNIT_ASSERT(agreed.has_value());
		CPPUNIT_ASSERT(agreed->params.clientNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(15, agreed->params.serverMaxWindowBits);
		CPPUNIT_ASSERT_EQUAL(15, agreed->params.clientMaxWindowBits);
	}

	void testServerConfigVariants()
	{
		DeflateServerConfig keep;
		keep.serverNoContextTakeover = false;
		checkRows({
			{"permessage-deflate", "permessage-deflate"},
			{"permessage-deflate; server_no_context_takeover", Nct},
			{"permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=15"},
		}, keep);
		auto agreed = DeflateNegotiation::negotiateServer("permessage-deflate", keep);
		CPPUNIT_ASSERT(agreed && !agreed->params.serverNoContextTakeover);

		DeflateServerConfig small;
		small.serverMaxWindowBits = 10;
		checkRows({
			{"permessage-deflate", Nct + "; server_max_window_bits=10"},
			{"permessage-deflate; server_max_window_bits=12", Nct + "; server_max_window_bits=10"},
			{"permessage-deflate; server_max_window_bits=9", Nct + "; server_max_window_bits=9"},
			{"permessage-deflate; server_max_window_bits=8", None},
		}, small);

		DeflateServerConfig tooSmall;
		tooSmall.serverMaxWindowBits = 8;  // clamped to 9: zlib's smallest raw deflate window
		checkRows({{"permessage-deflate", Nct + "; server_max_window_bits=9"}}, tooSmall);

		DeflateServerConfig noClientLimit;
		noClientLimit.acceptClientMaxWindowBits = false;
		checkRows({
			{"permessage-deflate; client_max_window_bits=10", Nct},
			{"permessage-deflate; client_max_window_bits", Nct},
		}, noClientLimit);
		agreed = DeflateNegotiation::negotiateServer("permessage-deflate; client_max_window_bits=10", noClientLimit);
		CPPUNIT_ASSERT(agreed.has_value());
		CPPUNIT_ASSERT_EQUAL(10, agreed->params.clientMaxWindowBits);

		DeflateServerConfig clientLimit;
		clientLimit.clientMaxWindowBits = 10;
		checkRows({
			{"permessage-deflate; client_max_window_bits", Nct + "; client_max_window_bits=10"},
			{"permessage-deflate; client_max_window_bits=12", Nct + "; client_max_window_bits=10"},
			{"permessage-deflate; client_max_window_bits=9", Nct + "; client_max_window_bits=9"},
			// Not offered: the server must not send it (RFC 7692 §7.1.2.2), the client may use 15.
			{"permessage-deflate", Nct},
		}, clientLimit);
		agreed = DeflateNegotiation::negotiateServer("permessage-deflate", clientLimit);
		CPPUNIT_ASSERT(agreed.has_value());
		CPPUNIT_ASSERT_EQUAL(15, agreed->params.clientMaxWindowBits);

		DeflateServerConfig askClient;
		askClient.requestClientNoContextTakeover = true;
		checkRows({
			{"permessage-deflate", Nct + "; client_no_context_takeover"},
			{"permessage-deflate; client_no_context_takeover", Nct + "; client_no_context_takeover"},
		}, askClient);
		agreed = DeflateNegotiation::negotiateServer("permessage-deflate", askClient);
		CPPUNIT_ASSERT(agreed && agreed->params.clientNoContextTakeover);
	}

	void testValidate()
	{
		std::string why;
		CPPUNIT_ASSERT(DeflateNegotiation::validate(DeflateServerConfig(), &why));
		DeflateServerConfig c;
		c.level = 10;
		CPPUNIT_ASSERT(!DeflateNegotiation::validate(c, &why));
		CPPUNIT_ASSERT(why.find("level") != std::string::npos);
		c = DeflateServerConfig();
		c.serverMaxWindowBits = 8;
		CPPUNIT_ASSERT(!DeflateNegotiation::validate(c, &why));
		CPPUNIT_ASSERT(why.find("server_max_window_bits") != std::string::npos);
		c = DeflateServerConfig();
		c.clientMaxWindowBits = 16;
		CPPUNIT_ASSERT(!DeflateNegotiation::validate(c, &why));
		CPPUNIT_ASSERT(why.find("client_max_window_bits") != std::string::npos);

		CPPUNIT_ASSERT(DeflateNegotiation::validate(DeflateClientConfig(), &why));
		DeflateClientConfig cc;
		cc.serverMaxWindowBits = 8;
		CPPUNIT_ASSERT(DeflateNegotiation::validate(cc, &why));
		cc.serverMaxWindowBits = 7;
		CPPUNIT_ASSERT(!DeflateNegotiation::validate(cc, &why));
		cc = DeflateClientConfig();
		cc.clientMaxWindowBits = 8;
		CPPUNIT_ASSERT(!DeflateNegotiation::validate(cc, &why));
		cc = DeflateClientConfig();
		cc.level = -1;
		CPPUNIT_ASSERT(!DeflateNegotiation::validate(cc, &why));
	}

	void testClientOffer()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; client_max_window_bits"), DeflateNegotiation::clientOffer({}));
		DeflateClientConfig c;
		c.offerClientMaxWindowBits = false;
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate"), DeflateNegotiation::clientOffer(c));
		c = DeflateClientConfig();
		c.clientMaxWindowBits = 10;
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; client_max_window_bits=10"), DeflateNegotiation::clientOffer(c));
		c.serverNoContextTakeover = true;
		c.clientNoContextTakeover = true;
		c.serverMaxWindowBits = 11;
		c.clientMaxWindowBits = 12;
		CPPUNIT_ASSERT_EQUAL(std::string("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		                                 "server_max_window_bits=11; client_max_window_bits=12"),
			DeflateNegotiation::clientOffer(c));
	}

	void testClientAccepts()
	{
		checkClientRows({
			{"", DeflateResponse::Declined},
			{"  ", DeflateResponse::Declined},
			{"permessage-deflate", DeflateResponse::Accepted},
			{"permessage-deflate; server_no_context_takeover", DeflateResponse::Accepted},
			{"permessage-deflate; client_no_context_takeover", DeflateResponse::Accepted},
			{"permessage-deflate; server_no_context_takeover; client_max_window_bits=15", DeflateResponse::Accepted},
			{"permessage-deflate; client_max_window_bits=9", DeflateResponse::Accepted},
			{"permessage-deflate; client_max_window_bits=\"10\"", DeflateResponse::Accepted},
			{"permessage-deflate; server_max_window_bits=9", DeflateResponse::Accepted},
			{"permessage-deflate; server_max_window_bits=8", DeflateResponse::Accepted},
			{"Permessage-Deflate ; Server_No_Context_Takeover ;CLIENT_MAX_WINDOW_BITS = 12", DeflateResponse::Accepted},
			{", permessage-deflate", DeflateResponse::Accepted},
		});
	}

	void testClientRejects()
	{
		checkClientRows({
			{"permessage-deflate, permessage-deflate", DeflateResponse::Invalid},
			{"permessage-deflate; server_no_context_takeover, permessage-deflate", DeflateResponse::Invalid},
			{"x-foo", DeflateResponse::Invalid},
			{"permessage-deflate, x-foo", DeflateResponse::Invalid},
			{"permessage-deflate; foo", DeflateResponse::Invalid},
			{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", DeflateResponse::Invalid},
			{"permessage-deflate; client_max_window_bits=10; client_max_window_bits=10", DeflateResponse::Invalid},
			{"permessage-deflate; server_no_context_takeover=1", DeflateResponse::Invalid},
			{"permessage-deflate; client_no_context_takeover=\"\"", DeflateResponse::Invalid},
			{"permessage-deflate; client_max_window_bits", DeflateResponse::Invalid},
			{"permessage-deflate; client_max_window_bits=16", DeflateResponse::Invalid},
			// zlib cannot compress raw deflate with an 8-bit window.
			{"permessage-deflate; client_max_window_bits=8", DeflateResponse::Invalid},
			{"permessage-deflate; server_max_window_bits", DeflateResponse::Invalid},
			{"permessage-deflate; server_max_window_bits=16", DeflateResponse::Invalid},
			{"permessage-deflate; server_max_window_bits=7", DeflateResponse::Invalid},
			{"permessage-deflate; server_max_window_bits=012", DeflateResponse::Invalid},
			{"permessage-deflate;", DeflateResponse::Invalid},
			{"permessage-deflate; client_max_window_bits=\"10", DeflateResponse::Invalid},
			{"permessage-deflate x", DeflateResponse::Invalid},
			{"permessage-deflate; =1", DeflateResponse::Invalid},
		});
	}

	void testClientLimits()
	{
		DeflateClientConfig noClientBits;
		noClientBits.offerClientMaxWindowBits = false;
		checkClientRows({
			{"permessage-deflate; client_max_window_bits=15", DeflateResponse::Invalid},
			{"permessage-deflate", DeflateResponse::Accepted},
		}, noClientBits);

		DeflateClientConfig clientBits;
		clientBits.clientMaxWindowBits = 10;
		checkClientRows({
			{"permessage-deflate; client_max_window_bits=12", DeflateResponse::Invalid},
			{"permessage-deflate; client_max_window_bits=10", DeflateResponse::Accepted},
			{"permessage-deflate; client_max_window_bits=9", DeflateResponse::Accepted},
			{"permessage-deflate", DeflateResponse::Accepted},
		}, clientBits);

		DeflateClientConfig serverBits;
		serverBits.serverMaxWindowBits = 10;
		checkClientRows({
			// Asked for: the server must answer with it (RFC 7692 §7.1.2.1).
			{"permessage-deflate", DeflateResponse::Invalid},
			{"permessage-deflate; server_max_window_bits=12", DeflateResponse::Invalid},
			{"permessage-deflate; server_max_window_bits=10", DeflateResponse::Accepted},
			{"permessage-deflate; server_max_window_bits=9", DeflateResponse::Accepted},
		}, serverBits);

		DeflateClientConfig serverNct;
		serverNct.serverNoContextTakeover = true;
		checkClientRows({
			// Asked for: the server must answer with it (RFC 7692 §7.1.1.1).
			{"permessage-deflate", DeflateResponse::Invalid},
			{"permessage-deflate; server_no_context_takeover", DeflateResponse::Accepted},
		}, serverNct);
	}

	void testClientAgreedParams()
	{
		DeflateParams p;
		std::string why = "stale";
		CPPUNIT_ASSERT(DeflateNegotiation::acceptServerResponse(
			"permessage-deflate; server_no_context_takeover; client_max_window_bits=11; server_max_window_bits=12", {}, p, &why));
		CPPUNIT_ASSERT(why.empty());
		CPPUNIT_ASSERT(p.serverNoContextTakeover);
		CPPUNIT_ASSERT(!p.clientNoContextTakeover);
		CPPUNIT_ASSERT_EQUAL(12, p.serverMaxWindowBits);
		CPPUNIT_ASSERT_EQUAL(11, p.clientMaxWindowBits);

		DeflateClientConfig own;
		own.clientNoContextTakeover = true;
		own.clientMaxWindowBits = 13;
		p = DeflateParams();
		CPPUNIT_ASSERT(DeflateNegotiation::acceptServerResponse("permessage-deflate", own, p, &why));
		CPPUNIT_ASSERT(p.clientNoContextTakeover);  // the client keeps its own promise
		CPPUNIT_ASSERT_EQUAL(13, p.clientMaxWindowBits);
		CPPUNIT_ASSERT_EQUAL(15, p.serverMaxWindowBits);

		p = DeflateParams();
		CPPUNIT_ASSERT(DeflateNegotiation::acceptServerResponse("permessage-deflate; client_no_context_takeover", {}, p, &why));
		CPPUNIT_ASSERT(p.clientNoContextTakeover);

		// Declined: false with an empty reason; invalid: false with a reason.
		CPPUNIT_ASSERT(!DeflateNegotiation::acceptServerResponse("", {}, p, &why));
		CPPUNIT_ASSERT(why.empty());
		CPPUNIT_ASSERT(!DeflateNegotiation::acceptServerResponse("permessage-deflate; foo", {}, p, &why));
		CPPUNIT_ASSERT(!why.empty());
		CPPUNIT_ASSERT(!DeflateNegotiation::acceptServerResponse("permessage-deflate; foo", {}, p, nullptr));
	}

	void testRoundTrip()
	{
		// Every client offer the server accepts gives an answer the client accepts, with the same params.
		for (int clientBits = 9; clientBits <= 15; ++clientBits)
			for (int serverBits = 9; serverBits <= 15; ++serverBits)
				for (int flags = 0; flags < 8; ++flags)
				{
					DeflateClientConfig c;
					c.clientMaxWindowBits = clientBits;
					c.serverMaxWindowBits = serverBits;
					c.clientNoContextTakeover = (flags & 1) != 0;
					c.serverNoContextTakeover = (flags & 2) != 0;
					c.offerClientMaxWindowBits = (flags & 4) != 0;
					DeflateServerConfig s;
					s.serverNoContextTakeover = clientBits % 2 == 0;
					s.serverMaxWindowBits = 12;
					s.clientMaxWindowBits = 11;
					const auto agreed = DeflateNegotiation::negotiateServer(DeflateNegotiation::clientOffer(c), s);
					CPPUNIT_ASSERT(agreed.has_value());
					DeflateParams p;
					std::string why;
					CPPUNIT_ASSERT_MESSAGE(agreed->response + ": " + why, DeflateNegotiation::acceptServerResponse(agreed->response, c, p, &why));
					CPPUNIT_ASSERT_EQUAL(agreed->params.serverNoContextTakeover, p.serverNoContextTakeover);
					CPPUNIT_ASSERT_EQUAL(agreed->params.clientNoContextTakeover, p.clientNoContextTakeover);
					CPPUNIT_ASSERT_EQUAL(agreed->params.serverMaxWindowBits, p.serverMaxWindowBits);
					CPPUNIT_ASSERT_EQUAL(agreed->params.clientMaxWindowBits, p.clientMaxWindowBits);
				}
	}
	void testRandomOffers()
	{
		// Offers stitched from the grammar's pieces: never a crash, and every answer is one
		// permessage-deflate element that a client offering the most permissive set accepts.
		const std::vector<std::string> pieces = {"permessage-deflate", "PerMessage-Deflate", "x-foo", ";", ",", "=", " ",
			"\t", "\"", "\\", "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits",
			"client_max_window_bits", "8", "9", "10", "15", "16", "0", "\"12\"", "foo", "\x01", "\xff"};
		std::mt19937 rng(7692);
		std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
		std::uniform_int_distribution<int> length(0, 14);
		DeflateClientConfig permissive;
		int accepted = 0;
		for (int i = 0; i < 20000; ++i)
		{
			std::string offer;
			const int n = length(rng);
			for (int k = 0; k < n; ++k)
				offer += pieces[pick(rng)];
			const auto agreed = DeflateNegotiation::negotiateServer(offer, DeflateServerConfig());
			if (!agreed)
				continue;
			++accepted;
			if (agreed->params.clientMaxWindowBits == 8)
				continue;  // only an offer of client_max_window_bits=8 gets 8 back; a zlib client never sends it
			DeflateParams p;
			std::string why;
			CPPUNIT_ASSERT_MESSAGE(offer + " -> " + agreed->response + ": " + why,
				DeflateNegotiation::acceptServerResponse(agreed->response, permissive, p, &why));
			CPPUNIT_ASSERT(p.serverMaxWindowBits >= 9);
		}
		CPPUNIT_ASSERT(accepted > 0);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(DeflateNegotiationTest, "core");
