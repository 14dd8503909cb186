//
// EventInbox.cpp
//
#include "EventInbox.h"
#include <utility>

namespace parley {
namespace gui {

template <typename Add>
void EventInbox::push(Add&& add)
{
	bool wake = false;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		add(_pending);
		if (!_wakeSent)
		{
			_wakeSent = true;
			wake = static_cast<bool>(_wakeUp);
		}
	}
	if (wake) _wakeUp();
}

void EventInbox::pushFrame(const client::FrameRecord& frame)
{
	SessionEvent event;
	event.type = SessionEvent::Type::Frame;
	event.frame = frame;
	push([&](InboxBatch& b) { b.session.push_back(std::move(event)); });
}

void EventInbox::pushState(client::SessionState state, std::uint16_t closeCode, const std::string& reason)
{
	SessionEvent event;
	event.type = SessionEvent::Type::State;
	event.state = state;
	event.closeCode = closeCode;
	event.text = reason;
	push([&](InboxBatch& b) { b.session.push_back(std::move(event)); });
}

void EventInbox::pushError(const std::string& message)
{
	SessionEvent event;
	event.type = SessionEvent::Type::Error;
	event.text = message;
	push([&](InboxBatch& b) { b.session.push_back(std::move(event)); });
}

void EventInbox::pushPingRtt(std::chrono::microseconds rtt)
{
	SessionEvent event;
	event.type = SessionEvent::Type::PingRtt;
	event.rtt = rtt;
	push([&](InboxBatch& b) { b.session.push_back(std::move(event)); });
}

void EventInbox::pushHandshake(const client::HandshakeReply& reply)
{
	SessionEvent event;
	event.type = SessionEvent::Type::Handshake;
	event.reply = reply;
	push([&](InboxBatch& b) { b.session.push_back(std::move(event)); });
}

void EventInbox::pushProgress(const client::LoadProgress& progress)
{
	push([&](InboxBatch& b) { b.progress.push_back(progress); });
}

void EventInbox::pushLoadDone(const client::LoadSummary& summary)
{
	push([&](InboxBatch& b) { b.loadDone = summary; });
}

InboxBatch EventInbox::take()
{
	InboxBatch batch;
	std::lock_guard<std::mutex> lock(_mutex);
	std::swap(batch, _pending);
	_wakeSent = false;
	return batch;
}

} // namespace gui
} // namespace parley
