//
// ConnectionDetails.h — what responders learn about a connection (parley::ConnectionInfo) and
// the storage behind its views: made once at the upgrade, shared by the connection and its
// worker jobs, so a blocking responder may read it after the connection closed.
//
#ifndef PARLEY_HOST_CONNECTIONDETAILS_INCLUDED
#define PARLEY_HOST_CONNECTIONDETAILS_INCLUDED

#include "parley/Plugin.h"
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley {
namespace host {

struct ConnectionDetails
{
	ConnectionInfo info;             ///< views into `text`, `attributes`
	Attributes attributes;
	std::int64_t expiresAt = 0;      ///< Unix time (s) at which a gate's admission ends; 0 = never
	std::string text;                ///< path, query, subprotocol, identity, address, back to back

	/// One allocation for the fixed part (make_shared), one for `text` if it outgrows the
	/// small-string buffer.
	static std::shared_ptr<ConnectionDetails> make(std::string_view path, std::string_view query,
		std::string_view subprotocol, std::string_view identity, std::string_view address, std::uint16_t port, bool tls,
		Attributes attributes = {})
	{
		auto d = std::make_shared<ConnectionDetails>();
		d->attributes = std::move(attributes);
		d->text.reserve(path.size() + query.size() + subprotocol.size() + identity.size() + address.size());
		const std::string_view parts[] = {path, query, subprotocol, identity, address};
		std::size_t offsets[6] = {0};
		for (std::size_t i = 0; i < 5; ++i)
		{
			d->text.append(parts[i]);
			offsets[i + 1] = d->text.size();
		}
		const std::string_view all(d->text);
		d->info.path = all.substr(offsets[0], offsets[1] - offsets[0]);
		d->info.query = all.substr(offsets[1], offsets[2] - offsets[1]);
		d->info.subprotocol = all.substr(offsets[2], offsets[3] - offsets[2]);
		d->info.identity = all.substr(offsets[3], offsets[4] - offsets[3]);
		d->info.remoteAddress = all.substr(offsets[4], offsets[5] - offsets[4]);
		d->info.remotePort = port;
		d->info.tls = tls;
		d->info.attributes = &d->attributes;
		return d;
	}

	ConnectionDetails() = default;
	ConnectionDetails(const ConnectionDetails&) = delete;
	ConnectionDetails& operator=(const ConnectionDetails&) = delete;
};

} // namespace host
} // namespace parley

#endif
