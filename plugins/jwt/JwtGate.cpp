//
// JwtGate.cpp — the `jwt` gate: admits an upgrade request that carries a valid JSON Web Token
// (RFC 7519), as the token's `sub`, with its string and number claims as "jwt.<claim>" attributes.
//
// The token comes from `Authorization: Bearer <token>`, else the `access_token` query parameter
// (browsers cannot set headers on a WebSocket), else the cookie named by `cookie`. Signatures are
// checked with Poco's JWT library: HS256/384/512 with `secret`, RS256 and ES256 with the PEM
// public key of `public_key_file`; `alg: none` is never accepted. Then `exp` and `nbf` (with
// `leeway_s` of clock skew), `aud` and `iss` when configured. Every refusal is 401 with a reason
// and an RFC 6750 WWW-Authenticate header; nothing a client sends can make it throw.
//
#include "parley/Gate.h"
#include <Poco/ClassLibrary.h>
#include <Poco/Crypto/DigestEngine.h>
#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/HMACEngine.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

namespace {

/// Longer tokens are refused as malformed before any decoding.
constexpr std::size_t kMaxTokenBytes = 16384;
constexpr long kMaxLeeway = 86400;
/// Times past 9999-12-31T23:59:59Z are read as that (no overflow in the host's arithmetic).
constexpr double kLatest = 253402300799.0;

const std::set<std::string> kAlgorithms{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"};

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
	return s;
}

bool sameIgnoringCase(std::string_view a, std::string_view b)
{
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
		return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
	});
}

/// Decodes unpadded base64url (RFC 7515 section 2) strictly: only its alphabet, no length of 4n+1
/// characters and no bits set past the last byte, so each byte string has exactly one encoding.
bool decodeBase64Url(std::string_view in, std::string& out)
{
	auto value = [](char c) -> int {
		if (c >= 'A' && c <= 'Z') return c - 'A';
		if (c >= 'a' && c <= 'z') return c - 'a' + 26;
		if (c >= '0' && c <= '9') return c - '0' + 52;
		if (c == '-') return 62;
		if (c == '_') return 63;
		return -1;
	};
	if (in.size() % 4 == 1) return false;
	out.clear();
	out.reserve(in.size() * 3 / 4);
	unsigned bits = 0;
	int count = 0;
	for (char c : in)
	{
		const int v = value(c);
		if (v < 0) return false;
		bits = (bits << 6) | static_cast<unsigned>(v);
		count += 6;
		if (count >= 8)
		{
			count -= 8;
			out.push_back(static_cast<char>((bits >> count) & 0xFF));
		}
	}
	return (bits & ((1u << count) - 1)) == 0;
}

class Sha256Engine: public Poco::Crypto::DigestEngine
{
public:
	enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
	Sha256Engine(): Poco::Crypto::DigestEngine("SHA256") {}
};

class Sha384Engine: public Poco::Crypto::DigestEngine
{
public:
	enum { BLOCK_SIZE = 128, DIGEST_SIZE = 48 };
	Sha384Engine(): Poco::Crypto::DigestEngine("SHA384") {}
};

class Sha512Engine: public Poco::Crypto::DigestEngine
{
public:
	enum { BLOCK_SIZE = 128, DIGEST_SIZE = 64 };
	Sha512Engine(): Poco::Crypto::DigestEngine("SHA512") {}
};

/// True if HMAC(key, data) equals `signature`, compared in constant time (Poco's Signer compares
/// HMACs with ==, which returns at the first differing byte).
template <typename Engine>
bool hmacMatches(const std::string& key, std::string_view data, const std::string& signature)
{
	Poco::HMACEngine<Engine> hmac(key);
	hmac.update(data.data(), data.size());
	const Poco::DigestEngine::Digest& digest = hmac.digest();
	if (digest.size() != signature.size()) return false;
	unsigned char difference = 0;
	for (std::size_t i = 0; i < digest.size(); ++i) difference |= digest[i] ^ static_cast<unsigned char>(signature[i]);
	return difference == 0;
}

bool isNumber(const Poco::Dynamic::Var& v)
{
	return v.isNumeric() && !v.isBoolean();
}

/// A NumericDate claim (RFC 7519 section 2) as seconds, within +-kLatest.
double seconds(const Poco::Dynamic::Var& v)
{
	const double s = v.convert<double>();
	return std::isfinite(s) ? std::max(-kLatest, std::min(kLatest, s)) : kLatest;
}

Poco::JSON::Object::Ptr parseObject(const std::string& json)
{
	Poco::JSON::Parser parser; // at most 128 levels deep
	return parser.parse(json).extract<Poco::JSON::Object::Ptr>();  // throws unless an object
}

} // namespace

class JwtGate: public parley::Gate
{
public:
	void configure(const parley::Settings& settings) override
	{
		static const std::set<std::string> keys{"secret", "public_key_file", "algorithms", "audience", "issuer", "leeway_s",
			"cookie", "close_at_expiry"};
		for (const auto& setting : settings)
		{
			if (!keys.count(setting.first))
				throw std::invalid_argument(setting.first + ": not a setting of the jwt gate (it has secret, public_key_file, "
					"algorithms, audience, issuer, leeway_s, cookie, close_at_expiry)");
		}
		// Without any setting the plugin is only loaded (listed, ready for a configuration that
		// uses it); check() then refuses everything by throwing.
		_configured = !settings.empty();
		_rsa.reset();
		_ec.reset();
		_signer.reset();
		if (!_configured) return;
		auto get = [&](const char* key) {
			auto it = settings.find(key);
			return it == settings.end() ? std::string() : std::string(trim(it->second));
		};

		_secret = get("secret");
		const std::string keyFile = get("public_key_file");
		if (_secret.empty() && keyFile.empty())
			throw std::invalid_argument("secret: neither secret (HS256/384/512) nor public_key_file (RS256, ES256) is set; one is required");
		if (!keyFile.empty()) loadKey(keyFile);

		const std::string list = get("algorithms");
		_algorithms.clear();
		if (!settings.count("algorithms") || settings.at("algorithms").empty())
		{
			if (!_secret.empty()) _algorithms.insert({"HS256", "HS384", "HS512"});
			if (_rsa) _algorithms.insert("RS256");
			if (_ec) _algorithms.insert("ES256");
		}
		else
		{
			std::string_view rest = list;
			while (!rest.empty())
			{
				const std::size_t comma = rest.find(',');
				const std::string name(trim(rest.substr(0, comma)));
				rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
				if (name.empty()) continue;
				if (sameIgnoringCase(name, "none")) throw std::invalid_argument("algorithms: 'none' (unsigned tokens) is never allowed");
				if (!kAlgorithms.count(name))
					throw std::invalid_argument("algorithms: '" + name + "' is not one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512");
				if (name[0] == 'H' && _secret.empty()) throw std::invalid_argument("algorithms: " + name + " needs a secret");
				if (name[0] == 'R' && !_rsa) throw std::invalid_argument("algorithms: " + name + " needs an RSA public_key_file");
				if (name[0] == 'E' && !_ec) throw std::invalid_argument("algorithms: " + name + " needs an EC public_key_file");
				_algorithms.insert(name);
			}
			if (_algorithms.empty()) throw std::invalid_argument("algorithms: '" + list + "' names no algorithm");
		}
		if (_rsa || _ec)
		{
			_signer = std::make_unique<Poco::JWT::Signer>();
			if (_rsa) _signer->setRSAKey(_rsa);
			if (_ec) _signer->setECKey(_ec);
			std::set<std::string> publicKeyAlgorithms;
			for (const auto& name : _algorithms)
				if (name[0] != 'H') publicKeyAlgorithms.insert(name);
			_signer->setAlgorithms(publicKeyAlgorithms);
		}

		_audience = get("audience");
		_issuer = get("issuer");
		_cookie = get("cookie");

		const std::string leeway = get("leeway_s");
		_leeway = 30;
		if (!leeway.empty())
		{
			if (leeway.size() > 6 || leeway.find_first_not_of("0123456789") != std::string::npos || std::stol(leeway) > kMaxLeeway)
				throw std::invalid_argument("leeway_s: '" + leeway + "' is not a whole number of seconds from 0 to 86400");
			_leeway = std::stol(leeway);
		}

		const std::string close = get("close_at_expiry");
		if (close.empty() || sameIgnoringCase(close, "false") || sameIgnoringCase(close, "no") || sameIgnoringCase(close, "off") || close == "0")
			_closeAtExpiry = false;
		else if (sameIgnoringCase(close, "true") || sameIgnoringCase(close, "yes") || sameIgnoringCase(close, "on") || close == "1")
			_closeAtExpiry = true;
		else
			throw std::invalid_argument("close_at_expiry: '" + close + "' is not true or false");
	}

	void check(const parley::GateRequest& request, parley::GateVerdict& verdict) override
	{
		if (!_configured)
			throw std::runtime_error("the jwt gate is used without plugin.jwt.secret or plugin.jwt.public_key_file");
		const std::string token = findToken(request);
		if (token.empty())
		{
			// RFC 6750 section 3.1: no error code for a request without any token.
			verdict.refuse(401, "no token");
			verdict.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"parley\"");
			return;
		}
		std::string reason;
		try
		{
			reason = verify(token, verdict);
		}
		catch (...)
		{
			reason = "malformed token"; // whatever Poco, OpenSSL or the JSON parser threw
		}
		if (reason.empty()) return;
		verdict.admitted = false;
		verdict.identity.clear();
		verdict.attributes.clear();
		verdict.expiresAt = 0;
		verdict.refuse(401, reason);
		verdict.headers.emplace_back("WWW-Authenticate",
			"Bearer realm=\"parley\", error=\"invalid_token\", error_description=\"" + reason + "\"");
	}

private:
	void loadKey(const std::string& file)
	{
		if (!std::ifstream(file)) throw std::invalid_argument("public_key_file: cannot read '" + file + "'");
		std::string why;
		try
		{
			_rsa = new Poco::Crypto::RSAKey(file);
			return;
		}
		catch (const std::exception&)
		{
		}
		try
		{
			_ec = new Poco::Crypto::ECKey(file, "");
			return;
		}
		catch (const Poco::Exception& e)
		{
			why = e.displayText();
		}
		catch (const std::exception& e)
		{
			why = e.what();
		}
		throw std::invalid_argument("public_key_file: '" + file + "' holds no RSA or EC public key in PEM (" + why + ")");
	}

	/// The token of the request, from the first place that has one, or "".
	std::string findToken(const parley::GateRequest& request) const
	{
		if (request.headers)
		{
			const std::string_view auth = trim(request.header("Authorization"));
			if (auth.size() > 7 && sameIgnoringCase(auth.substr(0, 6), "Bearer") && (auth[6] == ' ' || auth[6] == '\t'))
			{
				const std::string_view token = trim(auth.substr(7));
				if (!token.empty()) return std::string(token);
			}
		}
		std::string parameter = request.parameter("access_token");
		if (!parameter.empty()) return parameter;
		if (!_cookie.empty() && request.headers)
		{
			std::string_view cookie = trim(request.cookie(_cookie));
			if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"') cookie = cookie.substr(1, cookie.size() - 2);
			return std::string(cookie);
		}
		return {};
	}

	/// Checks a token; returns "" and fills `verdict` if it admits, else the reason to refuse.
	std::string verify(const std::string& token, parley::GateVerdict& verdict) const
	{
		const std::string malformed = "malformed token";
		if (token.size() > kMaxTokenBytes) return malformed;
		const std::size_t dot1 = token.find('.');
		const std::size_t dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
		if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos) return malformed;
		const std::string_view all(token);
		std::string headerJson, payloadJson, signature;
		if (dot1 == 0 || dot2 == dot1 + 1 || !decodeBase64Url(all.substr(0, dot1), headerJson) ||
			!decodeBase64Url(all.substr(dot1 + 1, dot2 - dot1 - 1), payloadJson) || !decodeBase64Url(all.substr(dot2 + 1), signature))
			return malformed;
		const Poco::JSON::Object::Ptr header = parseObject(headerJson);
		const Poco::JSON::Object::Ptr payload = parseObject(payloadJson);
		if (!header || !payload) return malformed;

		const Poco::Dynamic::Var alg = header->get("alg");
		if (!alg.isString()) return malformed;
		const std::string algorithm = alg.extract<std::string>();
		if (sameIgnoringCase(algorithm, "none")) return "algorithm none not allowed";
		if (!_algorithms.count(algorithm))
			return kAlgorithms.count(algorithm) ? "algorithm " + algorithm + " not allowed" : "algorithm not allowed";

		const std::string_view signedPart = all.substr(0, dot2);
		bool good = false;
		if (algorithm == "HS256") good = hmacMatches<Sha256Engine>(_secret, signedPart, signature);
		else if (algorithm == "HS384") good = hmacMatches<Sha384Engine>(_secret, signedPart, signature);
		else if (algorithm == "HS512") good = hmacMatches<Sha512Engine>(_secret, signedPart, signature);
		else
		{
			// ECDSA signatures are R and S side by side (RFC 7518 section 3.4), each as long as the curve's order.
			const std::size_t ecLength = algorithm == "ES256" ? 64 : algorithm == "ES384" ? 96 : algorithm == "ES512" ? 132 : 0;
			Poco::JWT::Token verified;
			good = (ecLength == 0 || signature.size() == ecLength) && !signature.empty() && _signer->tryVerify(token, verified);
		}
		if (!good) return "bad signature";

		const double now = static_cast<double>(std::time(nullptr));
		double expires = 0;
		const bool hasExp = payload->has("exp");
		if (hasExp)
		{
			const Poco::Dynamic::Var exp = payload->get("exp");
			if (!isNumber(exp)) return malformed;
			expires = seconds(exp);
			if (now > expires + static_cast<double>(_leeway)) return "token expired";
		}
		if (payload->has("nbf"))
		{
			const Poco::Dynamic::Var nbf = payload->get("nbf");
			if (!isNumber(nbf)) return malformed;
			if (now + static_cast<double>(_leeway) < seconds(nbf)) return "token not yet valid";
		}
		if (!_issuer.empty())
		{
			const Poco::Dynamic::Var iss = payload->get("iss");
			if (!iss.isString() || iss.extract<std::string>() != _issuer) return "wrong issuer";
		}
		if (!_audience.empty() && !audienceMatches(*payload)) return "wrong audience";
		const Poco::Dynamic::Var sub = payload->get("sub");
		if (!sub.isString() || sub.extract<std::string>().empty()) return "token has no subject";

		verdict.admit(sub.extract<std::string>());
		for (const auto& claim : *payload)
		{
			if (claim.second.isString()) verdict.attributes["jwt." + claim.first] = claim.second.extract<std::string>();
			else if (isNumber(claim.second)) verdict.attributes["jwt." + claim.first] = claim.second.convert<std::string>();
		}
		if (_closeAtExpiry && hasExp) verdict.expiresAt = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(expires)));
		return {};
	}

	/// `aud` is the configured audience, or an array holding it (RFC 7519 section 4.1.3).
	bool audienceMatches(const Poco::JSON::Object& payload) const
	{
		const Poco::Dynamic::Var aud = payload.get("aud");
		if (aud.isString()) return aud.extract<std::string>() == _audience;
		const Poco::JSON::Array::Ptr list = payload.getArray("aud");
		if (!list) return false;
		for (std::size_t i = 0; i < list->size(); ++i)
		{
			const Poco::Dynamic::Var item = list->get(static_cast<unsigned>(i));
			if (item.isString() && item.extract<std::string>() == _audience) return true;
		}
		return false;
	}

	bool _configured = false;
	std::string _secret;
	Poco::SharedPtr<Poco::Crypto::RSAKey> _rsa;
	Poco::SharedPtr<Poco::Crypto::ECKey> _ec;
	std::unique_ptr<Poco::JWT::Signer> _signer;   // verifies RS*/ES* signatures
	std::set<std::string> _algorithms;
	std::string _audience;
	std::string _issuer;
	std::string _cookie;
	long _leeway = 30;
	bool _closeAtExpiry = false;
};

static const parley::SettingInfo kSettings[] = {
	{"secret", "", "HMAC key of HS256/HS384/HS512 tokens (this or public_key_file is required)"},
	{"public_key_file", "", "PEM public key (BEGIN PUBLIC KEY) of RS256 (RSA) or ES256 (EC P-256) tokens"},
	{"algorithms", "", "the algorithms accepted, comma-separated (never none); by default HS256,HS384,HS512 with a secret, "
		"RS256 with an RSA key, ES256 with an EC key"},
	{"audience", "", "when set, a token's aud must be it or a list holding it"},
	{"issuer", "", "when set, a token's iss must be it"},
	{"leeway_s", "30", "seconds of clock skew allowed on exp and nbf (0 to 86400)"},
	{"cookie", "", "a cookie to take the token from, after Authorization: Bearer and the access_token parameter"},
	{"close_at_expiry", "false", "true: the host closes the connection (1008) when the token's exp passes"},
};
PARLEY_DECLARE_PLUGIN(JwtGate, "jwt", "1.0.0",
	"Admits requests with a valid JSON Web Token (Authorization: Bearer, ?access_token= or a cookie) as its sub", kSettings)
