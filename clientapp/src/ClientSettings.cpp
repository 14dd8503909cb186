//
// ClientSettings.cpp
//
#include "ClientSettings.h"
#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace parley {
namespace clientapp {

const char* const ClientSettings::Keys[] = {"url", "count", "window", "conns", "size", "binary", "expect",
	"separator", "min", "max", "timeout_ms", "insecure", "ca", "subprotocol", "origin", "token", "header", "deflate",
	"deflate_level", "deflate_window_bits", "deflate_no_context_takeover", "deflate_min_size", nullptr};

namespace {

std::string trim(const std::string& s)
{
	std::size_t b = s.find_first_not_of(" \t\r\n");
	if (b == std::string::npos)
		return {};
	std::size_t e = s.find_last_not_of(" \t\r\n");
	return s.substr(b, e - b + 1);
}

[[noreturn]] void bad(const std::string& source, const std::string& value, const std::string& expected)
{
	throw std::invalid_argument("bad value '" + value + "' for " + source + ": expected " + expected);
}

std::uint64_t toUnsigned(const std::string& source, const std::string& text, std::uint64_t low, std::uint64_t high)
{
	std::string value = trim(text);
	std::uint64_t n = 0;
	auto r = std::from_chars(value.data(), value.data() + value.size(), n);
	if (value.empty() || r.ec != std::errc() || r.ptr != value.data() + value.size() || n < low || n > high)
		bad(source, text, "an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
	return n;
}

bool toBool(const std::string& source, const std::string& text)
{
	std::string v = trim(text);
	if (v == "true" || v == "1" || v == "yes" || v == "on" || v.empty())
		return true;
	if (v == "false" || v == "0" || v == "no" || v == "off")
		return false;
	bad(source, text, "true or false");
}

std::int64_t toSigned(const std::string& source, const std::string& text)
{
	std::string value = trim(text);
	std::int64_t n = 0;
	auto r = std::from_chars(value.data(), value.data() + value.size(), n);
	if (value.empty() || r.ec != std::errc() || r.ptr != value.data() + value.size())
		bad(source, text, "an integer");
	return n;
}

/// Checks one piece of the handshake options alone; a problem is a bad value for source.
void checkPart(const std::string& source, const std::string& value, const client::HandshakeOptions& part)
{
	try
	{
		client::checkHandshakeOptions(part);
	}
	catch (const std::invalid_argument& e)
	{
		std::string shown = value;
		for (char& c : shown)
			if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
				c = '?';
		throw std::invalid_argument("bad value '" + shown + "' for " + source + ": " + e.what());
	}
}

} // namespace

void ClientSettings::parseHeader(const std::string& text, const std::string& source, std::string& name, std::string& value)
{
	if (text.find_first_of("\r\n") != std::string::npos)
		throw std::invalid_argument("bad value for " + source + ": a header may not contain CR or LF");
	const std::size_t colon = text.find(':');
	if (colon == std::string::npos)
		bad(source, text, "'Name: value' (there is no colon)");
	name = trim(text.substr(0, colon));
	value = trim(text.substr(colon + 1));
	if (name.empty())
		bad(source, text, "'Name: value' (the name is empty)");
}

void ClientSettings::clear(const std::string& key)
{
	if (key == "subprotocol")
		_options.subprotocols.clear();
	else if (key == "header")
		_options.headers.clear();
}

client::Expect ClientSettings::parseExpect(const std::string& text)
{
	std::string v = trim(text);
	for (char& c : v)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	if (v == "prefix")
		return client::Expect::Prefix;
	if (v == "echo")
		return client::Expect::Echo;
	if (v == "random-suffix" || v == "random_suffix" || v == "randomsuffix")
		return client::Expect::RandomSuffix;
	throw std::invalid_argument("prefix, echo or random-suffix");
}

void ClientSettings::set(const std::string& key, const std::string& value, const std::string& source)
{
	const std::uint64_t maxCount = std::numeric_limits<std::uint64_t>::max() / 2;
	if (key == "url")
		_options.url = trim(value);
	else if (key == "count")
		_options.count = toUnsigned(source, value, 0, maxCount);
	else if (key == "window")
		_options.window = static_cast<unsigned>(toUnsigned(source, value, 1, 1u << 20));
	else if (key == "conns")
		_options.conns = static_cast<unsigned>(toUnsigned(source, value, 1, 100000));
	else if (key == "size")
		_options.size = static_cast<std::size_t>(toUnsigned(source, value, 0, 1u << 30));
	else if (key == "binary")
		_options.binary = toBool(source, value);
	else if (key == "insecure")
		_options.insecure = toBool(source, value);
	else if (key == "ca")
	{
		// Checked here, so that a wrong path is a usage error before any connection; what is in
		// the file is checked when the run loads it.
		const std::string path = trim(value);
		if (!path.empty())
		{
			struct stat info;
			if (::stat(path.c_str(), &info) != 0)
				bad(source, value, std::string("a readable PEM file (") + std::strerror(errno) + ")");
			if (!S_ISREG(info.st_mode) || ::access(path.c_str(), R_OK) != 0)
				bad(source, value, "a readable PEM file");
		}
		_options.caFile = path;
	}
	else if (key == "expect")
	{
		try
		{
			_options.expect = parseExpect(value);
		}
		catch (const std::invalid_argument& e)
		{
			bad(source, value, e.what());
		}
	}
	else if (key == "separator")
	{
		// Values are trimmed by the properties reader, so a separator with spaces is quoted.
		std::string v = value;
		if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
			v = v.substr(1, v.size() - 2);
		if (v.find_first_of("\r\n") != std::string::npos)
			bad(source, value, "a separator without line breaks");
		_options.separator = v;
	}
	else if (key == "min")
		_options.min = toSigned(source, value);
	else if (key == "max")
		_options.max = toSigned(source, value);
	else if (key == "subprotocol")
	{
		if (trim(value).empty())
			return;  // none (from the command line: none of the file's either)
		client::HandshakeOptions part;
		part.subprotocols = client::splitSubprotocols(value);
		if (part.subprotocols.empty())
			bad(source, value, "a subprotocol name (or a comma-separated list)");
		checkPart(source, value, part);
		for (const std::string& name : part.subprotocols)
		{
			if (std::find(_options.subprotocols.begin(), _options.subprotocols.end(), name) != _options.subprotocols.end())
				bad(source, value, "subprotocols offered once each ('" + name + "' is there already)");
			_options.subprotocols.push_back(name);
		}
	}
	else if (key == "origin")
	{
		client::HandshakeOptions part;
		part.origin = trim(value);
		checkPart(source, value, part);
		_options.origin = part.origin;
	}
	else if (key == "token")
	{
		client::HandshakeOptions part;
		part.token = trim(value);
		checkPart(source, "...", part);  // the token itself stays out of error lines
		_options.token = part.token;
	}
	else if (key == "header")
	{
		std::string name, headerValue;
		parseHeader(value, source, name, headerValue);
		client::HandshakeOptions part;
		part.headers.emplace_back(name, headerValue);
		checkPart(source, value, part);
		_options.headers.emplace_back(name, headerValue);
	}
	else if (key == "timeout_ms")
	{
		_options.replyTimeoutMs = static_cast<unsigned>(toUnsigned(source, value, 1, 3600u * 1000u));
	}
	else if (key == "deflate")
		_options.deflate.enabled = toBool(source, value);
	else if (key == "deflate_level")
		_options.deflate.offer.level = static_cast<int>(toUnsigned(source, value, 0, 9));
	else if (key == "deflate_window_bits")
	{
		// Both directions: the client's own window, and the one it asks the server to keep to.
		const int bits = static_cast<int>(toUnsigned(source, value, 9, 15));
		_options.deflate.offer.clientMaxWindowBits = bits;
		_options.deflate.offer.serverMaxWindowBits = bits;
	}
	else if (key == "deflate_no_context_takeover")
	{
		const bool on = toBool(source, value);
		_options.deflate.offer.clientNoContextTakeover = on;
		_options.deflate.offer.serverNoContextTakeover = on;
	}
	else if (key == "deflate_min_size")
		_options.deflate.minSize = static_cast<std::size_t>(toUnsigned(source, value, 0, 1u << 30));
	else
		throw std::invalid_argument("unknown setting " + source);
}

void ClientSettings::loadFile(const std::string& path)
{
	Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config;
	try
	{
		Poco::File file(path);
		if (!file.exists())
			throw std::invalid_argument("configuration file '" + path + "' does not exist");
		if (!file.isFile() || !file.canRead())
			throw std::invalid_argument("configuration file '" + path + "' is not a readable file");
		config = new Poco::Util::PropertyFileConfiguration(path);
	}
	catch (const Poco::Exception& e)
	{
		throw std::invalid_argument("cannot read configuration file '" + path + "': " + e.displayText());
	}
	Poco::Util::AbstractConfiguration::Keys keys;
	config->keys("client", keys);
	for (const std::string& key : keys)
	{
		bool known = false;
		for (const char* const* k = Keys; *k; ++k)
			known = known || key == *k;
		const std::string source = "client." + key + " in " + path;
		if (!known)
			throw std::invalid_argument("unknown key " + source);
		if (key == "header")
		{
			// client.header.<Name> = value, one key per header.
			Poco::Util::AbstractConfiguration::Keys names;
			config->keys("client.header", names);
			if (names.empty() || config->hasProperty("client.header"))
				throw std::invalid_argument("bad key " + source + ": write one header per key, client.header.<Name> = value");
			for (const std::string& name : names)
				set(key, name + ": " + config->getRawString("client.header." + name), "client.header." + name + " in " + path);
			continue;
		}
		set(key, config->getRawString("client." + key), source);
	}
}

} // namespace clientapp
} // namespace parley
