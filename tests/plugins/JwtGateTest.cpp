//
// JwtGateTest.cpp — the real jwt gate loaded from the build: tokens made here with Poco::JWT (HS256/
// 384/512, RS256 and ES256 with keys made by the openssl command), by hand (alg none, broken
// ones), with the openssl command and with the python3 one-liner the README quotes.
//
#include "parley/Gate.h"
#include "parley/PluginRegistry.h"
#include "support/LoadedRegistry.h"
#include "support/TestEnv.h"
#include <Poco/Base64Encoder.h>
#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <cppunit/extensions/HelperMacros.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using namespace parley;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string b64url(const std::string& bytes)
{
	std::ostringstream out;
	Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
	encoder << bytes;
	encoder.close();
	return out.str();
}

/// A token over `claims` (a JSON object), signed by `signer` with `alg`.
std::string sign(const Poco::JWT::Signer& signer, const std::string& claims, const std::string& alg = "HS256")
{
	Poco::JWT::Token token;
	token.setType("JWT");
	Poco::JSON::Parser parser;
	token.payload() = *parser.parse(claims).extract<Poco::JSON::Object::Ptr>();
	return signer.sign(token, alg);
}

std::string hs(const std::string& claims, const std::string& alg = "HS256", const std::string& secret = kSecret)
{
	Poco::JWT::Signer signer(secret);
	signer.addAllAlgorithms();
	return sign(signer, claims, alg);
}

/// {"sub":"alice","exp":now+600} plus `more` (",\"k\":v..." members).
std::string claims(const std::string& more = "", std::int64_t exp = now() + 600)
{
	return "{\"sub\":\"alice\",\"exp\":" + std::to_string(exp) + more + "}";
}

std::string run(const std::string& command)
{
	std::string out;
	if (FILE* p = ::popen(command.c_str(), "r"))
	{
		char buffer[4096];
		std::size_t n;
		while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) out.append(buffer, n);
		::pclose(p);
	}
	while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
	return out;
}

/// Key pairs made once by the openssl command, in a folder removed at exit.
struct Keys
{
	std::string dir, rsaPrivate, rsaPublic, rsa2Private, ecPrivate, ecPublic, ec2Private;

	static const Keys& get()
	{
		static const Keys keys;
		return keys;
	}

private:
	Keys()
	{
		dir = Poco::TemporaryFile::tempName();
		Poco::File(dir).createDirectories();
		Poco::TemporaryFile::registerForDeletion(dir);
		const std::string openssl = PARLEY_OPENSSL;
		auto make = [&](const std::string& name, const std::string& options) {
			const std::string file = dir + "/" + name + ".pem";
			const std::string cmd = openssl + " genpkey " + options + " -out " + file + " 2>/dev/null && " + openssl +
				" pkey -in " + file + " -pubout -out " + dir + "/" + name + ".pub.pem 2>/dev/null";
			CPPUNIT_ASSERT_EQUAL_MESSAGE(cmd, 0, std::system(cmd.c_str()));
			return file;
		};
		rsaPrivate = make("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
		rsaPublic = dir + "/rsa.pub.pem";
		rsa2Private = make("rsa2", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
		ecPrivate = make("ec", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
		ecPublic = dir + "/ec.pub.pem";
		ec2Private = make("ec2", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
	}
};

std::string rs(const std::string& privateKey, const std::string& claims, const std::string& alg = "RS256")
{
	Poco::JWT::Signer signer(Poco::SharedPtr<Poco::Crypto::RSAKey>(new Poco::Crypto::RSAKey("", privateKey)));
	signer.addAllAlgorithms();
	return sign(signer, claims, alg);
}

std::string es(const std::string& privateKey, const std::string& claims)
{
	Poco::JWT::Signer signer(Poco::SharedPtr<Poco::Crypto::ECKey>(new Poco::Crypto::ECKey("", privateKey)));
	signer.addAllAlgorithms();
	return sign(signer, claims, "ES256");
}

Headers bearer(const std::string& token) { return {{"Host", "h"}, {"Authorization", "Bearer " + token}}; }

GateVerdict check(Gate& gate, const Headers& headers, const std::string& query = "")
{
	GateRequest request;
	request.method = "GET";
	request.path = "/x";
	request.query = query;
	request.remoteAddress = "127.0.0.1";
	request.remotePort = 40000;
	request.headers = &headers;
	GateVerdict verdict;
	gate.check(request, verdict);
	return verdict;
}

std::string header(const GateVerdict& v, const std::string& name)
{
	for (const auto& h : v.headers)
		if (h.first == name) return h.second;
	return "(none)";
}

void assertAdmitted(const GateVerdict& v, const std::string& who = "alice")
{
	CPPUNIT_ASSERT_MESSAGE(v.reason, v.admitted);
	CPPUNIT_ASSERT_EQUAL(who, v.identity);
}

void assertRefused(const GateVerdict& v, const std::string& reason)
{
	CPPUNIT_ASSERT_MESSAGE(reason, !v.admitted);
	CPPUNIT_ASSERT_EQUAL(401, v.status);
	CPPUNIT_ASSERT_EQUAL(reason, v.reason);
	CPPUNIT_ASSERT_EQUAL(std::size_t(1), v.headers.size());
	CPPUNIT_ASSERT_EQUAL("Bearer realm=\"parley\", error=\"invalid_token\", error_description=\"" + reason + "\"",
		header(v, "WWW-Authenticate"));
}

} // namespace

class JwtGateTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(JwtGateTest);
	CPPUNIT_TEST(testListedAsGate);
	CPPUNIT_TEST(testBearerHeader);
	CPPUNIT_TEST(testAccessTokenParameter);
	CPPUNIT_TEST(testCookie);
	CPPUNIT_TEST(testWhereTheTokenIsLooked);
	CPPUNIT_TEST(testNoToken);
	CPPUNIT_TEST(testAttributes);
	CPPUNIT_TEST(testHs384AndHs512);
	CPPUNIT_TEST(testExpired);
	CPPUNIT_TEST(testNotYetValid);
	CPPUNIT_TEST(testLeeway);
	CPPUNIT_TEST(testAudience);
	CPPUNIT_TEST(testIssuer);
	CPPUNIT_TEST(testNoSubject);
	CPPUNIT_TEST(testBadSignature);
	CPPUNIT_TEST(testAlgorithmNone);
	CPPUNIT_TEST(testAlgorithmNotAllowed);
	CPPUNIT_TEST(testMalformed);
	CPPUNIT_TEST(testGarbageNeverCrashes);
	CPPUNIT_TEST(testRs256);
	CPPUNIT_TEST(testRs256FromOpensslCommand);
	CPPUNIT_TEST(testEs256);
	CPPUNIT_TEST(testCloseAtExpiry);
	CPPUNIT_TEST(testConfigureErrors);
	CPPUNIT_TEST(testUnconfiguredRefusesAll);
	CPPUNIT_TEST(testPythonOneLiner);
	CPPUNIT_TEST(testOpensslCommands);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_plugins.reset(new test::LoadedRegistry);
		_registry = &_plugins->registry();
	}
	void tearDown() override { _plugins.reset(); }

	std::unique_ptr<Gate> gate(Settings settings = {})
	{
		if (!settings.count("secret") && !settings.count("public_key_file")) settings["secret"] = kSecret;
		return _registry->createGate("jwt", settings);
	}

	void testListedAsGate()
	{
		for (const auto& p : _registry->plugins())
		{
			if (p.name != "jwt") continue;
			CPPUNIT_ASSERT_EQUAL(std::string("gate"), p.kind);
			std::string keys;
			for (const auto& s : p.settings) keys += s.first + " ";
			CPPUNIT_ASSERT_EQUAL(std::string("secret public_key_file algorithms audience issuer leeway_s cookie close_at_expiry "), keys);
			return;
		}
		CPPUNIT_FAIL("jwt is not loaded:\n" + _plugins->log().dump());
	}

	void testBearerHeader()
	{
		auto g = gate();
		const std::string token = hs(claims());
		assertAdmitted(check(*g, bearer(token)));
		assertAdmitted(check(*g, {{"authorization", "bearer   " + token + "  "}}));
		CPPUNIT_ASSERT_EQUAL(std::int64_t(0), check(*g, bearer(token)).expiresAt);
	}

	void testAccessTokenParameter()
	{
		auto g = gate();
		const std::string token = hs(claims());
		assertAdmitted(check(*g, {{"Host", "h"}}, "room=1&access_token=" + token + "&x=y"));
		// Percent-encoded as a browser may send it.
		std::string encoded;
		for (char c : token) encoded += c == '.' ? std::string("%2E") : std::string(1, c);
		assertAdmitted(check(*g, {}, "access_token=" + encoded));
	}

	void testCookie()
	{
		auto g = gate({{"cookie", "session"}});
		const std::string token = hs(claims());
		assertAdmitted(check(*g, {{"Cookie", "theme=dark; session=" + token + "; lang=en"}}));
		assertAdmitted(check(*g, {{"Cookie", "a=b"}, {"Cookie", "session=\"" + token + "\""}}));
		// Without the setting no cookie is read.
		auto plain = gate();
		const GateVerdict v = check(*plain, {{"Cookie", "session=" + token}});
		CPPUNIT_ASSERT(!v.admitted);
		CPPUNIT_ASSERT_EQUAL(std::string("no token"), v.reason);
	}

	void testWhereTheTokenIsLooked()
	{
		// Authorization first, then access_token, then the cookie; a header of another scheme is no token.
		auto g = gate({{"cookie", "jwt"}});
		const std::string good = hs(claims()), bad = hs(claims(), "HS256", "another secret");
		assertRefused(check(*g, {{"Authorization", "Bearer " + bad}, {"Cookie", "jwt=" + good}}, "access_token=" + good), "bad signature");
		assertRefused(check(*g, {{"Cookie", "jwt=" + good}}, "access_token=" + bad), "bad signature");
		assertAdmitted(check(*g, {{"Authorization", "Basic dXNlcjpwYXNz"}, {"Cookie", "jwt=" + good}}, "access_token="));
		assertAdmitted(check(*g, {{"Authorization", "Bearer"}}, "access_token=" + good));
	}

	void testNoToken()
	{
		auto g = gate({{"cookie", "jwt"}});
		for (const Headers& h : {Headers{}, Headers{{"Authorization", "Basic dXNlcjpwYXNz"}}, Headers{{"Authorization", "Bearer "}},
				 Headers{{"Cookie", "other=1"}}})
		{
			const GateVerdict v = check(*g, h, "access_token=");
			CPPUNIT_ASSERT(!v.admitted);
			CPPUNIT_ASSERT_EQUAL(401, v.status);
			CPPUNIT_ASSERT_EQUAL(std::string("no token"), v.reason);
			// RFC 6750 3.1: no error code when the request had no token at all.
			CPPUNIT_ASSERT_EQUAL(std::string("Bearer realm=\"parley\""), header(v, "WWW-Authenticate"));
		}
	}

	void testAttributes()
	{
		auto g = gate();
		const std::int64_t exp = now() + 600;
		const GateVerdict v = check(*g, bearer(hs(claims(R"(,"name":"Alice \"A\"","role":"admin","level":7,"ratio":0.5,"ok":true,"roles":["a","b"],"o":{"k":1},"n":null)", exp))));
		assertAdmitted(v);
		const Attributes expected{{"jwt.sub", "alice"}, {"jwt.exp", std::to_string(exp)}, {"jwt.name", "Alice \"A\""},
			{"jwt.role", "admin"}, {"jwt.level", "7"}, {"jwt.ratio", "0.5"}};
		CPPUNIT_ASSERT_EQUAL(expected.size(), v.attributes.size());
		for (const auto& [key, value] : expected)
		{
			CPPUNIT_ASSERT_MESSAGE(key, v.attributes.count(key));
			CPPUNIT_ASSERT_EQUAL_MESSAGE(key, value, v.attributes.at(key));
		}
	}

	void testHs384AndHs512()
	{
		auto g = gate();
		assertAdmitted(check(*g, bearer(hs(claims(), "HS384"))));
		assertAdmitted(check(*g, bearer(hs(claims(), "HS512"))));
	}

	void testExpired()
	{
		auto g = gate();
		assertRefused(check(*g, bearer(hs(claims("", now() - 120)))), "token expired");
		assertRefused(check(*g, bearer(hs(claims("", 0)))), "token expired");
		assertRefused(check(*g, bearer(hs(claims("", -5)))), "token expired");
	}

	void testNotYetValid()
	{
		auto g = gate();
		assertRefused(check(*g, bearer(hs(claims(",\"nbf\":" + std::to_string(now() + 120))))), "token not yet valid");
		assertAdmitted(check(*g, bearer(hs(claims(",\"nbf\":" + std::to_string(now() - 1))))));
	}

	void testLeeway()
	{
		const std::string lateExp = hs(claims("", now() - 10));
		const std::string earlyNbf = hs(claims(",\"nbf\":" + std::to_string(now() + 10)));
		auto byDefault = gate(); // 30 s
		assertAdmitted(check(*byDefault, bearer(lateExp)));
		assertAdmitted(check(*byDefault, bearer(earlyNbf)));
		auto strict = gate({{"leeway_s", "0"}});
		assertRefused(check(*strict, bearer(lateExp)), "token expired");
		assertRefused(check(*strict, bearer(earlyNbf)), "token not yet valid");
		auto lenient = gate({{"leeway_s", "300"}});
		assertAdmitted(check(*lenient, bearer(hs(claims("", now() - 200)))));
		assertRefused(check(*lenient, bearer(hs(claims("", now() - 400)))), "token expired");
	}

	void testAudience()
	{
		auto g = gate({{"audience", "parley-app"}});
		assertAdmitted(check(*g, bearer(hs(claims(R"(,"aud":"parley-app")")))));
		assertAdmitted(check(*g, bearer(hs(claims(R"(,"aud":["other","parley-app"])")))));
		assertRefused(check(*g, bearer(hs(claims(R"(,"aud":"other")")))), "wrong audience");
		assertRefused(check(*g, bearer(hs(claims(R"(,"aud":["other","parley-app2"])")))), "wrong audience");
		assertRefused(check(*g, bearer(hs(claims(R"(,"aud":[1,true,null])")))), "wrong audience");
		assertRefused(check(*g, bearer(hs(claims()))), "wrong audience");
		// Without the setting any audience is fine.
		assertAdmitted(check(*gate(), bearer(hs(claims(R"(,"aud":"other")")))));
	}

	void testIssuer()
	{
		auto g = gate({{"issuer", "https://id.example.com"}});
		assertAdmitted(check(*g, bearer(hs(claims(R"(,"iss":"https://id.example.com")")))));
		assertRefused(check(*g, bearer(hs(claims(R"(,"iss":"https://evil.example.com")")))), "wrong issuer");
		assertRefused(check(*g, bearer(hs(claims(R"(,"iss":["https://id.example.com"])")))), "wrong issuer");
		assertRefused(check(*g, bearer(hs(claims()))), "wrong issuer");
	}

	void testNoSubject()
	{
		auto g = gate();
		const std::string exp = std::to_string(now() + 600);
		assertRefused(check(*g, bearer(hs("{\"exp\":" + exp + "}"))), "token has no subject");
		assertRefused(check(*g, bearer(hs("{\"sub\":\"\",\"exp\":" + exp + "}"))), "token has no subject");
		assertRefused(check(*g, bearer(hs("{\"sub\":42,\"exp\":" + exp + "}"))), "token has no subject");
	}

	void testBadSignature()
	{
		auto g = gate();
		assertRefused(check(*g, bearer(hs(claims(), "HS256", "another secret"))), "bad signature");
		// A payload changed after signing.
		const std::string token = hs(claims());
		const std::size_t dot1 = token.find('.'), dot2 = token.rfind('.');
		const std::string forged = token.substr(0, dot1 + 1) + b64url(R"({"sub":"admin"})") + token.substr(dot2);
		assertRefused(check(*g, bearer(forged)), "bad signature");
		// No signature, a short one, one of the wrong algorithm's length.
		assertRefused(check(*g, bearer(token.substr(0, dot2 + 1))), "bad signature");
		assertRefused(check(*g, bearer(token.substr(0, dot2 + 1) + b64url("short"))), "bad signature");
		assertRefused(check(*g, bearer(token.substr(0, dot2 + 1) + b64url(std::string(64, 'x')))), "bad signature");
	}

	void testAlgorithmNone()
	{
		auto g = gate();
		const std::string payload = b64url(claims());
		for (const char* alg : {"none", "None", "NONE"})
		{
			const std::string head = b64url(std::string("{\"alg\":\"") + alg + "\",\"typ\":\"JWT\"}");
			assertRefused(check(*g, bearer(head + "." + payload + ".")), "algorithm none not allowed");
			assertRefused(check(*g, bearer(head + "." + payload + "." + b64url("x"))), "algorithm none not allowed");
		}
		// Even when the operator lists it.
		CPPUNIT_ASSERT_THROW(gate({{"algorithms", "HS256, none"}}), std::invalid_argument);
	}

	void testAlgorithmNotAllowed()
	{
		auto only256 = gate({{"algorithms", "HS256"}});
		assertAdmitted(check(*only256, bearer(hs(claims()))));
		assertRefused(check(*only256, bearer(hs(claims(), "HS512"))), "algorithm HS512 not allowed");
		// An algorithm name that is not one: not repeated back to the client.
		const std::string head = b64url(R"({"alg":"X\r\nSet-Cookie: a=b","typ":"JWT"})");
		assertRefused(check(*only256, bearer(head + "." + b64url(claims()) + "." + b64url("sig"))), "algorithm not allowed");
	}

	void testMalformed()
	{
		auto g = gate();
		const std::string good = hs(claims());
		const std::string head = good.substr(0, good.find('.'));
		std::string fourNPlusOne = b64url(claims());
		while (fourNPlusOne.size() % 4 != 1) fourNPlusOne += 'A';
		const std::string big = std::string(20000, 'a') + "." + std::string(20000, 'b') + "." + std::string(100, 'c');
		for (const std::string& t : {std::string("garbage"), std::string(".."), std::string("a.b"), std::string("a.b.c.d"),
				 std::string("!!!.@@@.###"), std::string("eyJ.eyJ.x"), head + ".." + "sig", "." + good,
				 b64url("not json") + "." + b64url(claims()) + ".c2ln",
				 b64url("[1,2]") + "." + b64url(claims()) + ".c2ln",
				 b64url(R"({"typ":"JWT"})") + "." + b64url(claims()) + ".c2ln",      // no alg
				 b64url(R"({"alg":256})") + "." + b64url(claims()) + ".c2ln",        // alg not a string
				 head + "." + b64url("[\"sub\"]") + "." + good.substr(good.rfind('.') + 1),
				 head + "." + fourNPlusOne + ".c2ln",                                  // no base64 has 4n+1 characters
				 head + "." + b64url(claims()) + ".c2l",                              // "si" with trailing bits not zero
				 head + "." + b64url(std::string(200, '[')) + ".c2ln",
				 good + "%", big, good + std::string(20000, 'A')})
		{
			assertRefused(check(*g, bearer(t)), "malformed token");
			assertRefused(check(*g, {}, "access_token=" + t), "malformed token");
		}
		// Claims of the wrong type in a token signed with the right key.
		assertRefused(check(*g, bearer(hs(R"({"sub":"alice","exp":"tomorrow"})"))), "malformed token");
		assertRefused(check(*g, bearer(hs(R"({"sub":"alice","exp":true})"))), "malformed token");
		assertRefused(check(*g, bearer(hs(R"({"sub":"alice","nbf":[1]})"))), "malformed token");
	}

	void testGarbageNeverCrashes()
	{
		auto g = gate();
		const std::string good = hs(claims(R"(,"aud":["a","b"],"name":"x")"));
		std::mt19937 random(12345);
		const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/%\"\\ {}\x01\xff";
		for (int i = 0; i < 3000; ++i)
		{
			std::string t = good;
			const int edits = 1 + static_cast<int>(random() % 8);
			for (int k = 0; k < edits; ++k)
			{
				const std::size_t at = random() % (t.size() + 1);
				switch (random() % 3)
				{
				case 0: t.insert(at, 1, alphabet[random() % alphabet.size()]); break;
				case 1: if (at < t.size()) t.erase(at, 1); break;
				default: if (at < t.size()) t[at] = alphabet[random() % alphabet.size()];
				}
			}
			if (i % 3 == 0) t = t.substr(0, random() % (t.size() + 1));
			const GateVerdict v = check(*g, {}, "access_token=" + t);
			if (v.admitted) continue; // an edit that changed nothing that matters (e.g. base64 padding bits)
			CPPUNIT_ASSERT_EQUAL(401, v.status);
			CPPUNIT_ASSERT(!v.reason.empty() && v.headers.size() == 1);
		}
	}

	void testRs256()
	{
		const Keys& keys = Keys::get();
		auto g = gate({{"public_key_file", keys.rsaPublic}, {"audience", "parley"}});
		assertAdmitted(check(*g, bearer(rs(keys.rsaPrivate, claims(R"(,"aud":"parley")")))));
		assertRefused(check(*g, bearer(rs(keys.rsa2Private, claims(R"(,"aud":"parley")")))), "bad signature");
		assertRefused(check(*g, bearer(rs(keys.rsaPrivate, claims(R"(,"aud":"x")")))), "wrong audience");
		assertRefused(check(*g, bearer(rs(keys.rsaPrivate, claims(R"(,"aud":"parley")", now() - 100)))), "token expired");
		// By default an RSA key allows RS256 only: no HS256 (made with the public key as its
		// secret: the algorithm confusion attack), no ES256.
		std::ifstream in(keys.rsaPublic);
		const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		assertRefused(check(*g, bearer(hs(claims(R"(,"aud":"parley")"), "HS256", pem))), "algorithm HS256 not allowed");
		assertRefused(check(*g, bearer(es(keys.ecPrivate, claims(R"(,"aud":"parley")")))), "algorithm ES256 not allowed");
		assertRefused(check(*g, bearer(rs(keys.rsaPrivate, claims(R"(,"aud":"parley")"), "RS512"))), "algorithm RS512 not allowed");
		auto more = gate({{"public_key_file", keys.rsaPublic}, {"algorithms", "RS256,RS512"}});
		assertAdmitted(check(*more, bearer(rs(keys.rsaPrivate, claims(), "RS512"))));
		// A secret and a key: both families.
		auto both = gate({{"public_key_file", keys.rsaPublic}, {"secret", kSecret}});
		assertAdmitted(check(*both, bearer(rs(keys.rsaPrivate, claims()))));
		assertAdmitted(check(*both, bearer(hs(claims()))));
	}

	void testRs256FromOpensslCommand()
	{
		// A token signed by the openssl command, not by Poco.
		const Keys& keys = Keys::get();
		const std::string input = b64url(R"({"alg":"RS256","typ":"JWT"})") + "." + b64url(claims());
		const std::string file = keys.dir + "/input.txt";
		std::ofstream(file) << input;
		const std::string signature = run(std::string(PARLEY_OPENSSL) + " dgst -sha256 -sign " + keys.rsaPrivate + " -binary " +
			file + " | " + PARLEY_OPENSSL + " base64 -A | tr '+/' '-_' | tr -d '='");
		auto g = gate({{"public_key_file", keys.rsaPublic}});
		assertAdmitted(check(*g, bearer(input + "." + signature)));
	}

	void testEs256()
	{
		const Keys& keys = Keys::get();
		auto g = gate({{"public_key_file", keys.ecPublic}, {"issuer", "me"}});
		assertAdmitted(check(*g, bearer(es(keys.ecPrivate, claims(R"(,"iss":"me")")))));
		assertRefused(check(*g, bearer(es(keys.ec2Private, claims(R"(,"iss":"me")")))), "bad signature");
		assertRefused(check(*g, bearer(es(keys.ecPrivate, claims(R"(,"iss":"you")")))), "wrong issuer");
		assertRefused(check(*g, bearer(rs(keys.rsaPrivate, claims(R"(,"iss":"me")")))), "algorithm RS256 not allowed");
		// Signatures of the wrong length (a DER one is ~70 bytes, ES256's is 64).
		const std::string token = es(keys.ecPrivate, claims(R"(,"iss":"me")"));
		const std::string unsigned_ = token.substr(0, token.rfind('.') + 1);
		assertRefused(check(*g, bearer(unsigned_)), "bad signature");
		assertRefused(check(*g, bearer(unsigned_ + b64url(std::string(70, '\x30')))), "bad signature");
		assertRefused(check(*g, bearer(unsigned_ + b64url(std::string(64, '\0')))), "bad signature");
	}

	void testCloseAtExpiry()
	{
		const std::int64_t exp = now() + 600;
		auto g = gate({{"close_at_expiry", "true"}});
		const GateVerdict v = check(*g, bearer(hs(claims("", exp))));
		assertAdmitted(v);
		CPPUNIT_ASSERT_EQUAL(exp, v.expiresAt);
		// No exp: nothing to close at.
		CPPUNIT_ASSERT_EQUAL(std::int64_t(0), check(*g, bearer(hs(R"({"sub":"alice"})"))).expiresAt);
		CPPUNIT_ASSERT_EQUAL(std::int64_t(0), check(*gate({{"close_at_expiry", "false"}}), bearer(hs(claims("", exp)))).expiresAt);
	}

	void testConfigureErrors()
	{
		const Keys& keys = Keys::get();
		const std::vector<std::pair<Settings, std::string>> bad{
			{{{"audience", "x"}}, "secret"},
			{{{"secret", ""}}, "secret"},
			{{{"public_key_file", "/nonexistent/key.pem"}}, "public_key_file"},
			{{{"public_key_file", keys.dir + "/input-that-is-not-a-key.txt"}}, "public_key_file"},
			{{{"secret", kSecret}, {"leeway_s", "abc"}}, "leeway_s"},
			{{{"secret", kSecret}, {"leeway_s", "-1"}}, "leeway_s"},
			{{{"secret", kSecret}, {"leeway_s", "99999999999999999999"}}, "leeway_s"},
			{{{"secret", kSecret}, {"algorithms", "none"}}, "algorithms"},
			{{{"secret", kSecret}, {"algorithms", "HS256,XS999"}}, "algorithms"},
			{{{"secret", kSecret}, {"algorithms", " , "}}, "algorithms"},
			{{{"secret", kSecret}, {"algorithms", "RS256"}}, "algorithms"},
			{{{"public_key_file", keys.rsaPublic}, {"algorithms", "HS256"}}, "algorithms"},
			{{{"public_key_file", keys.rsaPublic}, {"algorithms", "ES256"}}, "algorithms"},
			{{{"public_key_file", keys.ecPublic}, {"algorithms", "RS256"}}, "algorithms"},
			{{{"secret", kSecret}, {"close_at_expiry", "maybe"}}, "close_at_expiry"},
			{{{"secret", kSecret}, {"secrett", "typo"}}, "secrett"},
		};
		std::ofstream(keys.dir + "/input-that-is-not-a-key.txt") << "not a key\n";
		for (const auto& [settings, key] : bad)
		{
			std::string what;
			try
			{
				_registry->createGate("jwt", settings);
			}
			catch (const std::invalid_argument& e)
			{
				what = e.what();
			}
			CPPUNIT_ASSERT_MESSAGE("no error naming " + key, what.find("plugin.jwt: " + key) == 0);
		}
		// Good values of each.
		gate({{"leeway_s", "0"}, {"algorithms", " HS512 , HS256 "}, {"close_at_expiry", "yes"}, {"cookie", ""}});
		gate({{"public_key_file", keys.ecPublic}, {"algorithms", "ES256"}});
	}

	void testUnconfiguredRefusesAll()
	{
		// Loaded without settings (as a host that routes no gate does), it exists, but a route
		// that uses it without configuring it gets a failure (503 from the host), never an admission.
		auto g = _registry->createGate("jwt", {});
		const std::string token = hs(claims());
		try
		{
			const GateVerdict v = check(*g, bearer(token));
			CPPUNIT_FAIL("checked without a secret or key: admitted=" + std::to_string(v.admitted));
		}
		catch (const std::runtime_error& e)
		{
			CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find("plugin.jwt.secret") != std::string::npos);
		}
	}

	void testPythonOneLiner()
	{
		// The command the README quotes: python3 and its standard library only.
		const std::string command = test::python() + R"( -c 'import base64,hashlib,hmac,json,sys,time
b=lambda raw:base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
j=lambda obj:b(json.dumps(obj).encode())
m=j({"alg":"HS256","typ":"JWT"})+"."+j({"sub":sys.argv[2],"exp":int(time.time())+3600})
print(m+"."+b(hmac.new(sys.argv[1].encode(),m.encode(),hashlib.sha256).digest()))' )" + kSecret + " bob";
		const std::string token = run(command);
		CPPUNIT_ASSERT_MESSAGE(command, token.size() > 40);
		auto g = gate();
		const GateVerdict v = check(*g, bearer(token));
		assertAdmitted(v, "bob");
		CPPUNIT_ASSERT(v.attributes.count("jwt.exp"));
	}

	void testOpensslCommands()
	{
		// The same with the openssl command and a POSIX shell (the README may quote either).
		const std::string openssl = PARLEY_OPENSSL;
		const std::string command = "SECRET=" + kSecret + " OPENSSL=" + openssl + R"( /bin/sh -c '
b64url() { "$OPENSSL" base64 -A | tr "+/" "-_" | tr -d "="; }
h=$(printf "{\"alg\":\"HS256\",\"typ\":\"JWT\"}" | b64url)
p=$(printf "{\"sub\":\"carol\",\"exp\":%d}" $(( $(date +%s) + 3600 )) | b64url)
s=$(printf "%s.%s" "$h" "$p" | "$OPENSSL" dgst -sha256 -hmac "$SECRET" -binary | b64url)
echo "$h.$p.$s"')";
		const std::string token = run(command);
		CPPUNIT_ASSERT_MESSAGE(command, token.size() > 40);
		auto g = gate();
		assertAdmitted(check(*g, bearer(token)), "carol");
	}

private:
	std::unique_ptr<test::LoadedRegistry> _plugins;
	PluginRegistry* _registry = nullptr;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(JwtGateTest, "plugins");
