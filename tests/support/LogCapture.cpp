//
// LogCapture.cpp
//
#include "support/LogCapture.h"
#include <atomic>

namespace parley {
namespace test {

namespace {
std::string uniqueName()
{
	static std::atomic<int> counter{0};
	return "parley.test.capture." + std::to_string(++counter);
}
} // namespace

LogCapture::LogCapture(): _channel(new CaptureChannel), _logger(Poco::Logger::get(uniqueName()))
{
	_logger.setChannel(_channel);
	_logger.setLevel(Poco::Message::PRIO_DEBUG);
}

LogCapture::~LogCapture()
{
	_logger.setChannel(nullptr);
	Poco::Logger::destroy(_logger.name());
}

bool LogCapture::contains(const std::string& text) const
{
	return count(text) > 0;
}

int LogCapture::count(const std::string& text) const
{
	int n = 0;
	for (const auto& line : lines())
		if (line.find(text) != std::string::npos) ++n;
	return n;
}

std::string LogCapture::dump() const
{
	std::string all;
	for (const auto& line : lines()) all += line + "\n";
	return all;
}

} // namespace test
} // namespace parley
