//
// InteractiveShell.cpp
//
#include "InteractiveShell.h"
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <poll.h>
#include <unistd.h>

namespace parley {
namespace clientapp {

namespace {

std::string printable(const std::string& data, bool binary)
{
	static const char hex[] = "0123456789abcdef";
	std::string out;
	if (binary)
	{
		for (unsigned char c : data)
		{
			out += hex[c >> 4];
			out += hex[c & 0xF];
		}
		return out;
	}
	for (unsigned char c : data)
	{
		if (c == '\n' || c == '\t' || c >= 0x20)
			out += static_cast<char>(c);
		else
		{
			out += "\\x";
			out += hex[c >> 4];
			out += hex[c & 0xF];
		}
	}
	return out;
}

bool parseHex(const std::string& text, std::string& out)
{
	std::string digits;
	for (char c : text)
	{
		if (std::isxdigit(static_cast<unsigned char>(c)))
			digits += c;
		else if (c != ' ' && c != ':')
			return false;
	}
	if (digits.size() % 2)
		return false;
	out.clear();
	for (std::size_t i = 0; i < digits.size(); i += 2)
		out += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
	return true;
}

} // namespace

const char* InteractiveShell::help()
{
	return "Interactive commands: a line is sent as a text message; '//x' sends '/x';\n"
		   "  /ping [payload]        send a ping (the round-trip time is printed)\n"
		   "  /binary HEX            send a binary message, e.g. /binary 00ff10\n"
		   "  /close [code] [reason] start the close handshake (default 1000)\n"
		   "  /quit                  same as /close; end of input does the same\n";
}

void InteractiveShell::say(const std::string& line)
{
	std::lock_guard<std::mutex> lock(_mutex);
	std::fputs(line.c_str(), stderr);
	std::fputc('\n', stderr);
	std::fflush(stderr);
}

void InteractiveShell::onStateChanged(client::SessionState state, std::uint16_t closeCode, const std::string& reason)
{
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_state = state;
		if (state == client::SessionState::Closed)
			_closeCode = closeCode;
	}
	_changed.notify_all();
	if (state == client::SessionState::Open && !_quiet)
	{
		std::string subprotocol, deflate;
		{
			std::lock_guard<std::mutex> lock(_mutex);
			subprotocol = _subprotocol;
			deflate = _deflate;
		}
		say("parley-client: connected" + (subprotocol.empty() ? std::string() : ", subprotocol " + subprotocol) + deflate
			+ " (Ctrl-D or /close to end)");
	}
	else if (state == client::SessionState::Closed && closeCode != 1006 && !_quiet)
		say("parley-client: closed " + std::to_string(closeCode) + (reason.empty() ? "" : " (" + reason + ")"));
	else if (state == client::SessionState::Closed && closeCode == 1006 && !_failed)
		say("parley-client: " + reason);
}

void InteractiveShell::onFrame(const client::FrameRecord& frame)
{
	if (frame.direction != client::Direction::Received)
		return;
	std::string line;
	switch (frame.kind)
	{
	case client::FrameKind::Text:
		line = "< " + printable(frame.payload, false);
		break;
	case client::FrameKind::Binary:
		line = "< [binary " + std::to_string(frame.payload.size()) + " bytes] " + printable(frame.payload, true);
		break;
	case client::FrameKind::Ping:
		line = "< [ping] " + printable(frame.payload, false);
		break;
	case client::FrameKind::Pong:
		line = "< [pong] " + printable(frame.payload, false);
		break;
	case client::FrameKind::Close:
		line = "< [close " + std::to_string(frame.closeCode) + "] " + printable(frame.payload, false);
		break;
	}
	std::lock_guard<std::mutex> lock(_mutex);
	std::fputs(line.c_str(), stdout);
	std::fputc('\n', stdout);
	std::fflush(stdout);
}

void InteractiveShell::onError(const std::string& message)
{
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (_state != client::SessionState::Open && _state != client::SessionState::Closing)
			_failed = true;
	}
	say("parley-client: " + message);
}

void InteractiveShell::onHandshake(const client::HandshakeReply& reply)
{
	std::lock_guard<std::mutex> lock(_mutex);
	_subprotocol = reply.subprotocol;
	if (reply.deflate)
		_deflate = ", permessage-deflate (" + reply.extensions + ")";
	else if (reply.deflateOffered)
		_deflate = ", permessage-deflate declined by the server";
}

void InteractiveShell::onPingRtt(std::chrono::microseconds rtt)
{
	if (!_quiet)
		say("parley-client: ping round trip " + std::to_string(rtt.count()) + " us");
}

bool InteractiveShell::waitFor(client::SessionState state, unsigned timeoutMs)
{
	std::unique_lock<std::mutex> lock(_mutex);
	return _changed.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] {
		return _state == state || _state == client::SessionState::Closed;
	}) && _state == state;
}

bool InteractiveShell::command(client::Session& session, const std::string& line)
{
	if (line.size() >= 2 && line[0] == '/' && line[1] == '/')
	{
		session.sendText(line.substr(1));
		return true;
	}
	if (line.empty() || line[0] != '/')
	{
		session.sendText(line);
		return true;
	}
	std::size_t space = line.find(' ');
	std::string name = line.substr(0, space);
	std::string rest = space == std::string::npos ? std::string() : line.substr(space + 1);
	if (name == "/ping")
		session.ping(rest);
	else if (name == "/binary")
	{
		std::string data;
		if (!parseHex(rest, data))
			say("parley-client: /binary wants hex digits, e.g. /binary 48656c6c6f");
		else
			session.sendBinary(data);
	}
	else if (name == "/close" || name == "/quit")
	{
		unsigned long code = 1000;
		std::string reason;
		if (!rest.empty())
		{
			std::size_t sp = rest.find(' ');
			std::string codeText = rest.substr(0, sp);
			try
			{
				std::size_t used = 0;
				code = std::stoul(codeText, &used);
				if (used != codeText.size() || code > 65535)
					throw std::invalid_argument(codeText);
			}
			catch (const std::exception&)
			{
				say("parley-client: /close wants a numeric code, e.g. /close 1000 bye");
				return true;
			}
			if (sp != std::string::npos)
				reason = rest.substr(sp + 1);
		}
		session.close(static_cast<std::uint16_t>(code), reason);
		return false;
	}
	else
		say(std::string("parley-client: unknown command ") + name + "\n" + help());
	return true;
}

int InteractiveShell::run(const client::ConnectOptions& options)
{
	client::Session session(*this);
	session.connect(options);
	if (!waitFor(client::SessionState::Open, options.connectTimeoutMs + 1000))
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (_state != client::SessionState::Closed)
		{
			std::fprintf(stderr, "parley-client: cannot connect to %s: timed out\n", options.url.c_str());
		}
		return 1;
	}

	std::string pending;
	bool reading = true;
	char buffer[4096];
	while (reading)
	{
		if (session.state() == client::SessionState::Closed)
			break;
		pollfd p;
		p.fd = STDIN_FILENO;
		p.events = POLLIN;
		p.revents = 0;
		int rc = ::poll(&p, 1, 100);
		if (rc <= 0)
			continue;
		ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (!pending.empty())
				command(session, pending);
			session.close(1000, {});
			break;
		}
		pending.append(buffer, static_cast<std::size_t>(n));
		std::size_t start = 0;
		for (std::size_t nl; reading && (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
		{
			std::string line = pending.substr(start, nl - start);
			if (!line.empty() && line.back() == '\r')
				line.pop_back();
			reading = command(session, line);
		}
		pending.erase(0, start);
	}
	waitFor(client::SessionState::Closed, options.connectTimeoutMs + 1000);
	std::lock_guard<std::mutex> lock(_mutex);
	if (_state != client::SessionState::Closed)
	{
		std::fputs("parley-client: the close handshake did not finish in time\n", stderr);
		return 1;
	}
	return _closeCode == 1006 ? 1 : 0;
}

} // namespace clientapp
} // namespace parley
