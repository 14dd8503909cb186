//
// SessionBridge.h — the GUI's SessionListener: runs on the session's network thread and only
// copies each event into the EventInbox; it never touches a window.
//
#ifndef PARLEY_GUI_SESSIONBRIDGE_INCLUDED
#define PARLEY_GUI_SESSIONBRIDGE_INCLUDED

#include "EventInbox.h"
#include "parley/client/Session.h"

namespace parley {
namespace gui {

class SessionBridge : public client::SessionListener
{
public:
	explicit SessionBridge(EventInbox& inbox): _inbox(inbox) {}

	void onStateChanged(client::SessionState state, std::uint16_t closeCode, const std::string& reason) override;
	void onFrame(const client::FrameRecord& frame) override;
	void onError(const std::string& message) override;
	void onPingRtt(std::chrono::microseconds rtt) override;
	void onHandshake(const client::HandshakeReply& reply) override;

private:
	EventInbox& _inbox;
};

} // namespace gui
} // namespace parley

#endif
