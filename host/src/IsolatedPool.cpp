//
// IsolatedPool.cpp
//
#include "IsolatedPool.h"
#include "EventLoopPool.h"
#include "HostContext.h"
#include "IsolatedWire.h"
#include "LoopState.h"
#include "parley/PluginRegistry.h"
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

extern char** environ;

namespace parley {
namespace host {

namespace {

/// A child alive this long has its restart backoff reset.
constexpr std::uint64_t StableNs = 10000000000ull;
constexpr unsigned FirstBackoffMs = 100;
constexpr unsigned MaxBackoffMs = 5000;
/// Bytes read from a child per read (the thread's buffer).
constexpr std::size_t ReadSize = 256u << 10;

std::string exitText(int status)
{
	if (WIFSIGNALED(status))
	{
		const int sig = WTERMSIG(status);
		const char* abbrev = sigabbrev_np(sig);
		return "killed by signal " + std::to_string(sig) + (abbrev ? " (SIG" + std::string(abbrev) + ")" : std::string());
	}
	if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
	return "ended (status " + std::to_string(status) + ")";
}

std::string selfExe()
{
	char buffer[4096];
	const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
	if (n <= 0) return std::string();
	return std::string(buffer, static_cast<std::size_t>(n));
}

} // namespace

IsolatedSpec::~IsolatedSpec()
{
	if (pool) pool->dropped(id);
}

IsolatedPool::IsolatedPool(HostContext& context, unsigned children) : _context(context), _exe(selfExe())
{
	if (children == 0) children = 1;
	for (unsigned i = 0; i < children; ++i) _children.push_back(std::make_unique<Child>());
}

IsolatedPool::~IsolatedPool()
{
	stop();
}

void IsolatedPool::start()
{
	if (_started) return;
	_epoll = ::epoll_create1(EPOLL_CLOEXEC);
	if (_epoll < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
	_event = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_event < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.ptr = nullptr;
	::epoll_ctl(_epoll, EPOLL_CTL_ADD, _event, &ev);
	_started = true;
	_thread = std::thread([this] { run(); });
}

void IsolatedPool::prestart()
{
	for (auto& child : _children)
	{
		std::lock_guard<std::mutex> lock(child->mutex);
		child->wanted = true;
	}
	wake();
}

void IsolatedPool::stop()
{
	if (_stopping.exchange(true)) return;
	if (_thread.joinable())
	{
		const std::uint64_t one = 1;
		if (::write(_event, &one, sizeof(one)) < 0) {}
		_thread.join();
	}
	for (auto& child : _children)
	{
		if (child->pid > 0)
		{
			::kill(child->pid, SIGKILL);
			int status = 0;
			::waitpid(child->pid, &status, 0);
			child->pid = 0;
		}
		if (child->fd >= 0) ::close(child->fd);
		child->fd = -1;
		std::deque<Record> records;
		std::unordered_map<ConnectionId, Live> live;
		{
			std::lock_guard<std::mutex> lock(child->mutex);
			records.swap(child->inflight);
			live.swap(child->live);
			child->pending.clear();
		}
	}
	_alive.store(0);
	if (_event >= 0) ::close(_event);
	if (_epoll >= 0) ::close(_epoll);
	_event = _epoll = -1;
}

std::shared_ptr<const IsolatedSpec> IsolatedPool::makeSpec(std::uint16_t route, const std::string& path,
	const std::vector<std::string>& names, const HostConfig& config, const PluginRegistry& registry)
{
	auto spec = std::make_shared<IsolatedSpec>();
	spec->id = ++_nextSpec;
	spec->route = route;
	spec->path = path;
	spec->names = names;
	const std::vector<PluginDescription> plugins = registry.plugins();
	for (const std::string& name : names)
	{
		auto it = std::find_if(plugins.begin(), plugins.end(), [&name](const PluginDescription& d) { return d.name == name; });
		if (it == plugins.end()) throw std::invalid_argument("unknown plugin '" + name + "'");
		if (it->kind != "responder") throw std::invalid_argument("'" + name + "' is a gate");
		spec->files.push_back(it->path);
		spec->settings.push_back(config.settingsFor(name));
		spec->plugins += (spec->plugins.empty() ? "" : ", ") + name;
	}
	spec->pool = this;
	return spec;
}

void IsolatedPool::define(Child& child, const std::shared_ptr<const IsolatedSpec>& spec)
{
	if (spec->id == child.lastDefined) return;   // the common case: the same chain as the last message
	const bool fresh = child.defined.insert(spec->id).second;
	child.lastDefined = spec->id;
	if (!fresh) return;
	wire::Writer w(child.pending);
	w.begin(wire::ChainDef);
	w.u32(spec->id);
	w.u16(spec->route);
	w.str(spec->path);
	w.u32(static_cast<std::uint32_t>(spec->names.size()));
	for (std::size_t i = 0; i < spec->names.size(); ++i)
	{
		w.str(spec->names[i]);
		w.str(spec->files[i]);
		w.u32(static_cast<std::uint32_t>(spec->settings[i].size()));
		for (const auto& setting : spec->settings[i])
		{
			w.str(setting.first);
			w.str(setting.second);
		}
	}
	w.end();
}

void IsolatedPool::encodeOpen(Child& child, const std::shared_ptr<const IsolatedSpec>& spec, ConnectionId connection,
	const ConnectionDetails& details)
{
	const ConnectionInfo& info = details.info;
	wire::Writer w(child.pending);
	w.begin(wire::Open);
	w.u32(spec->id);
	w.u64(connection);
	w.str(info.path);
	w.str(info.query);
	w.str(info.subprotocol);
	w.str(info.identity);
	w.str(info.remoteAddress);
	w.u16(info.remotePort);
	w.u8(info.tls ? 1 : 0);
	w.u32(static_cast<std::uint32_t>(details.attributes.size()));
	for (const auto& attribute : details.attributes)
	{
		w.str(attribute.first);
		w.str(attribute.second);
	}
	w.end();
}

void IsolatedPool::open(const std::shared_ptr<const IsolatedSpec>& spec, ConnectionId connection, const DetailsRef& details)
{
	Child& child = childOf(connection);
	{
		std::lock_guard<std::mutex> lock(child.mutex);
		child.live[connection] = Live{spec, details};
		define(child, spec);
		encodeOpen(child, spec, connection, *details);
		child.wanted = true;
	}
}

void IsolatedPool::close(const std::shared_ptr<const IsolatedSpec>& spec, ConnectionId connection)
{
	Child& child = childOf(connection);
	Live gone;
	{
		std::lock_guard<std::mutex> lock(child.mutex);
		auto it = child.live.find(connection);
		if (it != child.live.end())
		{
			gone = std::move(it->second);
			child.live.erase(it);
		}
		if (!child.defined.count(spec->id)) return;
		wire::Writer w(child.pending);
		w.begin(wire::Close);
		w.u32(spec->id);
		w.u64(connection);
		w.end();
	}
}

void IsolatedPool::submit(const std::shared_ptr<const IsolatedSpec>& spec, IsolatedSink* sink, ConnectionId connection,
	PayloadKind kind, std::string_view payload, std::uint64_t now)
{
	Child& child = childOf(connection);
	{
		std::lock_guard<std::mutex> lock(child.mutex);
		define(child, spec);
		wire::Writer w(child.pending);
		w.begin(wire::Message);
		w.u32(spec->id);
		w.u64(connection);
		w.u8(static_cast<std::uint8_t>(kind));
		w.str(payload);
		w.end();
		child.inflight.push_back(Record{sink, connection, now, spec});
		child.wanted = true;
	}
	bump(_messages);
}

void IsolatedPool::flush()
{
	bool wakeNow = false;
	for (auto& c : _children)
	{
		Child& child = *c;
		{
			std::lock_guard<std::mutex> lock(child.mutex);
			if (child.pending.empty()) continue;
		}
		std::unique_lock<std::mutex> writeLock(child.writeMutex, std::try_to_lock);
		if (!writeLock.owns_lock() || child.fd < 0 || !child.writable)
		{
			wakeNow = true;   // the pool's thread writes it (or starts the child)
			continue;
		}
		write(child);
	}
	if (wakeNow) wake();
}

void IsolatedPool::wake()
{
	if (_wakePending.exchange(true, std::memory_order_acq_rel)) return;
	const std::uint64_t one = 1;
	if (_event >= 0 && ::write(_event, &one, sizeof(one)) < 0) {}
}

void IsolatedPool::dropped(std::uint32_t id)
{
	{
		std::lock_guard<std::mutex> lock(_dropMutex);
		if (_stopping.load()) return;
		_dropped.push_back(id);
	}
	wake();
}

std::vector<pid_t> IsolatedPool::pids() const
{
	std::lock_guard<std::mutex> lock(_pidsMutex);
	std::vector<pid_t> out;
	for (const auto& child : _children)
		if (child->pid > 0 && child->fd >= 0) out.push_back(child->pid);
	return out;
}

void IsolatedPool::run()
{
	epoll_event events[16];
	while (!_stopping.load(std::memory_order_acquire))
	{
		std::uint64_t now = monotonicNs();
		int timeout = 100;
		for (const auto& child : _children)
			if (child->fd < 0 && child->respawnAtNs > now)
				timeout = std::min<int>(timeout, static_cast<int>((child->respawnAtNs - now) / 1000000 + 1));
		const int n = ::epoll_wait(_epoll, events, 16, timeout);
		for (int i = 0; i < n; ++i)
		{
			if (events[i].data.ptr == nullptr)
			{
				std::uint64_t count = 0;
				if (::read(_event, &count, sizeof(count)) < 0) {}
				continue;
			}
			Child& child = *static_cast<Child*>(events[i].data.ptr);
			if (child.fd < 0) continue;
			if (events[i].events & EPOLLOUT)
			{
				std::lock_guard<std::mutex> writeLock(child.writeMutex);
				child.writable = true;
				epoll_event ev{};
				ev.events = EPOLLIN;
				ev.data.ptr = &child;
				::epoll_ctl(_epoll, EPOLL_CTL_MOD, child.fd, &ev);
			}
			if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readFrom(child);
		}
		if (_stopping.load(std::memory_order_acquire)) break;
		_wakePending.store(false, std::memory_order_release);
		std::vector<std::uint32_t> drops;
		{
			std::lock_guard<std::mutex> lock(_dropMutex);
			drops.swap(_dropped);
		}
		for (auto& child : _children)
		{
			if (drops.empty()) break;
			std::lock_guard<std::mutex> lock(child->mutex);
			for (std::uint32_t id : drops)
			{
				if (child->lastDefined == id) child->lastDefined = 0;
				if (!child->defined.erase(id)) continue;
				wire::Writer w(child->pending);
				w.begin(wire::DropChain);
				w.u32(id);
				w.end();
			}
		}
		now = monotonicNs();
		const std::uint64_t stallNs = std::uint64_t(_context.config()->engine.stallTimeoutMs) * 1000000;
		for (auto& c : _children)
		{
			Child& child = *c;
			if (child.fd < 0)
			{
				bool wanted;
				{
					std::lock_guard<std::mutex> lock(child.mutex);
					wanted = child.wanted;
				}
				if (!wanted || now < child.respawnAtNs) continue;
				spawn(child);
				if (child.fd < 0) continue;
			}
			if (now - child.countsAtNs >= 1000000000ull || child.countsAtNs < child.startedNs)
			{
				// The routes' connection counts (every host of a cluster), for Outbox::connectionCount.
				child.countsAtNs = now;
				const std::size_t routes = std::min<std::size_t>(_context.routeCount(), 0xffff);
				std::string frame;
				wire::Writer w(frame);
				w.begin(wire::Counts);
				w.u32(static_cast<std::uint32_t>(routes));
				for (std::size_t route = 0; route < routes; ++route)
				{
					w.u16(static_cast<std::uint16_t>(route));
					w.u64(_context.pool() ? _context.outbox(static_cast<std::uint16_t>(route)).connectionCount() : 0);
				}
				w.end();
				std::lock_guard<std::mutex> lock(child.mutex);
				child.pending += frame;
			}
			{
				std::lock_guard<std::mutex> writeLock(child.writeMutex);
				write(child);
			}
			std::string stalled;
			{
				std::lock_guard<std::mutex> lock(child.mutex);
				if (!child.inflight.empty())
				{
					const Record& oldest = child.inflight.front();
					const std::uint64_t since = std::max(oldest.submittedNs, child.startedNs);
					if (stallNs != 0 && now > since && now - since > stallNs)
						stalled = "stalled: a message of route " + oldest.spec->path + " (" + oldest.spec->plugins +
							") got no answer within " + std::to_string(stallNs / 1000000) + " ms (engine.stall_timeout_ms); killed it";
				}
			}
			if (!stalled.empty()) died(child, stalled);
		}
	}
}

void IsolatedPool::spawn(Child& child)
{
	const std::uint64_t now = monotonicNs();
	int sv[2];
	if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
	{
		_context.logger().error("isolated routes: cannot create a socketpair for a child: %s", std::string(std::strerror(errno)));
		child.respawnAtNs = now + 1000000000ull;
		return;
	}
	int childEnd = sv[1];
	if (childEnd <= 3)
	{
		// dup2(3, 3) would keep FD_CLOEXEC: give the child's end another number first.
		childEnd = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
		::close(sv[1]);
	}
	const int flags = ::fcntl(sv[0], F_GETFL);
	::fcntl(sv[0], F_SETFL, flags | O_NONBLOCK);

	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, childEnd, 3);
	posix_spawn_file_actions_addclosefrom_np(&actions, 4);
	posix_spawnattr_t attributes;
	posix_spawnattr_init(&attributes);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attributes, &none);
	sigset_t defaults;
	sigemptyset(&defaults);
	for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
	posix_spawnattr_setsigdefault(&attributes, &defaults);
	posix_spawnattr_setpgroup(&attributes, 0);   // Ctrl-C on the host's terminal is the host's to handle
	posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	std::string a0 = _exe, a1 = "--isolated-child=3", a2 = "--parent=" + std::to_string(::getpid());
	char* argv[] = {&a0[0], &a1[0], &a2[0], nullptr};
	pid_t pid = 0;
	const int rc = ::posix_spawn(&pid, _exe.c_str(), &actions, &attributes, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attributes);
	::close(childEnd);
	if (rc != 0)
	{
		::close(sv[0]);
		_context.logger().error("isolated routes: cannot start %s: %s", _exe, std::string(std::strerror(rc)));
		child.respawnAtNs = now + 1000000000ull;
		return;
	}
	{
		std::lock_guard<std::mutex> writeLock(child.writeMutex);
		std::lock_guard<std::mutex> lock(_pidsMutex);
		child.fd = sv[0];
		child.pid = pid;
		child.writable = true;
	}
	child.startedNs = now;
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.ptr = &child;
	::epoll_ctl(_epoll, EPOLL_CTL_ADD, child.fd, &ev);
	if (child.everStarted) bump(_respawns);
	child.everStarted = true;
	_alive.fetch_add(1, std::memory_order_relaxed);
	_context.logger().information("isolated child %d started", static_cast<int>(pid));
}

void IsolatedPool::write(Child& child)
{
	if (!child.writable || child.fd < 0) return;
	for (int round = 0; round < 2; ++round)
	{
		if (child.written == child.writing.size())
		{
			child.writing.clear();
			child.written = 0;
			std::lock_guard<std::mutex> lock(child.mutex);
			child.writing.swap(child.pending);
		}
		if (child.writing.empty()) return;
		const ssize_t n = ::send(child.fd, child.writing.data() + child.written, child.writing.size() - child.written, MSG_NOSIGNAL);
		if (n < 0)
		{
			if (errno == EINTR) continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
			{
				child.writable = false;
				epoll_event ev{};
				ev.events = EPOLLIN | EPOLLOUT;
				ev.data.ptr = &child;
				::epoll_ctl(_epoll, EPOLL_CTL_MOD, child.fd, &ev);
			}
			return;   // any other error: the child is gone, the read side finds out
		}
		child.written += static_cast<std::size_t>(n);
		if (child.written < child.writing.size()) return;
	}
}

void IsolatedPool::readFrom(Child& child)
{
	static thread_local std::unique_ptr<char[]> buffer(new char[ReadSize]);
	Outcomes& out = _outcomes;
	const std::uint64_t maxFrame = _context.config()->engine.maxMessageSize + 4096;
	for (int round = 0; round < 4; ++round)
	{
		const ssize_t n = ::read(child.fd, buffer.get(), ReadSize);
		if (n == 0)
		{
			died(child, std::string());
			return;
		}
		if (n < 0)
		{
			if (errno == EINTR) continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) break;
			died(child, std::string());
			return;
		}
		// Whole frames straight from the buffer when nothing is left over from the last read.
		const char* data = buffer.get();
		std::size_t size = static_cast<std::size_t>(n);
		if (!child.in.empty())
		{
			child.in.append(data, size);
			data = child.in.data();
			size = child.in.size();
		}
		std::size_t pos = 0;
		bool bad = false;
		{
			std::lock_guard<std::mutex> lock(child.mutex);
			for (;;)
			{
				std::uint32_t body = 0;
				const std::size_t whole = wire::frameSize(data + pos, size - pos, body);
				if (size - pos >= 4 && (body < 1 || body > maxFrame))
				{
					bad = true;
					break;
				}
				if (whole == 0) break;
				if (!handle(child, data + pos + 4, body, out))
				{
					bad = true;
					break;
				}
				pos += whole;
			}
		}
		if (bad)
		{
			died(child, "sent a malformed frame; killed it");
			return;
		}
		if (data == child.in.data())
			child.in.erase(0, pos);
		else
			child.in.assign(data + pos, size - pos);
		if (static_cast<std::size_t>(n) < ReadSize) break;
	}
	out.deliver();
}

bool IsolatedPool::handle(Child& child, const char* frame, std::size_t size, Outcomes& out)
{
	wire::Reader r(frame + 1, size - 1);
	const std::uint8_t type = static_cast<std::uint8_t>(frame[0]);
	if (type == wire::Reply || type == wire::Failed)
	{
		if (child.inflight.empty()) return false;
		Record record = std::move(child.inflight.front());
		child.inflight.pop_front();
		IsolatedResult result;
		result.connection = record.connection;
		if (type == wire::Reply)
		{
			const std::uint8_t action = r.u8();
			const std::uint8_t kind = r.u8();
			result.reply.closeCode = r.u16();
			const std::string_view payload = r.str();
			if (!r.ok() || action > 2 || kind < 1 || kind > 2) return false;
			result.reply.action = static_cast<Reply::Action>(action);
			result.reply.kind = static_cast<PayloadKind>(kind);
			result.reply.payload.assign(payload.data(), payload.size());
		}
		else
		{
			const std::string_view plugin = r.str();
			const std::string_view error = r.str();
			if (!r.ok()) return false;
			result.plugin = plugin.empty() ? record.spec->plugins : std::string(plugin);
			result.error = std::string(error);
		}
		out.of(record.sink).push_back(std::move(result));
		return true;
	}
	if (type == wire::Push || type == wire::Broadcast)
	{
		const std::uint16_t route = r.u16();
		const ConnectionId connection = type == wire::Push ? r.u64() : 0;
		const std::uint8_t kind = r.u8();
		const std::string_view payload = r.str();
		if (!r.ok() || kind < 1 || kind > 2) return false;
		if (!_context.pool() || route >= _context.routeCount()) return true;
		// Through the route's outbox, so that in a cluster they reach the other hosts too.
		RouteOutbox& outbox = _context.outbox(route);
		if (type == wire::Push)
			outbox.sendFromChild(connection, static_cast<PayloadKind>(kind), payload);
		else
			outbox.broadcastFromChild(static_cast<PayloadKind>(kind), payload);
		return true;
	}
	return false;
}

void IsolatedPool::died(Child& child, const std::string& stalled)
{
	const pid_t pid = child.pid;
	::kill(pid, SIGKILL);   // a child that closed its socket, or stalled; a dead one is a zombie: no harm
	int status = 0;
	while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	{
		std::lock_guard<std::mutex> writeLock(child.writeMutex);
		std::lock_guard<std::mutex> lock(_pidsMutex);
		::close(child.fd);
		child.fd = -1;
		child.pid = 0;
		child.writing.clear();
		child.written = 0;
		child.writable = true;
	}
	_alive.fetch_sub(1, std::memory_order_relaxed);
	const std::string how = stalled.empty() ? exitText(status) : stalled;
	std::deque<Record> records;
	std::string culprit;
	std::string routes;
	{
		std::lock_guard<std::mutex> lock(child.mutex);
		records.swap(child.inflight);
		child.pending.clear();
		child.defined.clear();
		child.lastDefined = 0;
		// The connections it served are opened again in the next child, before anything else.
		for (const auto& entry : child.live)
		{
			define(child, entry.second.spec);
			encodeOpen(child, entry.second.spec, entry.first, *entry.second.details);
		}
		if (!records.empty()) culprit = records.front().spec->path + " (" + records.front().spec->plugins + ")";
	}
	child.in.clear();
	const std::uint64_t now = monotonicNs();
	if (now - child.startedNs > StableNs) child.backoffMs = FirstBackoffMs;
	const unsigned delay = child.backoffMs;
	child.backoffMs = std::min(child.backoffMs * 2, MaxBackoffMs);
	child.respawnAtNs = now + std::uint64_t(delay) * 1000000;
	_context.logger().error("isolated child %d%s %s; %z messages in flight answered with 1011; starting a new child in %u ms",
		static_cast<int>(pid), culprit.empty() ? std::string() : " (route " + culprit + ")", how, records.size(), delay);
	Outcomes& out = _outcomes;
	const std::string error = "isolated child " + std::to_string(pid) + " " + (stalled.empty() ? how : std::string("stalled"));
	for (Record& record : records)
	{
		IsolatedResult result;
		result.connection = record.connection;
		result.plugin = record.spec->plugins;
		result.error = error;
		out.of(record.sink).push_back(std::move(result));
	}
	records.clear();
	out.deliver();
}

} // namespace host
} // namespace parley
