//
// SessionRecorder.h — a SessionListener for the client tests that records every event and waits
// (bounded) for a condition on them.
//
#ifndef PARLEY_TESTS_SESSIONRECORDER_INCLUDED
#define PARLEY_TESTS_SESSIONRECORDER_INCLUDED

#include "parley/client/Session.h"
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace parley {
namespace test {

/// Records every event; waits (bounded) for a condition on them.
class Recorder : public client::SessionListener
{
public:
	struct State
	{
		client::SessionState state;
		std::uint16_t code;
		std::string reason;
	};

	void onStateChanged(client::SessionState state, std::uint16_t code, const std::string& reason) override
	{
		std::lock_guard<std::mutex> lock(mutex);
		states.push_back({state, code, reason});
		changed.notify_all();
	}
	void onFrame(const client::FrameRecord& frame) override
	{
		std::lock_guard<std::mutex> lock(mutex);
		frames.push_back(frame);
		changed.notify_all();
	}
	void onError(const std::string& message) override
	{
		std::lock_guard<std::mutex> lock(mutex);
		errors.push_back(message);
		changed.notify_all();
	}
	void onPingRtt(std::chrono::microseconds rtt) override
	{
		std::lock_guard<std::mutex> lock(mutex);
		rtts.push_back(rtt);
		changed.notify_all();
	}

	void onHandshake(const client::HandshakeReply& reply) override
	{
		std::lock_guard<std::mutex> lock(mutex);
		replies.push_back(reply);
		changed.notify_all();
	}

	/// Waits up to 10 s for `done` (called under the lock); returns its last value.
	bool waitFor(const std::function<bool()>& done)
	{
		std::unique_lock<std::mutex> lock(mutex);
		return changed.wait_for(lock, std::chrono::seconds(10), done);
	}
	bool waitState(client::SessionState s)
	{
		return waitFor([&] { return !states.empty() && states.back().state == s; });
	}
	const client::FrameRecord* findFrame(client::Direction d, client::FrameKind k) const
	{
		for (const client::FrameRecord& f : frames)
			if (f.direction == d && f.kind == k)
				return &f;
		return nullptr;
	}

	std::mutex mutex;
	std::condition_variable changed;
	std::vector<State> states;
	std::vector<client::FrameRecord> frames;
	std::vector<std::string> errors;
	std::vector<std::chrono::microseconds> rtts;
	std::vector<client::HandshakeReply> replies;
};

} // namespace test
} // namespace parley

#endif
