//
// EventInbox.h — where the network thread (session listener) and the load-run worker leave their
// news for the UI thread. Producers push under a mutex; the first push into an empty inbox calls
// the wake-up (the frame's CallAfter), and the UI thread then takes everything at once, at most
// ~30 times a second, so thousands of frames per second cost the UI one batch per tick.
//
#ifndef PARLEY_GUI_EVENTINBOX_INCLUDED
#define PARLEY_GUI_EVENTINBOX_INCLUDED

#include "parley/client/LoadRun.h"
#include "parley/client/Session.h"
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace parley {
namespace gui {

/// One thing the session reported, kept in the order it happened.
struct SessionEvent
{
	enum class Type : std::uint8_t { Frame, State, Error, PingRtt, Handshake };
	Type type = Type::Frame;
	client::FrameRecord frame;                 ///< Frame
	client::SessionState state = client::SessionState::Idle;  ///< State
	std::uint16_t closeCode = 0;               ///< State
	std::string text;                          ///< State: close reason; Error: the message
	std::chrono::microseconds rtt{0};          ///< PingRtt
	client::HandshakeReply reply;              ///< Handshake: the server's answer (101 or a refusal)
};

/// Everything that arrived since the previous take().
struct InboxBatch
{
	std::vector<SessionEvent> session;          ///< in arrival order
	std::vector<client::LoadProgress> progress;  ///< in arrival order
	std::optional<client::LoadSummary> loadDone;

	/// Returns true if nothing arrived.
	bool empty() const noexcept { return session.empty() && progress.empty() && !loadDone; }
};

class EventInbox
{
public:
	/// Sets what a producer calls (on its own thread, outside the lock) when it puts something
	/// into an empty inbox; it is called again only after the next take(). Set it before any
	/// producer runs.
	void setWakeUp(std::function<void()> wakeUp) { _wakeUp = std::move(wakeUp); }

	/// Thread-safe producers.
	void pushFrame(const client::FrameRecord& frame);
	void pushState(client::SessionState state, std::uint16_t closeCode, const std::string& reason);
	void pushError(const std::string& message);
	void pushPingRtt(std::chrono::microseconds rtt);
	void pushHandshake(const client::HandshakeReply& reply);
	void pushProgress(const client::LoadProgress& progress);
	void pushLoadDone(const client::LoadSummary& summary);

	/// Returns everything pushed since the last call and empties the inbox (thread-safe).
	InboxBatch take();

private:
	/// Adds an event under the lock, then wakes the UI if this is the first since take().
	template <typename Add>
	void push(Add&& add);

	std::mutex _mutex;
	InboxBatch _pending;
	bool _wakeSent = false;
	std::function<void()> _wakeUp;
};

} // namespace gui
} // namespace parley

#endif
