//
// LogCapture.h — a Poco logger whose lines tests can inspect.
//
#ifndef PARLEY_TESTS_LOGCAPTURE_INCLUDED
#define PARLEY_TESTS_LOGCAPTURE_INCLUDED

#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <mutex>
#include <string>
#include <vector>

namespace parley {
namespace test {

/// A channel that keeps every message.
class CaptureChannel: public Poco::Channel
{
public:
	void log(const Poco::Message& msg) override
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_lines.push_back(msg.getText());
	}
	std::vector<std::string> lines() const
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _lines;
	}

private:
	mutable std::mutex _mutex;
	std::vector<std::string> _lines;
};

/// A uniquely named logger writing to a CaptureChannel.
class LogCapture
{
public:
	LogCapture();
	~LogCapture();
	Poco::Logger& logger() { return _logger; }
	std::vector<std::string> lines() const { return _channel->lines(); }
	/// True if any line contains `text`.
	bool contains(const std::string& text) const;
	/// How many lines contain `text`.
	int count(const std::string& text) const;
	/// All lines joined (for failure messages).
	std::string dump() const;

private:
	Poco::AutoPtr<CaptureChannel> _channel;
	Poco::Logger& _logger;
};

} // namespace test
} // namespace parley

#endif
