//
// SessionBridge.cpp
//
#include "SessionBridge.h"

namespace parley {
namespace gui {

void SessionBridge::onStateChanged(client::SessionState state, std::uint16_t closeCode, const std::string& reason)
{
	_inbox.pushState(state, closeCode, reason);
}

void SessionBridge::onFrame(const client::FrameRecord& frame)
{
	_inbox.pushFrame(frame);
}

void SessionBridge::onError(const std::string& message)
{
	_inbox.pushError(message);
}

void SessionBridge::onPingRtt(std::chrono::microseconds rtt)
{
	_inbox.pushPingRtt(rtt);
}

void SessionBridge::onHandshake(const client::HandshakeReply& reply)
{
	_inbox.pushHandshake(reply);
}

} // namespace gui
} // namespace parley
