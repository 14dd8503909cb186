//
// IsolatedChild.cpp — parley-host --isolated-child=FD: one thread runs the messages it is sent;
// plugins may push from their own threads.
//
#include "parley/host/IsolatedChild.h"
#include "Faults.h"
#include "IsolatedWire.h"
#include "parley/Pipeline.h"
#include "parley/PluginRegistry.h"
#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley {
namespace host {

namespace {

constexpr const char* Flag = "--isolated-child=";

/// The child's end of the socketpair: what it writes to the host, from the main thread (after
/// each batch) and from plugin threads (at once).
class Channel
{
public:
	explicit Channel(int fd) : _fd(fd), _main(std::this_thread::get_id()) {}

	std::mutex mutex;                              // guards out and live
	std::string out;
	std::unordered_set<ConnectionId> live;
	std::uint64_t localTag = 0;   // the high 16 bits of this host's connection ids (0: none seen, or no cluster)
	std::unordered_map<std::uint16_t, std::uint64_t> counts;   // route -> its connections, from the host every second

	/// Writes `out` (mutex held); exits if the host is gone.
	void flushLocked()
	{
		std::size_t done = 0;
		while (done < out.size())
		{
			const ssize_t n = ::write(_fd, out.data() + done, out.size() - done);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) ::_exit(0);
			done += static_cast<std::size_t>(n);
		}
		out.clear();
	}

	/// After a frame was appended by a thread other than the main one: write it now.
	void posted()
	{
		if (std::this_thread::get_id() != _main) flushLocked();
	}

private:
	int _fd;
	std::thread::id _main;
};

class ChildOutbox : public Outbox
{
public:
	ChildOutbox(Channel& channel, std::uint16_t route) : _channel(channel), _route(route) {}

	bool send(ConnectionId connection, PayloadKind kind, std::string_view payload) override
	{
		std::lock_guard<std::mutex> lock(_channel.mutex);
		// A connection of another host of the cluster (the id's high 16 bits name its node): the
		// host hands it to the cluster bus.
		const std::uint64_t owner = connection >> 48;
		if (!_channel.live.count(connection) && (owner == 0 || owner == _channel.localTag)) return false;
		wire::Writer w(_channel.out);
		w.begin(wire::Push);
		w.u16(_route);
		w.u64(connection);
		w.u8(static_cast<std::uint8_t>(kind));
		w.str(payload);
		w.end();
		_channel.posted();
		return true;
	}

	void broadcast(PayloadKind kind, std::string_view payload) override
	{
		std::lock_guard<std::mutex> lock(_channel.mutex);
		wire::Writer w(_channel.out);
		w.begin(wire::Broadcast);
		w.u16(_route);
		w.u8(static_cast<std::uint8_t>(kind));
		w.str(payload);
		w.end();
		_channel.posted();
	}

	std::size_t connectionCount() const override
	{
		std::lock_guard<std::mutex> lock(_channel.mutex);
		auto it = _channel.counts.find(_route);
		return it == _channel.counts.end() ? 0 : static_cast<std::size_t>(it->second);
	}

private:
	Channel& _channel;
	std::uint16_t _route;
};

struct ChildChain
{
	std::unique_ptr<ChildOutbox> outbox;          // outlives the responders (declared first)
	std::vector<std::string> names;
	std::vector<Responder*> stages;
	std::unique_ptr<Pipeline> pipeline;
	std::string failedPlugin;                     // the chain could not be built: which plugin, why
	std::string error;
};

struct ChildConnection
{
	std::string text[5];                          // path, query, subprotocol, identity, address
	Attributes attributes;
	ConnectionInfo info;
};

class Child
{
public:
	Child(int fd, Poco::Logger& logger) : _fd(fd), _channel(fd), _logger(logger), _registry(logger)
	{
		// The fatal-signal handler names the plugin a crash happened in, as in the host.
		std::strncpy(_mark.name, "isolated child", sizeof(_mark.name) - 1);
		_mark.fate = "this isolated child dies with the signal (the host answers its messages with 1011 and starts another)";
	}

	int run()
	{
		attachThread(_mark);
		std::unique_ptr<char[]> buffer(new char[256u << 10]);
		std::string in;
		for (;;)
		{
			const ssize_t n = ::read(_fd, buffer.get(), 256u << 10);
			if (n == 0) return 0;
			if (n < 0)
			{
				if (errno == EINTR) continue;
				return 1;
			}
			const char* data = buffer.get();
			std::size_t size = static_cast<std::size_t>(n);
			if (!in.empty())
			{
				in.append(data, size);
				data = in.data();
				size = in.size();
			}
			std::size_t pos = 0;
			for (;;)
			{
				std::uint32_t body = 0;
				const std::size_t whole = wire::frameSize(data + pos, size - pos, body);
				if (whole == 0) break;
				if (!handle(data + pos + 4, body))
				{
					_logger.error("malformed frame from the host (type %d); exiting", static_cast<int>(data[pos + 4]));
					return 1;
				}
				pos += whole;
			}
			if (data == in.data())
				in.erase(0, pos);
			else
				in.assign(data + pos, size - pos);
			std::lock_guard<std::mutex> lock(_channel.mutex);
			_channel.flushLocked();
		}
	}

private:
	bool handle(const char* frame, std::size_t size)
	{
		wire::Reader r(frame + 1, size - 1);
		switch (static_cast<std::uint8_t>(frame[0]))
		{
		case wire::Message: return message(r);
		case wire::ChainDef: return define(r);
		case wire::DropChain:
		{
			const std::uint32_t id = r.u32();
			if (!r.ok()) return false;
			_chains.erase(id);
			return true;
		}
		case wire::Counts:
		{
			const std::uint32_t n = r.u32();
			std::unordered_map<std::uint16_t, std::uint64_t> counts;
			for (std::uint32_t i = 0; i < n && r.ok(); ++i)
			{
				const std::uint16_t route = r.u16();
				counts[route] = r.u64();
			}
			if (!r.ok()) return false;
			std::lock_guard<std::mutex> lock(_channel.mutex);
			_channel.counts.swap(counts);
			return true;
		}
		case wire::Open: return open(r);
		case wire::Close:
		{
			const std::uint32_t id = r.u32();
			const ConnectionId connection = r.u64();
			if (!r.ok()) return false;
			auto it = _chains.find(id);
			if (it != _chains.end())
				for (std::size_t i = 0; i < it->second.stages.size(); ++i)
					hook(it->second, i, "onClose", [&](Responder& s) { s.onClose(connection); });
			_connections.erase(connection);
			std::lock_guard<std::mutex> lock(_channel.mutex);
			_channel.live.erase(connection);
			return true;
		}
		default: return false;
		}
	}

	template <class Call>
	void hook(ChildChain& chain, std::size_t i, const char* name, Call call)
	{
		try
		{
			call(*chain.stages[i]);
		}
		catch (const std::exception& e)
		{
			_logger.error("plugin '%s': %s failed: %s", chain.names[i], std::string(name), std::string(e.what()));
		}
		catch (...)
		{
			_logger.error("plugin '%s': %s failed", chain.names[i], std::string(name));
		}
	}

	bool define(wire::Reader& r)
	{
		const std::uint32_t id = r.u32();
		const std::uint16_t route = r.u16();
		const std::string path(r.str());   // the route path (log lines, the signal handler's line)
		const std::uint32_t count = r.u32();
		if (!r.ok() || count > 1024) return false;
		ChildChain chain;
		chain.outbox = std::make_unique<ChildOutbox>(_channel, route);
		std::vector<Stage> stages;
		for (std::uint32_t i = 0; i < count; ++i)
		{
			const std::string name(r.str());
			const std::string file(r.str());
			const std::uint32_t n = r.u32();
			if (!r.ok()) return false;
			Settings settings;
			for (std::uint32_t k = 0; k < n && r.ok(); ++k)
			{
				const std::string key(r.str());
				settings[key] = std::string(r.str());
			}
			if (!r.ok()) return false;
			chain.names.push_back(name);
			if (!chain.error.empty()) continue;
			try
			{
				load(name, file, settings);
				std::unique_ptr<Responder> responder = _registry.create(name, settings);
				responder->attach(*chain.outbox);
				chain.stages.push_back(responder.get());
				stages.push_back(Stage{name, std::move(responder)});
			}
			catch (const std::exception& e)
			{
				chain.failedPlugin = name;
				chain.error = e.what();
			}
		}
		if (chain.error.empty())
		{
			try
			{
				chain.pipeline = std::make_unique<Pipeline>(std::move(stages));
				std::vector<const void*> sites;
				for (const std::string& name : chain.names) sites.push_back(PluginSite::get("responder", name, path, _registry));
				chain.pipeline->setMark(_mark.mark, std::move(sites));
			}
			catch (const std::exception& e)
			{
				chain.error = e.what();
			}
		}
		if (!chain.error.empty()) _logger.error("cannot build the chain of route: %s", chain.error);
		_chains[id] = std::move(chain);
		return true;
	}

	/// Loads `file` unless the library loaded from it is still the one on disk (hot drop-in
	/// renames a new file over it).
	void load(const std::string& name, const std::string& file, const Settings& settings)
	{
		struct stat st{};
		if (::stat(file.c_str(), &st) != 0) throw std::invalid_argument(name + ": cannot read " + file);
		const auto key = std::make_tuple(st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
		auto it = _files.find(file);
		if (it != _files.end() && it->second == key && _registry.has(name)) return;
		_registry.setSettings({{name, settings}});
		std::string why;
		if (!_registry.loadLibrary(file, &why)) throw std::invalid_argument(name + ": " + why);
		_files[file] = key;
	}

	bool open(wire::Reader& r)
	{
		const std::uint32_t id = r.u32();
		const ConnectionId connection = r.u64();
		auto c = std::make_unique<ChildConnection>();
		for (auto& t : c->text) t = std::string(r.str());
		const std::uint16_t port = r.u16();
		const bool tls = r.u8() != 0;
		const std::uint32_t n = r.u32();
		for (std::uint32_t i = 0; i < n && r.ok(); ++i)
		{
			const std::string key(r.str());
			c->attributes[key] = std::string(r.str());
		}
		if (!r.ok()) return false;
		ConnectionInfo& info = c->info;
		info.id = connection;
		info.path = c->text[0];
		info.query = c->text[1];
		info.subprotocol = c->text[2];
		info.identity = c->text[3];
		info.remoteAddress = c->text[4];
		info.remotePort = port;
		info.tls = tls;
		info.attributes = &c->attributes;
		ChildConnection& stored = *(_connections[connection] = std::move(c));
		{
			std::lock_guard<std::mutex> lock(_channel.mutex);
			_channel.live.insert(connection);
			_channel.localTag = connection >> 48;
		}
		auto it = _chains.find(id);
		if (it != _chains.end())
			for (std::size_t i = 0; i < it->second.stages.size(); ++i)
				hook(it->second, i, "onOpen", [&](Responder& s) { s.onOpen(stored.info); });
		return true;
	}

	bool message(wire::Reader& r)
	{
		const std::uint32_t id = r.u32();
		const ConnectionId connection = r.u64();
		const std::uint8_t kind = r.u8();
		const std::string_view payload = r.str();
		if (!r.ok() || kind < 1 || kind > 2) return false;
		auto chain = _chains.find(id);
		if (chain == _chains.end() || !chain->second.pipeline)
		{
			failed(chain == _chains.end() ? std::string() : chain->second.failedPlugin,
				chain == _chains.end() ? "unknown chain" : chain->second.error);
			return true;
		}
		auto c = _connections.find(connection);
		if (c == _connections.end())
		{
			_noInfo.id = connection;
			_noInfo.attributes = &_noAttributes;
		}
		const Message m{static_cast<PayloadKind>(kind), payload, connection, c == _connections.end() ? &_noInfo : &c->second->info};
		try
		{
			const Reply& reply = chain->second.pipeline->run(m);
			std::lock_guard<std::mutex> lock(_channel.mutex);
			wire::Writer w(_channel.out);
			w.begin(wire::Reply);
			w.u8(static_cast<std::uint8_t>(reply.action));
			w.u8(static_cast<std::uint8_t>(reply.kind));
			w.u16(reply.closeCode);
			if (reply.quotesMessage)
				w.str(payload, reply.payload);
			else
				w.str(reply.payload);
			w.end();
		}
		catch (const ResponderError& e)
		{
			failed(e.plugin(), e.what());
		}
		catch (const std::exception& e)
		{
			failed(std::string(), e.what());
		}
		return true;
	}

	void failed(const std::string& plugin, const std::string& error)
	{
		std::lock_guard<std::mutex> lock(_channel.mutex);
		wire::Writer w(_channel.out);
		w.begin(wire::Failed);
		w.str(plugin);
		w.str(error);
		w.end();
	}

	int _fd;
	Channel _channel;
	Poco::Logger& _logger;
	PluginRegistry _registry;
	ThreadMark _mark;                                          // the plugin call in progress (Faults.h)
	std::map<std::string, std::tuple<dev_t, ino_t, time_t, long, off_t>> _files;
	std::unordered_map<std::uint32_t, ChildChain> _chains;     // destroyed before _registry
	std::unordered_map<ConnectionId, std::unique_ptr<ChildConnection>> _connections;
	ConnectionInfo _noInfo;
	Attributes _noAttributes;
};

} // namespace

bool isIsolatedChild(int argc, char** argv)
{
	return argc > 1 && std::strncmp(argv[1], Flag, std::strlen(Flag)) == 0;
}

int runIsolatedChild(int argc, char** argv)
{
	int fd = -1;
	long parent = 0;
	for (int i = 1; i < argc; ++i)
	{
		const std::string arg = argv[i];
		if (arg.rfind(Flag, 0) == 0) fd = std::atoi(arg.c_str() + std::strlen(Flag));
		else if (arg.rfind("--parent=", 0) == 0) parent = std::atol(arg.c_str() + 9);
	}
	if (fd < 0) return 64;
	::prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent != 0 && ::getppid() != static_cast<pid_t>(parent)) return 0;   // the host died before prctl
	sigset_t none;
	sigemptyset(&none);
	::sigprocmask(SIG_SETMASK, &none, nullptr);
	std::signal(SIGPIPE, SIG_IGN);
	Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter("parley-host isolated child %P: %t"));
	Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
	Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
	Poco::Logger& logger = Poco::Logger::get("parley-host.isolated");
	logger.setChannel(channel);
	logger.setLevel(Poco::Message::PRIO_WARNING);
	installFatalSignalHandler();
	int status = 0;
	{
		Child child(fd, logger);
		status = child.run();
	}
	return status;
}

} // namespace host
} // namespace parley
