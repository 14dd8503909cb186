//
// main.cpp — parley-host, the Parley WebSocket message engine as a Poco ServerApplication.
//
#include "parley/PluginRegistry.h"
#include "parley/config/HostConfig.h"
#include "parley/host/HostServer.h"
#include "parley/host/IsolatedChild.h"
#include "parley/host/LoggingSetup.h"
#include "parley/host/PluginCatalog.h"
#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Exception.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IntValidator.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <unistd.h>

namespace {

/// At a stop, how long a loop or worker inside a plugin call (not yet found stalled by the
/// watchdog) may take to return before the host exits without it (EXIT_SOFTWARE, 70).
constexpr unsigned StuckGraceMs = 1000;

/// Routes every existing logger whose name starts with `name` ("" = all) to the console with
/// the given pattern.
void useConsoleLogging(const std::string& name, const std::string& pattern)
{
	Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter(pattern));
	Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
	Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
	Poco::Logger::setChannel(name, channel);
}

} // namespace

/// The host application: options, configuration, plugin registry, HostServer, graceful stop
/// on SIGTERM/SIGINT. Configuration problems print one line "parley-host: <what>" to stderr and
/// exit with EXIT_CONFIG before anything is served.
class ParleyHostApp : public Poco::Util::ServerApplication
{
protected:
	void defineOptions(Poco::Util::OptionSet& options) override
	{
		ServerApplication::defineOptions(options);
		options.addOption(Poco::Util::Option("help", "h", "print this help and exit")
			.required(false)
			.repeatable(false)
			.callback(Poco::Util::OptionCallback<ParleyHostApp>(this, &ParleyHostApp::handleHelp)));
		options.addOption(Poco::Util::Option("config", "c", "configuration file (default: the installed or source etc/parley-host.properties)")
			.required(false)
			.repeatable(false)
			.argument("PATH")
			.callback(Poco::Util::OptionCallback<ParleyHostApp>(this, &ParleyHostApp::handleConfig)));
		options.addOption(Poco::Util::Option("list-plugins", "l", "print every plugin of the plugin folder (name, version, description, settings) and exit")
			.required(false)
			.repeatable(false)
			.callback(Poco::Util::OptionCallback<ParleyHostApp>(this, &ParleyHostApp::handleListPlugins)));
		options.addOption(Poco::Util::Option("check-config", "t", "check the configuration (keys, routes, plugins, gates, "
				"TLS certificate and key) without serving, print 'configuration ok' or the first error, and exit 0 or 78")
			.required(false)
			.repeatable(false)
			.callback(Poco::Util::OptionCallback<ParleyHostApp>(this, &ParleyHostApp::handleCheckConfig)));
		options.addOption(Poco::Util::Option("port", "p", "TCP port to listen on (overrides server.port; 0 = any free port)")
			.required(false)
			.repeatable(false)
			.argument("N")
			.callback(Poco::Util::OptionCallback<ParleyHostApp>(this, &ParleyHostApp::handlePort)));
		options.addOption(Poco::Util::Option("admin-port", "a", "TCP port of the operator endpoints /health, /metrics, /plugins (overrides admin.port; 0 = any free port)")
			.required(false)
			.repeatable(false)
			.argument("N")
			.callback(Poco::Util::OptionCallback<ParleyHostApp>(this, &ParleyHostApp::handleAdminPort)));
	}

	void initialize(Application& self) override
	{
		ServerApplication::initialize(self);
		Poco::Logger::get("parley-host");
		parley::host::useConsoleLogging();
	}

	int main(const ArgVec& args) override
	{
		if (_action == Action::Help)
		{
			displayHelp();
			return EXIT_OK;
		}
		if (!args.empty())
			return fail("unexpected argument '" + args.front() + "' (see --help)", EXIT_USAGE);

		Poco::Logger& logger = Poco::Logger::get("parley-host");
		const std::string exeDir = config().getString("application.dir", "");
		if (_action == Action::ListPlugins) return listPlugins(exeDir, logger);
		parley::HostConfig hostConfig;
		std::unique_ptr<parley::PluginRegistry> registry;
		std::unique_ptr<parley::host::HostServer> server;
		std::string file;
		std::string pluginDir;
		try
		{
			file = _configPath.empty() ? parley::HostConfig::defaultFile(exeDir) : _configPath;
			hostConfig = parley::HostConfig::fromFile(file);
			// logging.* keys, over the console default (--check-config: checked, nothing opened)
			parley::host::configureLoggingFromFile(file, _action == Action::CheckConfig);
			if (_port >= 0) hostConfig.port = static_cast<std::uint16_t>(_port);
			if (_adminPort >= 0) hostConfig.adminPort = static_cast<std::uint16_t>(_adminPort);
			pluginDir = resolvePluginDir(hostConfig, exeDir);
			hostConfig.pluginDir = pluginDir;
			// Until the host serves, only problems are logged: a bad start is one clear line.
			const int level = logger.getLevel();
			logger.setLevel(std::min(level, static_cast<int>(Poco::Message::PRIO_WARNING)));
			registry = std::make_unique<parley::PluginRegistry>(logger);
			registry->setSettings(hostConfig.pluginSettings);
			registry->loadDirectory(pluginDir);
			server = std::make_unique<parley::host::HostServer>(hostConfig, *registry, logger);
			if (_action == Action::CheckConfig)
			{
				server->checkPlugins(hostConfig);
				server->checkAddresses();
				std::cout << "configuration ok: " << file << " (" << hostConfig.routes.size()
						  << (hostConfig.routes.size() == 1 ? " route, " : " routes, ") << registry->plugins().size()
						  << (registry->plugins().size() == 1 ? " plugin" : " plugins") << " in " << pluginDir << ")"
						  << std::endl;
				server.reset();
				registry.reset();
				return EXIT_OK;
			}
			server->start();
			logger.setLevel(level);
		}
		catch (const parley::ConfigError& e)
		{
			return fail(e.what(), EXIT_CONFIG);
		}
		catch (const std::runtime_error& e)
		{
			return fail(e.what(), EXIT_CONFIG);
		}
		catch (const Poco::Exception& e)
		{
			return fail(e.displayText(), EXIT_CONFIG);
		}
		std::string plugins;
		for (const auto& plugin : registry->plugins())
			plugins += (plugins.empty() ? "" : ", ") + plugin.name + " " + plugin.version;
		logger.information("plugins loaded: %s", plugins);
		logger.information(server->describe());
		if (hostConfig.tls.enabled) logger.information("TLS: %s", server->tlsDescription());
		if (hostConfig.pluginWatch) logger.information("watching %s for plugins (copy, then rename into it)", pluginDir);
		// SIGHUP reloads; SIGTERM/SIGINT drain, then stop; SIGQUIT stops at once (all blocked in main()).
		sigset_t signals;
		sigemptyset(&signals);
		sigaddset(&signals, SIGINT);
		sigaddset(&signals, SIGTERM);
		sigaddset(&signals, SIGQUIT);
		sigaddset(&signals, SIGHUP);
		int stopSignal = 0;
		for (;;)
		{
			int signal = 0;
			if (sigwait(&signals, &signal) != 0) break;
			if (signal != SIGHUP)
			{
				stopSignal = signal;
				break;
			}
			logger.information("SIGHUP: reloading routes, plugin settings, live limits and the TLS certificate from %s", file);
			try
			{
				parley::HostConfig next = parley::HostConfig::fromFile(file);
				if (_port >= 0) next.port = static_cast<std::uint16_t>(_port);
				if (_adminPort >= 0) next.adminPort = static_cast<std::uint16_t>(_adminPort);
				next.pluginDir = resolvePluginDir(next, exeDir);
				parley::host::configureLoggingFromFile(file, true); // a bad logging.* key refuses the reload
				if (server->reload(next)) parley::host::configureLoggingFromFile(file);
			}
			catch (const std::exception& e)
			{
				logger.error("configuration reload refused, the running one stays: %s", std::string(e.what()));
			}
		}
		if (stopSignal == SIGTERM || stopSignal == SIGINT)
		{
			logger.information("%s: graceful stop (a second SIGTERM or SIGINT stops at once)",
				std::string(stopSignal == SIGTERM ? "SIGTERM" : "SIGINT"));
			// Waits for up to `ms`; true if another stop signal came meanwhile (SIGHUP is ignored now).
			auto wait = [&signals, &logger](unsigned ms) {
				const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
				for (;;)
				{
					const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(until - std::chrono::steady_clock::now());
					if (left.count() <= 0) return false;
					timespec timeout{};
					timeout.tv_sec = static_cast<time_t>(left.count() / 1000000000);
					timeout.tv_nsec = static_cast<long>(left.count() % 1000000000);
					const int signal = sigtimedwait(&signals, nullptr, &timeout);
					if (signal == SIGHUP)
						logger.information("SIGHUP ignored: the host is draining");
					else if (signal > 0)
						return true;
				}
			};
			server->drain(wait);
		}
		// A loop or worker stuck in a plugin call cannot be joined: say which, and exit without it.
		const std::vector<std::string> stuck = server->stuckInPlugins(StuckGraceMs);
		if (!stuck.empty())
		{
			for (const std::string& line : stuck)
				logger.critical("stopping: %s; exiting without waiting for it (status %s)", line,
					std::to_string(static_cast<int>(EXIT_SOFTWARE)));
			std::cout.flush();
			std::cerr.flush();
			::_exit(EXIT_SOFTWARE);
		}
		logger.information("parley-host stopping");
		server->stop();
		server.reset();
		registry.reset();
		return EXIT_OK;
	}

private:
	enum class Action { Serve, Help, ListPlugins, CheckConfig };

	/// plugins.dir, or <bin>/../PARLEY_PLUGIN_SUBDIR if it is empty.
	static std::string resolvePluginDir(const parley::HostConfig& config, const std::string& exeDir)
	{
		if (!config.pluginDir.empty()) return config.pluginDir;
		Poco::Path dir(exeDir);
		dir.makeDirectory().popDirectory().append(Poco::Path(std::string(PARLEY_PLUGIN_SUBDIR) + "/"));
		return dir.toString();
	}

	/// --list-plugins: loads the plugin folder (of --config, else of the default configuration,
	/// else the default folder) and prints what each plugin declares.
	int listPlugins(const std::string& exeDir, Poco::Logger& logger)
	{
		parley::HostConfig hostConfig;
		const std::string file = _configPath.empty() ? parley::HostConfig::defaultFile(exeDir) : _configPath;
		try
		{
			if (!file.empty() || !_configPath.empty()) hostConfig = parley::HostConfig::fromFile(file);
		}
		catch (const parley::ConfigError& e)
		{
			if (!_configPath.empty()) return fail(e.what(), EXIT_CONFIG);
		}
		try
		{
			logger.setLevel(Poco::Message::PRIO_WARNING);
			parley::PluginRegistry registry(logger);
			registry.setSettings(hostConfig.pluginSettings);
			const std::string dir = resolvePluginDir(hostConfig, exeDir);
			registry.loadDirectory(dir);
			std::cout << "plugins in " << dir << ":\n" << parley::host::PluginCatalog::toText(registry.plugins(), &hostConfig);
			std::cout.flush();
		}
		catch (const std::exception& e)
		{
			return fail(e.what(), EXIT_CONFIG);
		}
		return EXIT_OK;
	}

	void handleListPlugins(const std::string&, const std::string&)
	{
		_action = Action::ListPlugins;
	}

	void handleCheckConfig(const std::string&, const std::string&)
	{
		_action = Action::CheckConfig;
	}

	void handleHelp(const std::string&, const std::string&)
	{
		_action = Action::Help;
		stopOptionsProcessing();
	}

	void handleConfig(const std::string&, const std::string& value)
	{
		_configPath = value;
	}

	void handlePort(const std::string&, const std::string& value)
	{
		_port = parsePort("--port", value);
	}

	void handleAdminPort(const std::string&, const std::string& value)
	{
		_adminPort = parsePort("--admin-port", value);
	}

	static int parsePort(const std::string& option, const std::string& value)
	{
		unsigned port = 0;
		if (!Poco::NumberParser::tryParseUnsigned(value, port) || port > 65535)
			throw Poco::Util::InvalidArgumentException(option + ": '" + value + "' is not a port number (0..65535)");
		return static_cast<int>(port);
	}

	void displayHelp()
	{
		Poco::Util::HelpFormatter help(options());
		help.setCommand(commandName());
		help.setUsage("[--config=PATH] [--port=N] [--admin-port=N] [--list-plugins | --check-config]");
		help.setHeader("Parley WebSocket message engine: routes each message through responder plugins.");
		help.setFooter("Configuration keys: see etc/parley-host.properties. SIGHUP reloads routes, plugin settings, "
			"live limits and the TLS certificate; SIGTERM or Ctrl-C drains and stops the host (a second one stops at "
			"once); SIGQUIT stops at once.");
		help.format(std::cout);
	}

	static int fail(const std::string& what, int code)
	{
		std::cerr << "parley-host: " << what << std::endl;
		return code;
	}

	Action _action = Action::Serve;
	std::string _configPath;
	int _port = -1;
	int _adminPort = -1;
};

int main(int argc, char** argv)
{
	// The hidden mode that runs isolated routes' chains for a host (IsolatedPool starts it).
	if (parley::host::isIsolatedChild(argc, argv)) return parley::host::runIsolatedChild(argc, argv);
	// Block the stop signals before any thread starts, so every thread inherits the mask and
	// waitForTerminationRequest() (sigwait in the main thread) is the only one to take them.
	sigset_t stopSignals;
	sigemptyset(&stopSignals);
	sigaddset(&stopSignals, SIGINT);
	sigaddset(&stopSignals, SIGTERM);
	sigaddset(&stopSignals, SIGQUIT);
	sigaddset(&stopSignals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
	std::signal(SIGPIPE, SIG_IGN);

	ParleyHostApp app;
	// Until initialize() sets the log format: option errors read "parley-host: <what>".
	// (Application's constructor installs a plain console channel, so this comes after it.)
	useConsoleLogging("", "parley-host: %t");
	return app.run(argc, argv);
}
