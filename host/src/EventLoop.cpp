//
// EventLoop.cpp
//
#include "EventLoop.h"
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace parley {
namespace host {

namespace {

// Tags of the loop's own descriptors (connections use their own addresses).
char wakeTag;
char listenerTag;

std::system_error systemError(const char* what)
{
	return std::system_error(errno, std::generic_category(), what);
}

} // namespace

EventLoop::EventLoop(unsigned id, Poco::Logger& logger): _id(id), _logger(logger)
{
	_epoll = ::epoll_create1(EPOLL_CLOEXEC);
	if (_epoll < 0) throw systemError("epoll_create1");
	_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_wakeFd < 0)
	{
		const std::system_error error = systemError("eventfd");
		::close(_epoll);
		throw error;
	}
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.ptr = &wakeTag;
	if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, _wakeFd, &ev) != 0)
	{
		const std::system_error error = systemError("epoll_ctl");
		::close(_wakeFd);
		::close(_epoll);
		throw error;
	}
	_now = clockMs();
}

EventLoop::~EventLoop()
{
	stop();
	if (_wakeFd >= 0) ::close(_wakeFd);
	if (_epoll >= 0) ::close(_epoll);
}

void EventLoop::start(Handler& handler)
{
	_handler = &handler;
	_now = clockMs();
	_nextTick = _now + TickMs;
	if (_listener >= 0) resumeAccepting();
	_thread = std::thread([this] { run(); });
}

void EventLoop::stopAccepting()
{
	_acceptClosed.store(true, std::memory_order_release);
	wake();
}

void EventLoop::stop()
{
	_stopping.store(true);
	wake();
	if (_thread.joinable()) _thread.join();
}

void EventLoop::wake()
{
	const std::uint64_t one = 1;
	ssize_t n;
	do
	{
		n = ::write(_wakeFd, &one, sizeof(one));
	}
	while (n < 0 && errno == EINTR);
}

bool EventLoop::watch(int fd, void* tag)
{
	epoll_event ev{};
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = tag;
	return ::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::unwatch(int fd)
{
	::epoll_ctl(_epoll, EPOLL_CTL_DEL, fd, nullptr);
}

std::uint64_t EventLoop::clockMs()
{
	using namespace std::chrono;
	return static_cast<std::uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

void EventLoop::run()
{
	constexpr int MaxEvents = 256;
	epoll_event events[MaxEvents];
	_handler->onThreadStart();
	for (;;)
	{
		int timeout = 0;
		if (!_handler->hasWork())
		{
			const std::uint64_t now = clockMs();
			timeout = now >= _nextTick ? 0 : static_cast<int>(_nextTick - now);
		}
		const int n = ::epoll_wait(_epoll, events, MaxEvents, timeout);
		if (n < 0 && errno != EINTR)
		{
			_logger.critical("event loop %u: epoll_wait failed: %s", _id, std::string(std::strerror(errno)));
			break;
		}
		_now = clockMs();
		_handler->onTurnStart();
		bool woken = false;
		bool accept = false;
		for (int i = 0; i < n; ++i)
		{
			void* tag = events[i].data.ptr;
			if (tag == &wakeTag)
				woken = true;
			else if (tag == &listenerTag)
				accept = true;
			else
				_handler->onReady(tag, events[i].events);
		}
		if (woken)
		{
			std::uint64_t value;
			while (::read(_wakeFd, &value, sizeof(value)) > 0)
			{
			}
			if (_stopping.load()) break;
			if (_listener >= 0 && _acceptClosed.load(std::memory_order_acquire)) leaveListener();
			_handler->onWake();
		}
		if (accept) acceptSome();
		if (_now >= _nextTick)
		{
			if (_acceptPaused) resumeAccepting();
			_handler->onTick();
			_nextTick = _now + TickMs;
		}
		_handler->onTurnEnd();
	}
	if (_listening) unwatch(_listener);
	_listening = false;
	_handler->onStop();
}

void EventLoop::leaveListener()
{
	if (_listening) unwatch(_listener);
	_listening = false;
	_listener = -1;
}

void EventLoop::acceptSome()
{
	// The host may shut the listening socket down right after stopAccepting(): accept() then
	// fails, which is no error of this loop.
	if (_acceptClosed.load(std::memory_order_acquire))
	{
		leaveListener();
		return;
	}
	for (unsigned i = 0; i < AcceptBatch && _listening; ++i)
	{
		sockaddr_storage peer{};
		socklen_t length = sizeof(peer);
		const int fd = ::accept4(_listener, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
		{
			_handler->onAccept(fd, peer);
			continue;
		}
		switch (errno)
		{
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;          // that one client is gone; the next may be there
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			pauseAccepting(errno);
			return;
		case EAGAIN:
			return;            // the backlog is empty (another loop took the rest)
		default:
			_logger.error("event loop %u: accept failed, this loop stops accepting: %s", _id,
				std::string(std::strerror(errno)));
			unwatch(_listener);
			_listening = false;
			return;
		}
	}
}

void EventLoop::pauseAccepting(int error)
{
	_acceptExhausted.fetch_add(1, std::memory_order_relaxed);
	// Level-triggered, the listener would report the waiting clients again at once: take it out
	// of the set until a descriptor is freed or the next tick.
	unwatch(_listener);
	_listening = false;
	_acceptPaused = true;
	if (_limits)
	{
		_limits->log(_limitKind, Poco::Message::PRIO_WARNING, _now, [this, error] {
			return "event loop " + std::to_string(_id) + ": cannot accept connections: " + std::strerror(error) +
				"; new clients wait in the listen backlog until connections close (raise LimitNOFILE / ulimit -n, "
				"or lower engine.max_connections)";
		});
		return;
	}
	++_exhaustedSinceLog;
	if (_lastExhaustedLog == 0 || _now - _lastExhaustedLog >= LogIntervalMs)
	{
		std::string what = "event loop " + std::to_string(_id) + ": cannot accept connections: " + std::strerror(error);
		if (_lastExhaustedLog != 0)
			what += " (" + std::to_string(_exhaustedSinceLog) + " times in the last " +
				std::to_string((_now - _lastExhaustedLog) / 1000) + " s)";
		_logger.warning(what + "; new clients wait in the listen backlog until connections close");
		_lastExhaustedLog = _now;
		_exhaustedSinceLog = 0;
	}
}

void EventLoop::holdAccepting(bool hold)
{
	if (hold == _acceptHeld) return;
	_acceptHeld = hold;
	if (hold)
	{
		if (_listening) unwatch(_listener);
		_listening = false;
	}
	else
	{
		resumeAccepting();
	}
}

void EventLoop::resumeAccepting()
{
	if (_listener < 0 || _listening || _acceptHeld || _stopping.load()) return;
	epoll_event ev{};
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = &listenerTag;
	if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, _listener, &ev) != 0)
	{
		_logger.error("event loop %u: cannot watch the listening socket: %s", _id, std::string(std::strerror(errno)));
		return;
	}
	_listening = true;
	_acceptPaused = false;
}

} // namespace host
} // namespace parley
