//
// EventLoop.h — the loop: one thread, epoll, an eventfd wake-up, a timer tick, and accepting
// from the host's listening socket. It knows sockets only as descriptors with a tag; what a
// socket carries (TLS, HTTP, WebSocket) belongs to the layers above (HostLoop and below it).
//
#ifndef PARLEY_HOST_EVENTLOOP_INCLUDED
#define PARLEY_HOST_EVENTLOOP_INCLUDED

#include "LogLimiter.h"
#include <Poco/Logger.h>
#include <atomic>
#include <cstdint>
#include <sys/socket.h>
#include <thread>

namespace parley {
namespace host {

/// An edge-triggered epoll loop. Descriptors are registered once (in, out, read-hangup) with a
/// tag that comes back with their events. The listening socket is shared by every loop of the
/// host (EPOLLEXCLUSIVE, level-triggered): the loop that wakes accepts, up to AcceptBatch per
/// turn, and owns what it accepted. When the process runs out of descriptors the loop stops
/// accepting (clients wait in the kernel's listen backlog, no busy loop) until a connection of
/// this loop ends or the next tick, and logs that through the host's LogLimits (once per interval
/// for the whole host, with a count; once per LogIntervalMs per loop without them). The
/// handler may also hold accepting (to leave new connections to the other loops).
class EventLoop
{
public:
	/// How often the timers are checked (milliseconds).
	static constexpr unsigned TickMs = 250;
	/// Sockets accepted per turn at most, so that a burst of connections does not starve the others.
	static constexpr unsigned AcceptBatch = 64;
	/// At most one "out of file descriptors" line per this many milliseconds (per loop).
	static constexpr unsigned LogIntervalMs = 10000;

	/// What a loop turn calls, on the loop thread.
	class Handler
	{
	public:
		virtual ~Handler() = default;
		/// The first call on the loop thread, before its first turn.
		virtual void onThreadStart() {}
		/// The start of every turn, before its events.
		virtual void onTurnStart() = 0;
		/// A socket accepted from the listening socket (non-blocking, close-on-exec); the
		/// handler owns it.
		virtual void onAccept(int fd, const sockaddr_storage& peer) = 0;
		/// A watched descriptor is ready; `tag` is what watch() was given.
		virtual void onReady(void* tag, std::uint32_t events) = 0;
		/// wake() was called since the last turn.
		virtual void onWake() = 0;
		/// Every TickMs.
		virtual void onTick() = 0;
		/// The end of every turn.
		virtual void onTurnEnd() = 0;
		/// True if the next turn has work that must not wait for an event.
		virtual bool hasWork() const = 0;
		/// The loop is stopping: the handler's last call on the loop thread.
		virtual void onStop() = 0;
	};

	/// Creates the epoll and eventfd descriptors. Throws std::system_error if it cannot.
	EventLoop(unsigned id, Poco::Logger& logger);

	/// Stops the loop (if running) and closes its descriptors (not the listening socket).
	~EventLoop();

	EventLoop(const EventLoop&) = delete;
	EventLoop& operator=(const EventLoop&) = delete;

	/// Logs "cannot accept connections" lines through `limits` as `kind` (before start()).
	void setLogLimits(LogLimits* limits, std::size_t kind)
	{
		_limits = limits;
		_limitKind = kind;
	}

	/// Returns the steady clock in milliseconds (what now() reads once per turn).
	static std::uint64_t clockMs();

	/// Accept from `fd` (a non-blocking listening socket the host owns) once started; -1 = none.
	void setListener(int fd) { _listener = fd; }

	/// Starts the loop thread with `handler`.
	void start(Handler& handler);

	/// Stops accepting for good (any thread): the loop leaves the listening socket alone from its
	/// next turn on (the host may shut it down at once: a failed accept() is then no error).
	void stopAccepting();

	/// Stops accepting, lets the current turn end, calls Handler::onStop and joins the thread.
	/// Idempotent.
	void stop();

	/// Wakes the loop (thread-safe); the next turn calls Handler::onWake.
	void wake();

	/// Registers a descriptor for in, out and read-hangup, edge-triggered. Returns false (errno
	/// set) if epoll refuses it.
	bool watch(int fd, void* tag);

	/// Removes a descriptor (before it is closed).
	void unwatch(int fd);

	/// A descriptor was freed: accept again at once if accepting was paused for lack of them.
	void descriptorFreed()
	{
		if (_acceptPaused) resumeAccepting();
	}

	/// Stops (true) or resumes (false) accepting on the handler's behalf; the other loops of the
	/// host take the new connections meanwhile. Loop thread only.
	void holdAccepting(bool hold);

	/// True while holdAccepting(true) is in force.
	bool acceptingHeld() const noexcept { return _acceptHeld; }

	/// Returns the loop clock (milliseconds, steady), read once per turn.
	std::uint64_t now() const noexcept { return _now; }

	unsigned id() const noexcept { return _id; }

	/// Times accept() failed for lack of descriptors or memory (thread-safe).
	std::uint64_t acceptExhausted() const noexcept { return _acceptExhausted.load(std::memory_order_relaxed); }

private:
	void run();
	void acceptSome();
	void leaveListener();
	void pauseAccepting(int error);
	void resumeAccepting();

	const unsigned _id;
	Poco::Logger& _logger;
	Handler* _handler = nullptr;
	int _epoll = -1;
	int _wakeFd = -1;
	int _listener = -1;
	bool _listening = false;        // the listener is in this loop's epoll set
	bool _acceptPaused = false;     // out of descriptors: not accepting until resumeAccepting()
	bool _acceptHeld = false;       // the handler holds accepting (holdAccepting)
	std::uint64_t _now = 0;
	std::uint64_t _nextTick = 0;
	std::uint64_t _lastExhaustedLog = 0;
	std::uint64_t _exhaustedSinceLog = 0;
	std::atomic<std::uint64_t> _acceptExhausted{0};
	LogLimits* _limits = nullptr;
	std::size_t _limitKind = 0;
	std::atomic<bool> _stopping{false};
	std::atomic<bool> _acceptClosed{false};
	std::thread _thread;
};

} // namespace host
} // namespace parley

#endif
