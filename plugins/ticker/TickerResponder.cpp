//
// TickerResponder.cpp — the `ticker` plugin: sends the time (ISO 8601, UTC, milliseconds) to each
// connection on its route every plugin.ticker.interval_ms. Messages from clients get no reply.
// Each instance (one per event loop) ticks for the connections of its own loop.
//
#include "parley/Responder.h"
#include "../common/IsoTime.h"
#include <Poco/ClassLibrary.h>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

const parley::SettingInfo kSettings[] = {
	{"interval_ms", "1000", "milliseconds between two ticks"},
};


} // namespace

class TickerResponder: public parley::Responder
{
public:
	~TickerResponder() override
	{
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_stop = true;
		}
		_wake.notify_all();
		if (_thread.joinable()) _thread.join();
	}

	void configure(const parley::Settings& settings) override
	{
		auto it = settings.find("interval_ms");
		if (it == settings.end()) return;
		const std::string& text = it->second;
		unsigned long value = 0;
		auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
		if (ec != std::errc() || end != text.data() + text.size() || value == 0)
			throw std::invalid_argument("interval_ms: '" + text + "' is not a positive whole number");
		_interval = std::chrono::milliseconds(value);
	}

	void attach(parley::Outbox& outbox) override
	{
		_outbox = &outbox;
		_thread = std::thread([this] { run(); });
	}

	void onOpen(const parley::ConnectionInfo& connection) override
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_connections.insert(connection.id);
	}

	void onClose(parley::ConnectionId connection) override
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_connections.erase(connection);
	}

	void respond(const parley::Message&, parley::Reply& reply) override { reply.none(); }

private:
	void run()
	{
		auto next = std::chrono::steady_clock::now() + _interval;
		std::unique_lock<std::mutex> lock(_mutex);
		while (!_stop)
		{
			if (_wake.wait_until(lock, next, [this] { return _stop; })) break;
			next += _interval;
			const std::vector<parley::ConnectionId> targets(_connections.begin(), _connections.end());
			lock.unlock();
			const std::string tick = parley::plugins::isoTimeUtc();
			for (auto connection : targets) _outbox->send(connection, parley::PayloadKind::Text, tick);
			lock.lock();
		}
	}

	std::chrono::milliseconds _interval{1000};
	parley::Outbox* _outbox = nullptr;
	std::mutex _mutex;
	std::condition_variable _wake;
	std::set<parley::ConnectionId> _connections;
	bool _stop = false;
	std::thread _thread;
};

PARLEY_DECLARE_PLUGIN(TickerResponder, "ticker", "1.0.0",
	"Sends the time to each connection every interval_ms", kSettings)
