//
// ClientApp.cpp
//
#include "ClientApp.h"
#include "ClientSettings.h"
#include "InteractiveShell.h"
#include "ProgressBar.h"
#include "parley/client/LoadRun.h"
#include "parley/client/Url.h"
#include <Poco/Exception.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <cstdio>
#include <iostream>
#include <stdexcept>

using Poco::Util::Option;
using Poco::Util::OptionSet;

namespace parley {
namespace clientapp {

ClientApp::ClientApp()
{
	setUnixOptions(true);
}

bool ClientApp::parse(int argc, char** argv)
{
	try
	{
		init(argc, argv);
		return true;
	}
	catch (const Poco::Exception& e)
	{
		std::fprintf(stderr, "parley-client: %s (try --help)\n", e.displayText().c_str());
	}
	catch (const std::exception& e)
	{
		std::fprintf(stderr, "parley-client: %s (try --help)\n", e.what());
	}
	return false;
}

void ClientApp::defineOptions(OptionSet& options)
{
	Application::defineOptions(options);
	options.addOption(Option("help", "h", "show this help and exit"));
	options.addOption(Option("url", "u", "WebSocket URL, ws://host[:port][/path] or wss://... for TLS (default ws://127.0.0.1:8080/ws)").argument("URL"));
	options.addOption(Option("count", "n", "messages in all, spread over the connections (default 10000)").argument("N"));
	options.addOption(Option("window", "w", "messages in flight per connection, 1 = request/reply (default 64)").argument("N"));
	options.addOption(Option("conns", "c", "parallel connections (default 1)").argument("N"));
	options.addOption(Option("size", "s", "payload bytes per message, 0 = just \"<conn>:<seq>\" (default 0)").argument("BYTES"));
	options.addOption(Option("binary", "b", "send binary messages instead of text"));
	options.addOption(Option("expect", "e", "reply check: prefix (default), echo, random-suffix").argument("MODE"));
	options.addOption(Option("separator", "", "random-suffix separator (default one space)").argument("TEXT"));
	options.addOption(Option("min", "", "random-suffix smallest integer (default 0)").argument("N"));
	options.addOption(Option("max", "", "random-suffix largest integer (default 999999)").argument("N"));
	options.addOption(Option("timeout-ms", "t", "give up when no reply arrives for this long (default 10000)").argument("MS"));
	options.addOption(Option("insecure", "k", "wss://: accept any server certificate (self-signed, expired, another name) without verification"));
	options.addOption(Option("ca", "", "wss://: also trust the CA or self-signed certificates in this PEM file (default: the system CAs only)").argument("PATH"));
	options.addOption(Option("subprotocol", "", "offer this subprotocol in Sec-WebSocket-Protocol; repeat it or give a comma-separated list to offer several, in order of preference; the server must select one of them").argument("NAME").repeatable(true));
	options.addOption(Option("origin", "", "send this Origin header, as a browser page at that origin would (e.g. https://app.example)").argument("URL"));
	options.addOption(Option("header", "H", "send an extra request header; repeatable").argument("'Name: value'").repeatable(true));
	options.addOption(Option("token", "", "send 'Authorization: Bearer TOKEN'").argument("TOKEN"));
	options.addOption(Option("deflate", "", "offer permessage-deflate (RFC 7692): when the server agrees, every message is compressed both ways; the summary says whether it was negotiated and shows payload vs wire bytes"));
	options.addOption(Option("deflate-level", "", "zlib compression level 0 (none) .. 9 (best) (default 1; implies --deflate)").argument("N"));
	options.addOption(Option("deflate-window-bits", "", "LZ77 window 9..15 both ways: offer client_max_window_bits=N, ask server_max_window_bits=N (default 15; implies --deflate)").argument("N"));
	options.addOption(Option("deflate-no-context-takeover", "", "compress every message on its own both ways (client_ and server_no_context_takeover; implies --deflate)"));
	options.addOption(Option("deflate-min-size", "", "send messages shorter than this uncompressed (default 0; implies --deflate)").argument("BYTES"));
	options.addOption(Option("config", "f", "read client.* keys from a .properties file; options given here win").argument("PATH"));
	options.addOption(Option("quiet", "q", "no progress bar and no summary; the exit code tells"));
	options.addOption(Option("interactive", "i", "send each stdin line as a text message, print replies (like wscat)"));
}

void ClientApp::handleOption(const std::string& name, const std::string& value)
{
	Application::handleOption(name, value);
	if (name == "help")
	{
		_help = true;
		stopOptionsProcessing();
	}
	else if (name == "binary" || name == "insecure" || name == "deflate")
		_overrides.emplace_back(name, "true");
	else if (name == "quiet")
		_quiet = true;
	else if (name == "interactive")
		_interactive = true;
	else if (name == "config")
		_configFile = value;
	else
	{
		// The config key: timeout-ms → timeout_ms, deflate-level → deflate_level.
		std::string key = name;
		for (char& c : key)
			c = c == '-' ? '_' : c;
		if (key.compare(0, 8, "deflate_") == 0)
			_overrides.emplace_back("deflate", "true");  // a deflate setting asks for deflate
		_overrides.emplace_back(key, name == "deflate-no-context-takeover" ? std::string("true") : value);
	}
}

void ClientApp::printHelp()
{
	Poco::Util::HelpFormatter help(options());
	help.setCommand("parley-client");
	help.setUsage("[OPTIONS]");
	help.setHeader("Sends --count messages to a Parley host (or any WebSocket server), at most --window in flight "
				   "per connection, verifies every reply and prints one summary line. Exit code 0 only when every "
				   "message was verified; 1 when the run failed; 2 for bad usage.");
	help.setFooter(std::string(InteractiveShell::help())
		+ "Config keys (client.*): url count window conns size binary expect separator min max timeout_ms insecure ca "
		  "subprotocol origin token deflate deflate_level deflate_window_bits deflate_no_context_takeover "
		  "deflate_min_size, and header.<Name> (one key per header). A --subprotocol or --header on the "
		  "command line replaces the file's list. In a file, the deflate_* keys apply only with client.deflate = true.");
	help.setUnixStyle(true);
	help.format(std::cout);
}

int ClientApp::main(const std::vector<std::string>& args)
{
	if (_help)
	{
		printHelp();
		return ExitOk;
	}
	if (!args.empty())
	{
		std::fprintf(stderr, "parley-client: unexpected argument '%s' (try --help)\n", args.front().c_str());
		return ExitUsage;
	}
	if (_interactive)
	{
		ClientSettings settings;
		try
		{
			readSettings(settings);
		}
		catch (const std::exception& e)
		{
			std::fprintf(stderr, "parley-client: %s\n", e.what());
			return ExitUsage;
		}
		client::ConnectOptions connect;
		static_cast<client::HandshakeOptions&>(connect) = settings.options();
		connect.url = settings.options().url;
		connect.connectTimeoutMs = settings.options().connectTimeoutMs;
		connect.maxMessageSize = settings.options().maxMessageSize;
		connect.insecure = settings.options().insecure;
		connect.caFile = settings.options().caFile;
		InteractiveShell shell(_quiet);
		return shell.run(connect);
	}
	return runLoad();
}

void ClientApp::readSettings(ClientSettings& settings) const
{
	if (!_configFile.empty())
		settings.loadFile(_configFile);
	bool subprotocolsGiven = false, headersGiven = false;
	for (const auto& o : _overrides)
	{
		// A list given on the command line replaces the file's.
		bool& given = o.first == "subprotocol" ? subprotocolsGiven : headersGiven;
		if ((o.first == "subprotocol" || o.first == "header") && !given)
		{
			settings.clear(o.first);
			given = true;
		}
		std::string option = o.first;
		for (char& c : option)
			c = c == '_' ? '-' : c;
		settings.set(o.first, o.second, "--" + option);
	}
	client::checkHandshakeOptions(settings.options());
	client::Url::parse(settings.options().url);
}

int ClientApp::runLoad()
{
	ClientSettings settings;
	try
	{
		readSettings(settings);
		const client::LoadOptions& o = settings.options();
		if (o.expect == client::Expect::RandomSuffix && o.min > o.max)
			throw std::invalid_argument("--min " + std::to_string(o.min) + " is greater than --max " + std::to_string(o.max));
	}
	catch (const std::exception& e)
	{
		std::fprintf(stderr, "parley-client: %s\n", e.what());
		return ExitUsage;
	}

	const client::LoadOptions options = settings.options();
	client::LoadRun run(options);
	ProgressBar bar(options.count, !_quiet && ProgressBar::stderrIsTerminal());
	client::LoadSummary summary = run.run([&bar](const client::LoadProgress& p) { bar.update(p); }, 200);
	bar.clear();

	const bool ok = summary.ok(options.count);
	if (!_quiet && (summary.sent > 0 || summary.error.empty()))
		std::printf("parley-client: %s\n", summary.line().c_str());
	if (!summary.firstMismatch.empty())
		std::printf("parley-client: first mismatch: %s\n", summary.firstMismatch.c_str());
	std::fflush(stdout);
	if (!summary.error.empty())
		std::fprintf(stderr, "parley-client: %s\n", summary.error.c_str());
	else if (!ok)
		std::fprintf(stderr, "parley-client: %llu of %llu messages verified\n",
			static_cast<unsigned long long>(summary.verified), static_cast<unsigned long long>(options.count));
	return ok ? ExitOk : ExitFailed;
}

} // namespace clientapp
} // namespace parley
