//
// InteractiveShell.h — parley-client --interactive: every stdin line is sent as a text message
// and everything received is printed as it arrives (like wscat).
//
#ifndef PARLEY_CLIENTAPP_INTERACTIVESHELL_INCLUDED
#define PARLEY_CLIENTAPP_INTERACTIVESHELL_INCLUDED

#include "parley/client/Session.h"
#include <condition_variable>
#include <mutex>
#include <string>

namespace parley {
namespace clientapp {

class InteractiveShell : public client::SessionListener
{
public:
	/// quiet: no status lines on stderr (received messages are still printed).
	explicit InteractiveShell(bool quiet) : _quiet(quiet) {}

	/// Connects, then sends stdin lines until end of input or /close, and waits for the close
	/// handshake. Returns the exit code: 0 after a close handshake, 1 if the connection failed
	/// or was lost.
	int run(const client::ConnectOptions& options);

	/// The commands, for --help.
	static const char* help();

	void onStateChanged(client::SessionState state, std::uint16_t closeCode, const std::string& reason) override;
	void onFrame(const client::FrameRecord& frame) override;
	void onError(const std::string& message) override;
	void onPingRtt(std::chrono::microseconds rtt) override;
	void onHandshake(const client::HandshakeReply& reply) override;

private:
	/// Handles one input line; returns false when input should stop (after /close or /quit).
	bool command(client::Session& session, const std::string& line);
	bool waitFor(client::SessionState state, unsigned timeoutMs);
	void say(const std::string& line);

	bool _quiet;
	std::mutex _mutex;
	std::condition_variable _changed;
	client::SessionState _state = client::SessionState::Idle;
	std::uint16_t _closeCode = 0;
	bool _failed = false;
	std::string _subprotocol;
	std::string _deflate;  // ", permessage-deflate (...)" for the greeting, "" when not offered
};

} // namespace clientapp
} // namespace parley

#endif
