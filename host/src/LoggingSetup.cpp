//
// LoggingSetup.cpp
//
#include "parley/host/LoggingSetup.h"
#include "parley/config/HostConfig.h"
#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Exception.h>
#include <Poco/Formatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/LoggingFactory.h>
#include <Poco/LoggingRegistry.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/LoggingConfigurator.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <initializer_list>

namespace parley {
namespace host {

namespace {

using Poco::Util::AbstractConfiguration;
using Keys = AbstractConfiguration::Keys;

bool oneOf(const std::string& key, std::initializer_list<const char*> names)
{
	for (const char* name : names)
		if (key == name) return true;
	return false;
}

/// Sets each property under `prefix` (but those in `skip`) on `object`, a throwaway instance of
/// `className`: a property it does not have or a value it refuses is a ConfigError on that key.
void checkProperties(Poco::Configurable& object, const AbstractConfiguration& config, const std::string& prefix,
	const std::string& className, std::initializer_list<const char*> skip)
{
	Keys keys;
	config.keys(prefix, keys);
	for (const auto& name : keys)
	{
		if (oneOf(name, skip)) continue;
		const std::string key = prefix + "." + name;
		if (!config.hasProperty(key)) throw ConfigError(key + ".*: " + className + " has no property '" + name + "'");
		try
		{
			object.setProperty(name, config.getString(key));
		}
		catch (const Poco::PropertyNotSupportedException&)
		{
			throw ConfigError(key + ": " + className + " has no property '" + name + "'");
		}
		catch (const Poco::Exception& e)
		{
			throw ConfigError(key + ": " + e.displayText());
		}
	}
}

/// Checks a formatter defined at `prefix` (its .class and properties).
void checkFormatter(const AbstractConfiguration& config, const std::string& prefix)
{
	const std::string classKey = prefix + ".class";
	if (!config.hasProperty(classKey)) throw ConfigError(classKey + ": missing (e.g. PatternFormatter)");
	const std::string className = config.getString(classKey);
	Poco::AutoPtr<Poco::Formatter> formatter;
	try
	{
		formatter = Poco::LoggingFactory::defaultFactory().createFormatter(className);
	}
	catch (const Poco::Exception&)
	{
		throw ConfigError(classKey + ": '" + className + "' is not a formatter class (e.g. PatternFormatter)");
	}
	checkProperties(*formatter, config, prefix, className, {"class"});
}

/// Checks a channel defined at `prefix` (its .class, .pattern or .formatter, and properties).
void checkChannel(const AbstractConfiguration& config, const std::string& prefix, const Keys& formatters)
{
	const std::string classKey = prefix + ".class";
	if (!config.hasProperty(classKey)) throw ConfigError(classKey + ": missing (e.g. ConsoleChannel, FileChannel, SyslogChannel)");
	const std::string className = config.getString(classKey);
	Poco::AutoPtr<Poco::Channel> channel;
	try
	{
		channel = Poco::LoggingFactory::defaultFactory().createChannel(className);
	}
	catch (const Poco::Exception&)
	{
		throw ConfigError(classKey + ": '" + className +
			"' is not a channel class (ConsoleChannel, ColorConsoleChannel, FileChannel, SimpleFileChannel, SyslogChannel, "
			"AsyncChannel, SplitterChannel, NullChannel)");
	}
	const std::string formatterKey = prefix + ".formatter";
	if (config.hasProperty(formatterKey + ".class"))
	{
		checkFormatter(config, formatterKey);
	}
	else if (config.hasProperty(formatterKey))
	{
		const std::string name = config.getString(formatterKey);
		bool found = false;
		for (const auto& f : formatters) found = found || f == name;
		if (!found) throw ConfigError(formatterKey + ": no formatter '" + name + "' (define logging.formatters." + name + ".class)");
	}
	// References to other channels (SplitterChannel's channels, AsyncChannel's channel) are
	// checked by the configurator itself.
	checkProperties(*channel, config, prefix, className, {"class", "pattern", "formatter", "channel", "channels"});
}

void checkLevel(const AbstractConfiguration& config, const std::string& key)
{
	const std::string level = config.getString(key);
	try
	{
		Poco::Logger::parseLevel(level);
	}
	catch (const Poco::Exception&)
	{
		throw ConfigError(key + ": '" + level + "' is not a level (none, fatal, critical, error, warning, notice, information, debug, trace)");
	}
}

void check(const AbstractConfiguration& config)
{
	Keys top;
	config.keys("logging", top);
	for (const auto& key : top)
		if (!oneOf(key, {"formatters", "channels", "loggers", "rate_limit_ms"}))
			throw ConfigError("logging." + key + ": unknown key (logging.* are formatters, channels, loggers, rate_limit_ms)");
	Keys formatters;
	config.keys("logging.formatters", formatters);
	for (const auto& name : formatters) checkFormatter(config, "logging.formatters." + name);
	Keys channels;
	config.keys("logging.channels", channels);
	for (const auto& name : channels) checkChannel(config, "logging.channels." + name, formatters);
	Keys loggers;
	config.keys("logging.loggers", loggers);
	for (const auto& name : loggers)
	{
		const std::string prefix = "logging.loggers." + name;
		Keys keys;
		config.keys(prefix, keys);
		for (const auto& key : keys)
		{
			const std::string full = prefix + "." + key;
			if (key == "level")
			{
				checkLevel(config, full);
			}
			else if (key == "channel")
			{
				if (config.hasProperty(full + ".class"))
				{
					checkChannel(config, full, formatters);
				}
				else
				{
					const std::string channel = config.getString(full, "");
					bool found = false;
					for (const auto& c : channels) found = found || c == channel;
					if (!found) throw ConfigError(full + ": no channel '" + channel + "' (define logging.channels." + channel + ".class)");
				}
			}
			else if (key != "name")
			{
				throw ConfigError(full + ": unknown key (a logger has name, channel, level)");
			}
		}
		if (!config.hasProperty(prefix + ".name"))
			throw ConfigError(prefix + ".name: missing (the logger's name: \"\" for the root, parley-host, parley-host.access)");
	}
}

} // namespace

void useConsoleLogging(const std::string& pattern)
{
	Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter(pattern));
	Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
	Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
	Poco::Logger::setChannel("", channel);
}

void checkLogging(const AbstractConfiguration& config)
{
	check(config);
}

void configureLogging(const AbstractConfiguration::Ptr& config)
{
	check(*config);
	try
	{
		Poco::Util::LoggingConfigurator().configure(config);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError("logging: " + e.displayText());
	}
	// Open each channel now: a file that cannot be created is a configuration error, not an
	// exception from the first log call on an event loop.
	Keys channels;
	config->keys("logging.channels", channels);
	for (const auto& name : channels)
	{
		try
		{
			Poco::LoggingRegistry::defaultRegistry().channelForName(name)->open();
		}
		catch (const Poco::Exception& e)
		{
			throw ConfigError("logging.channels." + name + ": cannot open: " + e.displayText());
		}
	}
}

void configureLoggingFromFile(const std::string& path, bool checkOnly)
{
	AbstractConfiguration::Ptr config;
	try
	{
		config = new Poco::Util::PropertyFileConfiguration(path);
	}
	catch (const Poco::Exception& e)
	{
		throw ConfigError("configuration file '" + path + "': " + e.displayText());
	}
	try
	{
		if (checkOnly)
			checkLogging(*config);
		else
			configureLogging(config);
	}
	catch (const ConfigError& e)
	{
		throw ConfigError(path + ": " + e.what());
	}
}

} // namespace host
} // namespace parley
