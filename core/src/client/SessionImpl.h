//
// SessionImpl.h — the inside of Session (not installed): its commands and Session::Impl, the
// thread that owns the socket. Session.cpp has the thread, the commands and the connection's
// set-up; SessionFrames.cpp the bytes and frames once it is open.
//
#ifndef PARLEY_CLIENT_SESSIONIMPL_INCLUDED
#define PARLEY_CLIENT_SESSIONIMPL_INCLUDED

#include "parley/client/Session.h"
#include "ClientDeflate.h"
#include "ClientHandshake.h"
#include "ClientSocket.h"
#include "ClientTls.h"
#include "MaskGenerator.h"
#include "parley/client/Url.h"
#include "parley/codec/FrameDecoder.h"
#include "parley/codec/FrameEncoder.h"
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <chrono>
#include <string>
#include <string_view>

namespace parley {
namespace client {

namespace session {

using Clock = std::chrono::steady_clock;

struct Command
{
	enum class Type : std::uint8_t { Connect, Text, Binary, Ping, Close, Disconnect, Quit };
	Type type = Type::Quit;
	std::string payload;
	std::uint16_t code = 0;
	ConnectOptions connect;
};

} // namespace session

using session::Clock;
using session::Command;

struct Session::Impl
{
	explicit Impl(SessionListener& l);
	~Impl();

	void post(Command command);
	void run();

	// Everything below runs on the network thread only.
	void handle(Command& command);
	void startConnect(const ConnectOptions& options);
	void onSocketReady(short revents);
	void onConnected();
	void stepTls();
	short socketEvents() const;
	void readAvailable();
	void processBytes(char* data, std::size_t size);
	void processFrames(char* data, std::size_t size);
	bool receiveData(const codec::FrameDecoder::Event& event);
	void failProtocol(std::uint16_t code, const std::string& what);
	void sendData(FrameKind kind, std::string& payload);
	void sendPing(std::string& payload);
	void sendClose(std::uint16_t code, const std::string& reason);
	void answerPosted();
	void appendFrame(codec::Opcode opcode, std::string_view payload);
	bool flush();
	enum class Io : std::uint8_t { Data, Blocked, End, Error };
	Io receive(std::size_t& got, std::string& error);
	Io transmit(const char* data, std::size_t size, std::size_t& put, std::string& error);
	void fail(std::string message);  // by value: it may refer to state that drop() frees
	void failHandshake();
	bool endRefusal();
	void lost(std::string reason);
	void finish(std::uint16_t code, const std::string& reason);
	void drop() noexcept;
	void setState(SessionState state, std::uint16_t code = 0, const std::string& reason = {});
	/// wireSize: payload bytes on the wire (npos: as the payload, or a close frame's 2 + reason).
	void report(Direction direction, FrameKind kind, std::string_view payload, std::uint16_t code = 0,
		bool compressed = false, std::uint64_t wireSize = NoWireSize);
	static constexpr std::uint64_t NoWireSize = ~std::uint64_t(0);
	int pollTimeout() const;

	SessionListener& listener;
	std::atomic<SessionState> state{SessionState::Idle};
	mutable std::mutex selectedMutex;
	std::string selected;  // the subprotocol of the current (or last) connection
	int wakeFd = -1;
	std::mutex mutex;
	std::deque<Command> commands;
	std::thread thread;

	bool quitting = false;
	ConnectOptions options;
	Url url;
	ClientSocket socket;
	bool tcpConnected = false;
	std::unique_ptr<TlsContext> tlsContext;  // wss:// only
	std::unique_ptr<TlsTransport> tls;       // wss:// only
	bool tlsWantsWrite = false;   // the TLS handshake waits for the socket to be writable
	bool readWantsWrite = false;  // a TLS read waits for the socket to be writable
	bool writeWantsRead = false;  // a TLS write waits for the socket to be readable
	std::unique_ptr<ClientHandshake> handshake;
	codec::FrameDecoder decoder{codec::Role::Client};
	std::unique_ptr<ClientDeflate> deflate;  // permessage-deflate, once negotiated
	std::string inflated;                    // an incoming message, inflated
	MaskGenerator masks;
	std::string out;
	std::size_t outOffset = 0;
	std::deque<Command> pending;  // data sent while connecting
	std::deque<std::pair<std::string, Clock::time_point>> pings;
	bool hasDeadline = false;
	Clock::time_point deadline;
	std::vector<char> readBuffer = std::vector<char>(64 * 1024);
	std::random_device seeds;
};

} // namespace client
} // namespace parley

#endif
