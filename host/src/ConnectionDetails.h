//
// ConnectionDetails.h — what responders learn about a connection (parley::ConnectionInfo) and
// the storage behind its views: made once at the upgrade, shared by the connection and its
// worker jobs, so a blocking responder may read it after the connection closed.
//
#ifndef PARLEY_HOST_CONNECTIONDETAILS_INCLUDED
#define PARLEY_HOST_CONNECTIONDETAILS_INCLUDED

#include "parley/Plugin.h"
#include <atomic>
#include <cstdint>
#include <utility>
#include <string>
#include <string_view>

namespace parley {
namespace host {

struct ConnectionDetails;

/// A counted reference to ConnectionDetails (the connection holds one, each worker job of it
/// another). Not std::shared_ptr: an intrusive count costs 4 bytes instead of a 16-byte control
/// block, and has no virtual calls (UBSan checks those by reading the vtable through a pipe,
/// which fails while the host is out of file descriptors).
class DetailsRef
{
public:
	DetailsRef() noexcept = default;
	DetailsRef(const DetailsRef& other) noexcept;
	DetailsRef(DetailsRef&& other) noexcept : _p(other._p) { other._p = nullptr; }
	DetailsRef& operator=(DetailsRef other) noexcept
	{
		std::swap(_p, other._p);
		return *this;
	}
	~DetailsRef();

	ConnectionDetails* operator->() const noexcept { return _p; }
	ConnectionDetails& operator*() const noexcept { return *_p; }
	explicit operator bool() const noexcept { return _p != nullptr; }

private:
	friend struct ConnectionDetails;
	explicit DetailsRef(ConnectionDetails* adopted) noexcept : _p(adopted) {}
	ConnectionDetails* _p = nullptr;
};

struct ConnectionDetails
{
	ConnectionInfo info;             ///< views into `text`, `attributes`
	Attributes attributes;
	std::int64_t expiresAt = 0;      ///< Unix time (s) at which a gate's admission ends; 0 = never
	std::string text;                ///< path, query, subprotocol, identity, address, back to back
	std::atomic<std::uint32_t> references{1};

	/// One allocation for the fixed part, one for `text` if it outgrows the small-string buffer.
	static DetailsRef make(std::string_view path, std::string_view query,
		std::string_view subprotocol, std::string_view identity, std::string_view address, std::uint16_t port, bool tls,
		Attributes attributes = {})
	{
		DetailsRef ref(new ConnectionDetails);
		ConnectionDetails* d = ref._p;
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
		return ref;
	}

	ConnectionDetails() = default;
	ConnectionDetails(const ConnectionDetails&) = delete;
	ConnectionDetails& operator=(const ConnectionDetails&) = delete;
};

inline DetailsRef::DetailsRef(const DetailsRef& other) noexcept : _p(other._p)
{
	if (_p) _p->references.fetch_add(1, std::memory_order_relaxed);
}

inline DetailsRef::~DetailsRef()
{
	if (_p && _p->references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete _p;
}

} // namespace host
} // namespace parley

#endif
