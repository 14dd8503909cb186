//
// WebSocketClose.cpp — WebSocketLayer's closing handshake: our close frame, waiting for the peer's
// (AwaitingClose), ending TCP and reading to the peer's end (Draining), and the host's graceful
// and immediate stops.
//
#include "WebSocketLayer.h"
#include "parley/codec/FrameEncoder.h"

namespace parley {
namespace host {

namespace {

using codec::FrameDecoder;
using codec::FrameEncoder;
namespace CloseCode = codec::CloseCode;

} // namespace

void WebSocketLayer::queueClose(Connection& c, OutputBuffer& out, std::uint16_t code, std::string_view reason, bool awaitPeer)
{
	c.awaitPeerClose = awaitPeer;
	std::string frame;
	FrameEncoder::appendClose(frame, code, reason);
	out.appendEncoded(frame);
	++_s.closesSent[LoopState::closeBucket(code)];
	c.closing(Connection::ClosedBy::Host, code);
	c.state = Connection::State::Closing;
	c.deadline = _s.now() + CloseTimeoutMs;
}

void WebSocketLayer::finishClose(Connection& c)
{
	if (c.peerEof)
	{
		destroy(c);
		return;
	}
	c.out.release();
	if (c.awaitPeerClose)
	{
		// Our close is out: the peer answers with its own before TCP ends (RFC 6455 7.1.2).
		c.state = Connection::State::AwaitingClose;
		c.deadline = _s.now() + CloseTimeoutMs;
		awaitClose(c);
		return;
	}
	endStream(c);
}

void WebSocketLayer::endStream(Connection& c)
{
	// Our last output is out: end our side of the stream, then wait for the peer's end.
	c.transport.shutdownWrite();
	c.state = Connection::State::Draining;
	c.deadline = _s.now() + CloseTimeoutMs;
	c.out.release();
	drain(c);
}

void WebSocketLayer::awaitClose(Connection& c)
{
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			readAgainLater(c);
			return;
		}
		bool drained = false;
		const ssize_t n = c.transport.read(_s.in.get(), _s.inSize, drained);
		if (n == Transport::WouldBlock) return;
		if (n <= 0)
		{
			destroy(c); // EOF or error: the peer is gone
			return;
		}
		_s.countIn(c, static_cast<std::uint64_t>(n));
		const std::size_t size = static_cast<std::size_t>(n);
		std::size_t pos = 0;
		FrameDecoder::Event ev;
		for (;;)
		{
			pos += c.decoder.decode(_s.in.get() + pos, size - pos, ev);
			if (ev.type == FrameDecoder::EventType::NeedMore) break;
			if (ev.type == FrameDecoder::EventType::Close)
			{
				// The closing handshake is complete: the server ends TCP first (RFC 6455 7.1.1).
				++_s.closesReceived[LoopState::closeBucket(ev.closeCode)];
				c.transport.shutdownWrite();
				destroy(c);
				return;
			}
			if (ev.type == FrameDecoder::EventType::Error)
			{
				destroy(c);
				return;
			}
			// Messages, pings and pongs after our close are dropped (RFC 6455 5.5.1).
		}
		if (drained && !c.hangup) return;
	}
}

void WebSocketLayer::drain(Connection& c)
{
	for (unsigned round = 0;; ++round)
	{
		if (round == ReadBudget)
		{
			readAgainLater(c);
			return;
		}
		const ssize_t n = c.transport.discard(_s.in.get(), _s.inSize);
		if (n > 0)
		{
			_s.countIn(c, static_cast<std::uint64_t>(n));
			continue;
		}
		if (n == Transport::WouldBlock) return;
		destroy(c); // EOF or error: the close handshake is over
		return;
	}
}

bool WebSocketLayer::closeForDrain(Connection& c)
{
	if (c.dead) return false;
	switch (c.state)
	{
	case Connection::State::Proxy:
	case Connection::State::Tls:
	case Connection::State::Head:
	case Connection::State::Gating:
		destroy(c); // not a WebSocket yet: nothing to say goodbye to
		return false;
	case Connection::State::Open:
		if (c.jobInFlight || c.closeDeferred)
		{
			// Messages read before now wait for the workers: the 1001 follows their replies
			// (reading has stopped: closeDeferred).
			if (!c.closeDeferred)
			{
				c.closeDeferred = true;
				c.deferredCode = CloseCode::GoingAway;
				c.deferredDrain = true;
			}
			return true;
		}
		queueClose(c, c.out, CloseCode::GoingAway, DrainReason);
		flush(c);
		return true;
	case Connection::State::Closing:
	case Connection::State::AwaitingClose:
	case Connection::State::Draining:
		break;
	}
	return false;
}

void WebSocketLayer::closeForStop(Connection& c)
{
	if (c.dead) return;
	if (c.state == Connection::State::Open)
	{
		queueClose(c, c.out, CloseCode::GoingAway, "server shutting down");
		c.peerEof = true; // do not wait for the peer: one write, then close
		flush(c);
	}
	if (!c.dead)
	{
		if (c.upgraded()) c.transport.shutdownWrite();
		destroy(c);
	}
}

} // namespace host
} // namespace parley
