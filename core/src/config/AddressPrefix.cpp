//
// AddressPrefix.cpp
//
#include "parley/config/AddressPrefix.h"
#include <arpa/inet.h>
#include <stdexcept>

namespace parley {

AddressPrefix AddressPrefix::parse(const std::string& text)
{
	AddressPrefix p;
	const std::size_t slash = text.find('/');
	const std::string address = text.substr(0, slash);
	if (address.find(':') == std::string::npos)
	{
		in_addr a{};
		if (::inet_pton(AF_INET, address.c_str(), &a) != 1)
			throw std::invalid_argument("'" + text + "' is not an IPv4 or IPv6 address or CIDR prefix");
		p.v4 = true;
		p.bytes[10] = p.bytes[11] = 0xff;
		const auto* b = reinterpret_cast<const std::uint8_t*>(&a);
		for (int i = 0; i < 4; ++i) p.bytes[12 + i] = b[i];
	}
	else
	{
		in6_addr a{};
		if (::inet_pton(AF_INET6, address.c_str(), &a) != 1)
			throw std::invalid_argument("'" + text + "' is not an IPv4 or IPv6 address or CIDR prefix");
		const auto* b = reinterpret_cast<const std::uint8_t*>(&a);
		for (int i = 0; i < 16; ++i) p.bytes[i] = b[i];
	}
	const unsigned width = p.v4 ? 32 : 128;
	unsigned bits = width;
	if (slash != std::string::npos)
	{
		const std::string length = text.substr(slash + 1);
		if (length.empty() || length.size() > 3 || length.find_first_not_of("0123456789") != std::string::npos ||
			std::stoul(length) > width)
			throw std::invalid_argument("'" + text + "': the prefix length must be 0.." + std::to_string(width));
		bits = static_cast<unsigned>(std::stoul(length));
	}
	p.bits = bits + (p.v4 ? 96 : 0);
	for (unsigned i = p.bits; i < 128; ++i)
		if (p.bytes[i / 8] & (0x80u >> (i % 8)))
			throw std::invalid_argument("'" + text + "': bits are set after the /" + std::to_string(bits) + " prefix");
	return p;
}

std::vector<AddressPrefix> AddressPrefix::parseList(const std::string& text)
{
	std::vector<AddressPrefix> list;
	std::size_t start = 0;
	while (start <= text.size())
	{
		std::size_t end = text.find(',', start);
		if (end == std::string::npos) end = text.size();
		std::string item = text.substr(start, end - start);
		const std::size_t first = item.find_first_not_of(" \t");
		const std::size_t last = item.find_last_not_of(" \t");
		item = first == std::string::npos ? std::string() : item.substr(first, last - first + 1);
		if (item.empty())
		{
			if (end < text.size() || !list.empty()) throw std::invalid_argument("an empty entry in the list");
		}
		else
			list.push_back(parse(item));
		start = end + 1;
	}
	return list;
}

bool AddressPrefix::contains(const std::uint8_t* address) const noexcept
{
	const unsigned whole = bits / 8;
	for (unsigned i = 0; i < whole; ++i)
		if (address[i] != bytes[i]) return false;
	const unsigned rest = bits % 8;
	if (rest == 0) return true;
	const std::uint8_t mask = static_cast<std::uint8_t>(0xFFu << (8 - rest));
	return (address[whole] & mask) == bytes[whole];
}

std::string AddressPrefix::text() const
{
	char buffer[INET6_ADDRSTRLEN] = {};
	if (v4)
		::inet_ntop(AF_INET, bytes.data() + 12, buffer, sizeof(buffer));
	else
		::inet_ntop(AF_INET6, bytes.data(), buffer, sizeof(buffer));
	return std::string(buffer) + "/" + std::to_string(v4 ? bits - 96 : bits);
}

} // namespace parley
