//
// HttpHead.h — the HTTP/1.1 request head on the public port: where it ends, parsing it with
// Poco's HTTP message classes, and the short answers the loop sends before closing. No I/O.
//
#ifndef PARLEY_HOST_HTTPHEAD_INCLUDED
#define PARLEY_HOST_HTTPHEAD_INCLUDED

#include <Poco/Net/HTTPRequest.h>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley {
namespace host {

class HttpHead
{
public:
	using Headers = std::vector<std::pair<std::string, std::string>>;

	/// Returns the size of the head in `bytes` including the empty line that ends it (CRLF CRLF,
	/// or bare LFs), or 0 if it is not complete. `from` is where to resume the search (the size
	/// of `bytes` at the previous call; 0 the first time).
	static std::size_t findEnd(std::string_view bytes, std::size_t from = 0) noexcept;

	/// True if `first` can be the first byte of a request line (a method's first character).
	static bool canStartRequest(char first) noexcept;

	/// Parses a complete head (as findEnd delimited it) into `request`. Returns 0, or the status
	/// to refuse it with and a reason in *why: 400 for a malformed request line or header,
	/// 431 for too many or too long header fields.
	static int parse(std::string_view head, Poco::Net::HTTPRequest& request, std::string* why);

	/// A complete answer that ends the connection: status line, `headers`, Content-Type
	/// text/plain, Content-Length, Connection: close, then `body` (not for a HEAD request).
	static std::string answer(int status, const std::string& body, const Headers& headers = {}, bool forHead = false);
};

} // namespace host
} // namespace parley

#endif
