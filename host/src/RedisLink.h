//
// RedisLink.h — one connection to Redis for the cluster bus: Poco::Redis's RESP types and streams
// over a socket of our own, so that every wait has a deadline (connect, send and receive
// timeouts) and a reader can poll before it blocks (Poco::Redis::Client hides its socket).
//
#ifndef PARLEY_HOST_REDISLINK_INCLUDED
#define PARLEY_HOST_REDISLINK_INCLUDED

#include <Poco/Net/StreamSocket.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/RedisStream.h>
#include <Poco/Redis/Type.h>
#include <memory>
#include <string>

namespace parley {
namespace host {

/// Not thread-safe: one thread uses a link. Every failure (refused, timeout, EOF, a RESP error
/// reply where one is not expected) throws std::runtime_error with the reason; the link is then
/// closed and open() may be called again.
class RedisLink
{
public:
	/// Connects within `timeoutMs` (also the send and receive timeout of every later call) and
	/// authenticates with `password` unless it is empty.
	void open(const std::string& host, std::uint16_t port, const std::string& password, unsigned timeoutMs);
	void close() noexcept;
	bool isOpen() const noexcept { return _in != nullptr; }

	/// Queues a command (sent by flush()).
	void write(const Poco::Redis::Array& command);
	void flush();
	/// Reads one reply (blocking up to the receive timeout). An error reply is returned as is
	/// (type REDIS_ERROR): a pipeline decides per command.
	Poco::Redis::RedisType::Ptr read();
	/// True if a reply has begun to arrive within `timeoutMs`.
	bool readable(int timeoutMs);

	/// The text of a simple string, bulk string or error reply ("" for other types).
	static std::string text(const Poco::Redis::RedisType::Ptr& reply);
	static bool isError(const Poco::Redis::RedisType::Ptr& reply);

private:
	[[noreturn]] void fail(const std::string& what);

	Poco::Net::StreamSocket _socket;
	std::unique_ptr<Poco::Redis::RedisInputStream> _in;
	std::unique_ptr<Poco::Redis::RedisOutputStream> _out;
};

} // namespace host
} // namespace parley

#endif
