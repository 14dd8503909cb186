//
// AddressPrefix.h — an IPv4 or IPv6 address or CIDR prefix from the configuration
// (server.trusted_proxies): "10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32".
//
#ifndef PARLEY_CONFIG_ADDRESSPREFIX_INCLUDED
#define PARLEY_CONFIG_ADDRESSPREFIX_INCLUDED

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace parley {

/// A prefix of 128-bit addresses; IPv4 is kept as IPv4-mapped IPv6 (::ffff:a.b.c.d), as the host
/// keeps the addresses it accepts, so "10.0.0.0/8" is ::ffff:10.0.0.0/104.
struct AddressPrefix
{
	std::array<std::uint8_t, 16> bytes{};
	unsigned bits = 0;   ///< of the 128
	bool v4 = false;     ///< written as IPv4

	/// Parses "address" or "address/bits". Throws std::invalid_argument with the reason (not an
	/// address, prefix length out of range, bits set after the prefix).
	static AddressPrefix parse(const std::string& text);

	/// Parses a comma-separated list ("" = empty). Throws std::invalid_argument naming the entry.
	static std::vector<AddressPrefix> parseList(const std::string& text);

	/// True if the 16-byte address `address` (IPv4 mapped) lies in the prefix.
	bool contains(const std::uint8_t* address) const noexcept;

	/// "10.0.0.0/8", "::1/128".
	std::string text() const;

	bool operator==(const AddressPrefix& o) const { return bytes == o.bytes && bits == o.bits; }
	bool operator!=(const AddressPrefix& o) const { return !(*this == o); }
};

} // namespace parley

#endif
