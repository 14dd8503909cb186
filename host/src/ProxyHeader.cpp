//
// ProxyHeader.cpp
//
#include "ProxyHeader.h"
#include <arpa/inet.h>
#include <cstring>
#include <string>

namespace parley {
namespace host {

namespace {

constexpr unsigned char V2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr char V1Prefix[] = "PROXY ";

ProxyHeader invalid(const char* why) noexcept
{
	ProxyHeader h;
	h.status = ProxyHeader::Status::Invalid;
	h.error = why;
	return h;
}

/// True if the first `size` bytes of `data` agree with the first bytes of `expected`.
bool startsLike(const char* data, std::size_t size, const void* expected, std::size_t length) noexcept
{
	return std::memcmp(data, expected, size < length ? size : length) == 0;
}

/// A port of a v1 header: 0..65535 in decimal, no sign, no leading zero.
bool parsePort(const std::string& text, std::uint16_t& port)
{
	if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
	unsigned value = 0;
	for (char ch : text)
	{
		if (ch < '0' || ch > '9') return false;
		value = value * 10 + static_cast<unsigned>(ch - '0');
	}
	if (value > 65535) return false;
	port = static_cast<std::uint16_t>(value);
	return true;
}

ProxyHeader parseV1(const char* data, std::size_t size)
{
	if (!startsLike(data, size, V1Prefix, 6))
	{
		if (startsLike(data, size, V2Signature, sizeof(V2Signature)))
			return invalid("a PROXY v2 header where v1 is configured");
		return invalid("no PROXY v1 header (the connection does not start with \"PROXY \")");
	}
	const std::size_t scan = size < ProxyHeader::V1MaxBytes ? size : ProxyHeader::V1MaxBytes;
	std::size_t end = 0;
	for (std::size_t i = 0; i < scan; ++i)
	{
		if (data[i] == '\r')
		{
			if (i + 1 == size) return ProxyHeader{};   // the '\n' may come next
			if (data[i + 1] != '\n') return invalid("a PROXY v1 header with a CR not followed by LF");
			end = i;
			break;
		}
		if (data[i] == '\n') return invalid("a PROXY v1 header with a LF not preceded by CR");
		if (static_cast<unsigned char>(data[i]) < 0x20 || static_cast<unsigned char>(data[i]) > 0x7e)
			return invalid("a PROXY v1 header with a byte that is not printable ASCII");
	}
	if (end == 0)
	{
		if (size >= ProxyHeader::V1MaxBytes) return invalid("a PROXY v1 header without CRLF within 107 bytes");
		return ProxyHeader{};
	}
	ProxyHeader h;
	h.status = ProxyHeader::Status::Done;
	h.size = end + 2;
	// Fields separated by single spaces: PROXY <proto> [<src> <dst> <sport> <dport>]
	std::size_t protocolEnd = 6;
	while (protocolEnd < end && data[protocolEnd] != ' ') ++protocolEnd;
	if (std::string(data + 6, protocolEnd - 6) == "UNKNOWN") return h;   // anything may follow; the socket's peer stays
	std::string fields[7];
	std::size_t count = 0;
	std::size_t start = 0;
	for (std::size_t i = 0; i <= end; ++i)
	{
		if (i == end || data[i] == ' ')
		{
			if (count == 7) return invalid("a PROXY v1 header with too many fields");
			fields[count++].assign(data + start, i - start);
			start = i + 1;
		}
	}
	const bool v4 = fields[1] == "TCP4";
	if (!v4 && fields[1] != "TCP6") return invalid("a PROXY v1 header with a protocol other than TCP4, TCP6 or UNKNOWN");
	if (count != 6) return invalid("a PROXY v1 header without exactly source, destination and their ports");
	unsigned char source[16] = {}, destination[16] = {};
	if (::inet_pton(v4 ? AF_INET : AF_INET6, fields[2].c_str(), source) != 1 ||
		::inet_pton(v4 ? AF_INET : AF_INET6, fields[3].c_str(), destination) != 1)
		return invalid(v4 ? "a PROXY v1 header with an invalid IPv4 address" : "a PROXY v1 header with an invalid IPv6 address");
	std::uint16_t sourcePort = 0, destinationPort = 0;
	if (!parsePort(fields[4], sourcePort) || !parsePort(fields[5], destinationPort))
		return invalid("a PROXY v1 header with an invalid port");
	if (v4)
	{
		h.source.bytes[10] = h.source.bytes[11] = 0xff;
		std::memcpy(h.source.bytes + 12, source, 4);
	}
	else
		std::memcpy(h.source.bytes, source, 16);
	static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	h.source.v4 = std::memcmp(h.source.bytes, mapped, 12) == 0;
	h.source.port = sourcePort;
	h.hasSource = true;
	return h;
}

ProxyHeader parseV2(const char* data, std::size_t size) noexcept
{
	if (!startsLike(data, size, V2Signature, sizeof(V2Signature)))
	{
		if (startsLike(data, size, V1Prefix, 6)) return invalid("a PROXY v1 header where v2 is configured");
		return invalid("no PROXY v2 header (wrong signature)");
	}
	if (size < 16) return ProxyHeader{};
	const auto* u = reinterpret_cast<const unsigned char*>(data);
	if ((u[12] >> 4) != 2) return invalid("a PROXY v2 header with a version other than 2");
	const unsigned command = u[12] & 0x0f;
	if (command > 1) return invalid("a PROXY v2 header with a command other than LOCAL or PROXY");
	const std::size_t length = (static_cast<std::size_t>(u[14]) << 8) | u[15];
	if (length > ProxyHeader::V2MaxLength) return invalid("a PROXY v2 header longer than 2064 bytes");
	const unsigned family = u[13] >> 4;
	const unsigned transport = u[13] & 0x0f;
	if (command == 1)
	{
		if (family > 3) return invalid("a PROXY v2 header with an unknown address family");
		if (transport > 2) return invalid("a PROXY v2 header with an unknown transport");
		if (family != 0 && transport == 2) return invalid("a PROXY v2 header for a datagram (UDP) connection");
		const std::size_t needed = family == 1 ? 12 : family == 2 ? 36 : family == 3 ? 216 : 0;
		if (length < needed) return invalid("a PROXY v2 header shorter than its addresses");
	}
	if (size < 16 + length) return ProxyHeader{};
	ProxyHeader h;
	h.status = ProxyHeader::Status::Done;
	h.size = 16 + length;
	// LOCAL (the proxy's own health check), UNSPEC and UNIX: the socket's peer stays.
	if (command == 1 && (family == 1 || family == 2) && transport == 1)
	{
		const unsigned char* a = u + 16;
		if (family == 1)
		{
			h.source.bytes[10] = h.source.bytes[11] = 0xff;
			std::memcpy(h.source.bytes + 12, a, 4);
			h.source.port = static_cast<std::uint16_t>((a[8] << 8) | a[9]);
			h.source.v4 = true;
		}
		else
		{
			std::memcpy(h.source.bytes, a, 16);
			h.source.port = static_cast<std::uint16_t>((a[32] << 8) | a[33]);
			static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			h.source.v4 = std::memcmp(h.source.bytes, mapped, 12) == 0;
		}
		h.hasSource = true;
	}
	return h;
}

} // namespace

ProxyHeader ProxyHeader::parse(const char* data, std::size_t size, unsigned version)
{
	if (size == 0) return ProxyHeader{};
	return version == 1 ? parseV1(data, size) : parseV2(data, size);
}

bool ProxyHeader::trusted(const std::vector<AddressPrefix>& trusted, const PeerAddress& peer) noexcept
{
	for (const AddressPrefix& p : trusted)
		if (p.contains(peer.bytes)) return true;
	return false;
}

} // namespace host
} // namespace parley
