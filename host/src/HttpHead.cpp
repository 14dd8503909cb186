//
// HttpHead.cpp
//
#include "HttpHead.h"
#include <Poco/Exception.h>
#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <sstream>

namespace parley {
namespace host {

std::size_t HttpHead::findEnd(std::string_view bytes, std::size_t from) noexcept
{
	// The head ends at an empty line: "\n\r\n" or "\n\n" (RFC 9112 lets a server accept bare LF).
	std::size_t i = from >= 2 ? from - 2 : 0;
	for (;;)
	{
		const std::size_t lf = bytes.find('\n', i);
		if (lf == std::string_view::npos) return 0;
		if (lf + 1 < bytes.size() && bytes[lf + 1] == '\n') return lf + 2;
		if (lf + 2 < bytes.size() && bytes[lf + 1] == '\r' && bytes[lf + 2] == '\n') return lf + 3;
		if (lf + 2 >= bytes.size() && (lf + 1 == bytes.size() || bytes[lf + 1] == '\r')) return 0; // maybe next time
		i = lf + 1;
	}
}

namespace {

bool isTokenChar(char c)
{
	// RFC 9110 tchar
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
	switch (c)
	{
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
	case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

bool isDigit(char c)
{
	return c >= '0' && c <= '9';
}

/// What Poco's lenient reader lets through and RFC 9112 says to refuse with 400: a request line
/// that is not "method SP target SP HTTP/d.d", field lines without a colon or with white space
/// before it (or in the name), obsolete line folding, and control characters in values.
const char* checkSyntax(std::string_view head)
{
	std::size_t start = 0;
	bool first = true;
	while (start < head.size())
	{
		std::size_t end = head.find('\n', start);
		if (end == std::string_view::npos) end = head.size();
		std::string_view line = head.substr(start, end - start);
		if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
		start = end + 1;
		if (line.empty())
		{
			if (first) return "empty request line";
			break;
		}
		if (first)
		{
			first = false;
			const std::size_t sp1 = line.find(' ');
			const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
			if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 || line.find(' ', sp2 + 1) != std::string_view::npos)
				return "malformed request line";
			for (std::size_t i = 0; i < sp1; ++i)
				if (!isTokenChar(line[i])) return "malformed request method";
			const std::string_view version = line.substr(sp2 + 1);
			if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !isDigit(version[5]) || version[6] != '.' ||
				!isDigit(version[7]))
				return "malformed HTTP version";
			continue;
		}
		if (line.front() == ' ' || line.front() == '\t') return "obsolete line folding in a header field";
		const std::size_t colon = line.find(':');
		if (colon == std::string_view::npos || colon == 0) return "header field without a name";
		for (std::size_t i = 0; i < colon; ++i)
			if (!isTokenChar(line[i])) return "malformed header field name";
		for (std::size_t i = colon + 1; i < line.size(); ++i)
		{
			const auto u = static_cast<unsigned char>(line[i]);
			if ((u < 0x20 && u != '\t') || u == 0x7F) return "control character in a header field";
		}
	}
	return nullptr;
}

} // namespace

bool HttpHead::canStartRequest(char first) noexcept
{
	return isTokenChar(first);
}

int HttpHead::parse(std::string_view head, Poco::Net::HTTPRequest& request, std::string* why)
{
	if (const char* bad = checkSyntax(head))
	{
		if (why) *why = bad;
		return 400;
	}
	Poco::MemoryInputStream in(head.data(), head.size());
	try
	{
		request.read(in);
	}
	catch (const Poco::Exception& e)
	{
		const std::string text = e.message().empty() ? e.displayText() : e.message();
		if (why) *why = text;
		if (text.find("Too many header fields") != std::string::npos || text.find("Field name too long") != std::string::npos ||
			text.find("Field value too long") != std::string::npos)
			return 431;
		return 400;
	}
	// Poco stops at the empty line: anything after it inside `head` would be a second head.
	in.peek();
	if (!in.eof())
	{
		if (why) *why = "malformed request head";
		return 400;
	}
	return 0;
}

std::string HttpHead::answer(int status, const std::string& body, const Headers& headers, bool forHead)
{
	Poco::Net::HTTPResponse response(Poco::Net::HTTPMessage::HTTP_1_1, static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
	for (const auto& header : headers) response.add(header.first, header.second);
	response.setContentType("text/plain; charset=utf-8");
	response.setContentLength(static_cast<std::streamsize>(body.size()));
	// RFC 9110 §7.8: a server that sends Upgrade also names it in Connection.
	response.set("Connection", response.has("Upgrade") ? "Upgrade, close" : "close");
	std::ostringstream out;
	response.write(out);
	if (!forHead) out << body;
	return out.str();
}

} // namespace host
} // namespace parley
