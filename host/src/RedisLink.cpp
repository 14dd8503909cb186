//
// RedisLink.cpp
//
#include "RedisLink.h"
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Redis/Error.h>
#include <poll.h>
#include <stdexcept>

namespace parley {
namespace host {

using Poco::Redis::RedisType;

void RedisLink::open(const std::string& host, std::uint16_t port, const std::string& password, unsigned timeoutMs)
{
	close();
	const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(timeoutMs) * 1000);
	try
	{
		_socket = Poco::Net::StreamSocket();
		_socket.connect(Poco::Net::SocketAddress(host, port), timeout);
		_socket.setSendTimeout(timeout);
		_socket.setReceiveTimeout(timeout);
		_socket.setNoDelay(true);
	}
	catch (const Poco::Exception& e)
	{
		fail(e.displayText());
	}
	_in = std::make_unique<Poco::Redis::RedisInputStream>(_socket);
	_out = std::make_unique<Poco::Redis::RedisOutputStream>(_socket);
	if (!password.empty())
	{
		Poco::Redis::Array auth;
		auth.add("AUTH").add(password);
		write(auth);
		flush();
		const RedisType::Ptr reply = read();
		if (isError(reply)) fail("AUTH refused: " + text(reply) + " (cluster.redis_password)");
	}
	// A connect can succeed on a Redis that does not answer (stopped, overloaded: the kernel
	// accepts for it); the link counts as open only once Redis has answered.
	Poco::Redis::Array ping;
	ping.add("PING");
	write(ping);
	flush();
	const RedisType::Ptr pong = read();
	if (isError(pong)) fail("PING refused: " + text(pong));
}

void RedisLink::close() noexcept
{
	_in.reset();
	_out.reset();
	try
	{
		_socket.close();
	}
	catch (...)
	{
	}
}

void RedisLink::fail(const std::string& what)
{
	close();
	throw std::runtime_error(what);
}

void RedisLink::write(const Poco::Redis::Array& command)
{
	if (!_out) throw std::runtime_error("not connected");
	const std::string bytes = command.toString();
	try
	{
		_out->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
	}
	catch (const Poco::Exception& e)
	{
		fail(e.displayText());
	}
	if (!*_out) fail("write failed");
}

void RedisLink::flush()
{
	if (!_out) throw std::runtime_error("not connected");
	try
	{
		_out->flush();
	}
	catch (const Poco::Exception& e)
	{
		fail(e.displayText());
	}
	if (!*_out) fail("write failed");
}

RedisType::Ptr RedisLink::read()
{
	if (!_in) throw std::runtime_error("not connected");
	try
	{
		const int marker = _in->get();
		if (marker == std::char_traits<char>::eof()) fail("connection closed by Redis");
		RedisType::Ptr reply = RedisType::createRedisType(static_cast<char>(marker));
		if (reply.isNull()) fail("not a RESP reply (type byte " + std::to_string(marker) + ")");
		reply->read(*_in);
		if (!*_in) fail("connection closed by Redis in the middle of a reply");
		return reply;
	}
	catch (const std::runtime_error&)
	{
		throw;
	}
	catch (const Poco::TimeoutException&)
	{
		fail("no reply within the timeout");
	}
	catch (const Poco::Exception& e)
	{
		fail(e.displayText());
	}
}

bool RedisLink::readable(int timeoutMs)
{
	if (!_in) return false;
	if (_in->rdbuf()->in_avail() > 0) return true;
	pollfd p{_socket.impl()->sockfd(), POLLIN, 0};
	const int n = ::poll(&p, 1, timeoutMs);
	return n > 0;
}

std::string RedisLink::text(const RedisType::Ptr& reply)
{
	if (reply.isNull()) return std::string();
	switch (reply->type())
	{
	case RedisType::REDIS_SIMPLE_STRING:
		return static_cast<const Poco::Redis::Type<std::string>&>(*reply).value();
	case RedisType::REDIS_BULK_STRING:
	{
		const auto& value = static_cast<const Poco::Redis::Type<Poco::Redis::BulkString>&>(*reply).value();
		return value.isNull() ? std::string() : value.value();
	}
	case RedisType::REDIS_ERROR:
		return static_cast<const Poco::Redis::Type<Poco::Redis::Error>&>(*reply).value().getMessage();
	default:
		return std::string();
	}
}

bool RedisLink::isError(const RedisType::Ptr& reply)
{
	return !reply.isNull() && reply->type() == RedisType::REDIS_ERROR;
}

} // namespace host
} // namespace parley
