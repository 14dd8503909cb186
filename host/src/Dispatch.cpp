//
// Dispatch.cpp
//
#include "Dispatch.h"
#include "HostContext.h"
#include "parley/PluginRegistry.h"
#include "parley/codec/Opcode.h"
#include <cctype>
#include <stdexcept>

namespace parley {
namespace host {

namespace {

namespace CloseCode = codec::CloseCode;

/// Messages waiting for the workers on one connection above which the loop stops reading it,
/// and below which it reads again.
constexpr std::size_t QueueHigh = 1024;
constexpr std::size_t QueueLow = 256;


} // namespace

Dispatch::Dispatch(LoopState& state, WebSocketLayer& websockets, HostContext& context, WorkerPool& workers,
	IsolatedPool& isolated):
	_s(state),
	_ws(websockets),
	_context(context),
	_workers(workers),
	_isolated(isolated)
{
	for (unsigned i = 0; i < _workers.size(); ++i) _workerMarks.push_back(&_workers.mark(i).mark);
	_registryGeneration = _context.registry().generation();
	_configGeneration = _context.configGeneration();
	const auto config = _context.config();
	const std::size_t routes = _context.routeCount();
	_gates.resize(routes);
	_s.growRoutes(routes);
	for (std::size_t r = 0; r < routes; ++r)
	{
		const std::string path = _context.routePath(r);
		_s.routePaths.push_back(path);
		auto route = config->routes.find(path);
		if (route == config->routes.end())
		{
			_chains.push_back(nullptr);
			continue;
		}
		if (route->second.empty()) throw ConfigError("route." + path + ": route has no plugins");
		try
		{
			if (config->optionsFor(path).isolate)
				_chains.push_back(Chain::buildIsolated(route->second, *config,
					_isolated.makeSpec(static_cast<std::uint16_t>(r), path, route->second, *config, _context.registry())));
			else
				_chains.push_back(Chain::build(route->second, *config, _context.registry(), _context.outbox(r), path, _s.mark.mark,
					_workerMarks));
		}
		catch (const std::invalid_argument& e)
		{
			throw ConfigError(std::string(e.what()) + " (route." + path + ")");
		}
		std::string why;
		if (!buildGates(r, *config, false, &why)) throw ConfigError(why + " (route." + path + ".gates)");
	}
}

void Dispatch::checkGenerations()
{
	if (_context.registry().generation() != _registryGeneration || _context.configGeneration() != _configGeneration)
		rebuild();
}

bool Dispatch::onOpen(Connection& c)
{
	if (c.route >= _chains.size()) rebuild(); // a route added by a reload this very turn
	if (c.route < _chains.size()) c.chain = _chains[c.route];
	_byId[c.id] = &c;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		_live[c.id] = c.route;
	}
	if (!c.chain) return false;
	_s.mark.connection.store(&c, std::memory_order_relaxed);
	openChain(c);
	return true;
}

void Dispatch::openChain(Connection& c)
{
	if (!c.chain->blocking)
		c.chain->open(c.details->info, _s.logger);
	else if (c.chain->isolated)
	{
		_isolated.open(c.chain->isolated, c.id, c.details);
		_isolatedQueued = true;
	}
}

void Dispatch::closeChain(Connection& c)
{
	if (!c.chain->blocking)
		c.chain->close(c.id, _s.logger);
	else if (c.chain->isolated)
	{
		_isolated.close(c.chain->isolated, c.id);
		_isolatedQueued = true;
	}
}

void Dispatch::onClosed(Connection& c)
{
	_s.mark.connection.store(&c, std::memory_order_relaxed);
	if (c.chain) closeChain(c);
	_byId.erase(c.id);
	std::lock_guard<std::mutex> lock(_inboxMutex);
	_live.erase(c.id);
}

bool Dispatch::queueForWorkers(Connection& c, const Message& message)
{
	if (!canSubmit(c) || !c.queue.empty())
	{
		c.queue.emplace_back(message.kind, std::string(message.payload));
		if (c.queue.size() >= QueueHigh) c.queuePaused = true;
	}
	else if (c.chain->isolated)
	{
		submitIsolated(c, message.kind, message.payload);
	}
	else if (c.chain->blocking)
	{
		submit(c, message.kind, std::string(message.payload));
	}
	else
	{
		// An inline chain while isolated messages of an older chain are out: wait for them.
		c.queue.emplace_back(message.kind, std::string(message.payload));
	}
	return true;
}

void Dispatch::submitIsolated(Connection& c, PayloadKind kind, std::string_view payload)
{
	++c.inFlight;
	c.jobInFlight = true;
	c.isolatedJobs = true;
	++_s.route(c.route).jobs;
	_isolated.submit(c.chain->isolated, this, c.id, kind, payload, _s.now() * 1000000);   // the loop's clock (ms)
	_isolatedQueued = true;
}

void Dispatch::isolatedResults(std::vector<IsolatedResult>& results)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return;
		_results.reserve(_results.size() + results.size());
		for (IsolatedResult& r : results)
			_results.push_back(Result{r.connection, std::move(r.reply), std::move(r.plugin), std::move(r.error), 0});
		wakeLoop(wakeNow);
	}
	if (wakeNow) _s.loop.wake();
}

void Dispatch::rebuild()
{
	const std::uint64_t registryGeneration = _context.registry().generation();
	const bool pluginsChanged = registryGeneration != _registryGeneration;
	_registryGeneration = registryGeneration;
	_configGeneration = _context.configGeneration();
	const auto config = _context.config();
	_s.applyLimits(config->engine);
	const std::size_t routes = _context.routeCount();
	while (_s.routePaths.size() < routes) _s.routePaths.push_back(_context.routePath(_s.routePaths.size()));
	_s.growRoutes(routes);
	_chains.resize(routes);
	_gates.resize(routes);
	std::vector<bool> changed(routes, false);
	for (std::size_t r = 0; r < routes; ++r)
	{
		auto route = config->routes.find(_s.routePaths[r]);
		if (route == config->routes.end())
		{
			// Dropped by a reload: open connections keep their instances until they close.
			if (_chains[r]) _chains[r].reset();
			_gates[r].reset();
			continue;
		}
		std::string why;
		if (!buildGates(r, *config, pluginsChanged, &why) && _s.loop.id() == 0)
			_s.logger.warning("route %s: %s; new connections on it are refused with 503 until the gate is back",
				_s.routePaths[r], why);
		const bool isolate = config->optionsFor(_s.routePaths[r]).isolate;
		if (_chains[r] && !pluginsChanged && _chains[r]->sameAs(route->second, *config) &&
			(_chains[r]->isolated != nullptr) == isolate)
			continue;
		const bool had = _chains[r] != nullptr;
		try
		{
			if (isolate)
				_chains[r] = Chain::buildIsolated(route->second, *config,
					_isolated.makeSpec(static_cast<std::uint16_t>(r), _s.routePaths[r], route->second, *config, _context.registry()));
			else
				_chains[r] = Chain::build(route->second, *config, _context.registry(), _context.outbox(r), _s.routePaths[r], _s.mark.mark,
					_workerMarks);
			changed[r] = true;
		}
		catch (const std::exception& e)
		{
			if (had && _s.loop.id() == 0)
				_s.logger.warning("route %s: %s; open connections keep the plugin they use, new ones are closed with 1001",
					_s.routePaths[r], std::string(e.what()));
			_chains[r].reset();
		}
	}
	std::size_t moved = 0;
	for (Connection* c : _s.connections)
	{
		if (c->dead || !c->upgraded() || c->route >= routes || !changed[c->route]) continue;
		const std::shared_ptr<Chain>& fresh = _chains[c->route];
		if (!fresh || c->chain == fresh) continue;
		_s.mark.connection.store(c, std::memory_order_relaxed);
		if (c->chain) closeChain(*c);
		c->chain = fresh;   // the old chain goes when its last connection and job let go
		openChain(*c);
		++moved;
	}
	if (_s.logger.debug()) _s.logger.debug("event loop %u: chains rebuilt, %z connections moved", _s.loop.id(), moved);
}

bool Dispatch::buildGates(std::size_t r, const HostConfig& config, bool pluginsChanged, std::string* why)
{
	const std::vector<std::string>& names = config.optionsFor(_s.routePaths[r]).gates;
	if (names.empty())
	{
		_gates[r].reset();
		return true;
	}
	if (_gates[r] && !pluginsChanged && _gates[r]->sameAs(names, config)) return true;
	try
	{
		_gates[r] = GateChain::build(names, config, _context.registry(), _workers.size(), _s.routePaths[r]);
		return true;
	}
	catch (const std::exception& e)
	{
		_gates[r].reset();
		if (why) *why = e.what();
		return false;
	}
}

std::string Dispatch::gateName(std::uint16_t route, int index) const
{
	if (route >= _gates.size() || !_gates[route] || index < 0 ||
		static_cast<std::size_t>(index) >= _gates[route]->names.size())
		return std::string();
	return _gates[route]->names[static_cast<std::size_t>(index)];
}

namespace {

/// A gate's words as one safe line of an HTTP answer.
std::string oneLine(std::string text)
{
	for (char& ch : text)
		if (ch == '\r' || ch == '\n' || (static_cast<unsigned char>(ch) < 32 && ch != '\t')) ch = ' ';
	if (text.size() > 512)
	{
		std::size_t end = 512;
		while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;   // not inside a UTF-8 sequence
		text.resize(end);
	}
	return text;
}

bool safeField(const std::pair<std::string, std::string>& field)
{
	if (field.first.empty()) return false;
	for (unsigned char ch : field.first)
		if (ch <= 32 || ch >= 127 || ch == ':') return false;
	// The host frames the answer itself.
	std::string name = field.first;
	for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
	for (const char* framing : {"content-length", "transfer-encoding", "connection", "upgrade", "content-type", "trailer"})
		if (name == framing) return false;
	for (unsigned char ch : field.second)
		if ((ch < 32 && ch != '\t') || ch == 127) return false;
	return true;
}

} // namespace

bool Dispatch::runGates(std::uint16_t route, GateInput input, std::shared_ptr<std::atomic<int>> running)
{
	checkGenerations();   // a reload this very turn: judge with the gates it configured
	if (route >= _gates.size() || !_gates[route]) return false;
	Job job;
	job.task = [this, chain = _gates[route], input = std::move(input), running](unsigned worker) {
		// The loop gave up on this handshake (deadline, peer gone) before the workers got to it.
		if (running->load(std::memory_order_relaxed) == GateCancelled) return;
		GateOutcome out;
		out.ticket = input.ticket;
		GateRequest request;
		request.method = input.method;
		request.path = input.path;
		request.query = input.query;
		request.subprotocol = input.subprotocol;
		request.remoteAddress = input.remoteAddress;
		request.remotePort = input.remotePort;
		request.tls = input.tls;
		request.headers = input.headers.get();
		std::string identity;
		const auto& gates = chain->perWorker.at(worker);
		bool admitted = true;
		for (std::size_t i = 0; i < gates.size() && admitted; ++i)
		{
			int expected = static_cast<int>(i) - 1;
			if (!running->compare_exchange_strong(expected, static_cast<int>(i), std::memory_order_relaxed)) return; // cancelled
			GateVerdict verdict;
			PluginMark& mark = _workers.mark(worker).mark;
			mark.enter(i < chain->sites.size() ? chain->sites[i] : nullptr);
			try
			{
				gates[i]->check(request, verdict);
			}
			catch (const std::exception& e)
			{
				out.failed = true;
				out.reason = oneLine(e.what());
			}
			catch (...)
			{
				out.failed = true;
				out.reason = "unknown exception";
			}
			mark.leave();
			if (out.failed || !verdict.admitted)
			{
				admitted = false;
				out.gate = chain->names[i];
				if (out.failed) break;
				out.status = verdict.status == 401 || verdict.status == 403 || verdict.status == 429 ? verdict.status : 403;
				out.reason = oneLine(verdict.reason.empty() ? "refused by gate " + chain->names[i] : verdict.reason);
				for (auto& field : verdict.headers)
					if (safeField(field)) out.headers.push_back(std::move(field));
				break;
			}
			if (!verdict.identity.empty()) identity = std::move(verdict.identity);
			request.identity = identity;
			for (auto& attribute : verdict.attributes) out.attributes[attribute.first] = std::move(attribute.second);
			if (verdict.expiresAt > 0 && (out.expiresAt == 0 || verdict.expiresAt < out.expiresAt))
				out.expiresAt = verdict.expiresAt;
		}
		out.admitted = admitted;
		out.identity = std::move(identity);
		completeGates(std::move(out));
	};
	return _workers.submit(std::move(job));
}

void Dispatch::completeGates(GateOutcome outcome)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return;
		_gateOutcomes.push_back(std::move(outcome));
		wakeLoop(wakeNow);
	}
	if (wakeNow) _s.loop.wake();
}

void Dispatch::wakeLoop(bool& wakeNow)
{
	wakeNow = !_wakePending;
	_wakePending = true;
}

bool Dispatch::push(ConnectionId connection, std::uint16_t route, PayloadKind kind, std::string_view payload)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return false;
		auto it = _live.find(connection);
		if (it == _live.end() || it->second != route) return false;
		_pushes.push_back(Push{connection, route, kind, std::string(payload)});
		_s.counts.inboxBytes.fetch_add(payload.size(), std::memory_order_relaxed);
		wakeLoop(wakeNow);
	}
	if (wakeNow) _s.loop.wake();
	return true;
}

void Dispatch::broadcast(std::uint16_t route, PayloadKind kind, std::string_view payload)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return;
		_pushes.push_back(Push{0, route, kind, std::string(payload)});
		_s.counts.inboxBytes.fetch_add(payload.size(), std::memory_order_relaxed);
		wakeLoop(wakeNow);
	}
	if (wakeNow) _s.loop.wake();
}

void Dispatch::complete(Result result)
{
	bool wakeNow = false;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		if (_inboxClosed) return;
		_results.push_back(std::move(result));
		wakeLoop(wakeNow);
	}
	if (wakeNow) _s.loop.wake();
}

void Dispatch::closeInbox()
{
	std::lock_guard<std::mutex> lock(_inboxMutex);
	_inboxClosed = true;
	std::size_t dropped = 0;
	for (const Push& p : _pushes) dropped += p.payload.size();
	if (dropped != 0) _s.counts.inboxBytes.fetch_sub(dropped, std::memory_order_relaxed);
	_pushes.clear();
	_results.clear();
	_gateOutcomes.clear();
}

void Dispatch::takeInbox()
{
	std::vector<Push> pushes;
	std::vector<Result>& results = _taken;   // keeps its capacity from turn to turn
	std::vector<GateOutcome> outcomes;
	{
		std::lock_guard<std::mutex> lock(_inboxMutex);
		_wakePending = false;
		if (_pushes.empty() && _results.empty() && _gateOutcomes.empty()) return;
		pushes.swap(_pushes);
		results.swap(_results);
		outcomes.swap(_gateOutcomes);
	}
	for (GateOutcome& o : outcomes)
		if (_gateHandler) _gateHandler(o);
	// Results first: a reply that was computed before a push was queued leaves before it.
	for (Result& r : results) applyResult(r);
	results.clear();
	std::size_t pushed = 0;
	for (Push& p : pushes)
	{
		applyPush(p);
		pushed += p.payload.size();
	}
	if (pushed != 0) _s.counts.inboxBytes.fetch_sub(pushed, std::memory_order_relaxed);
	for (Connection* c : _touched)
	{
		c->pushed = false;
		if (c->dead) continue;
		_ws.flush(*c);
		if (c->dead) continue;
		_ws.resumeIfDrained(*c);
		if (c->dead) continue;
		if (c->resumeQueue)
		{
			c->resumeQueue = false;
			if (c->state == Connection::State::Open && !c->readPaused) _ws.readSocket(*c);
		}
	}
	_touched.clear();
}

void Dispatch::touch(Connection& c)
{
	if (c.pushed) return;
	c.pushed = true;
	_touched.push_back(&c);
}

void Dispatch::applyPush(Push& p)
{
	const std::uint8_t op = p.kind == PayloadKind::Text ? OpText : OpBinary;
	if (p.connection != 0)
	{
		auto it = _byId.find(p.connection);
		if (it == _byId.end()) return;
		Connection& c = *it->second;
		if (c.dead || c.state != Connection::State::Open || c.route != p.route) return;
		if (!_ws.admit(c, p.payload.size())) return;
		_s.deflate.appendMessage(c.deflate.get(), c.out, op, p.payload);
		_s.sent(c, p.payload.size());
		touch(c);
		return;
	}
	// A broadcast: compressed once per shared compressor, not once per connection.
	_s.deflate.beginShared();
	for (Connection* c : _s.connections)
	{
		if (c->dead || c->state != Connection::State::Open || c->route != p.route) continue;
		if (!_ws.admit(*c, p.payload.size())) continue;
		_s.deflate.appendMessage(c->deflate.get(), c->out, op, p.payload);
		_s.sent(*c, p.payload.size());
		touch(*c);
	}
	_s.deflate.endShared();
}

void Dispatch::applyResult(Result& r)
{
	auto it = _byId.find(r.connection);
	if (it == _byId.end()) return; // the connection is gone: drop the result
	Connection& c = *it->second;
	if (c.dead) return;
	if (c.inFlight) --c.inFlight;
	c.jobInFlight = c.inFlight != 0;
	touch(c);
	if (r.ns != 0) _s.route(c.route).respond.observe(r.ns);
	if (c.state != Connection::State::Open)
	{
		c.queue.clear();
		return;
	}
	if (!r.plugin.empty())
	{
		responderFailed(c, r.plugin, r.error, c.out);
		c.queue.clear();
		return;
	}
	if (r.reply.action == Reply::Action::Send && !_ws.admit(c, r.reply.payload.size()))
	{
		c.queue.clear();
		return;
	}
	if (!applyReply(c, r.reply, std::string_view(), c.out)) // settled by the worker
	{
		c.queue.clear();
		return;
	}
	pump(c);
}

void Dispatch::submit(Connection& c, PayloadKind kind, std::string payload)
{
	++c.inFlight;
	c.jobInFlight = true;
	c.isolatedJobs = false;
	Job job;
	job.connection = c.id;
	job.details = c.details;
	job.chain = c.chain;
	job.kind = kind;
	job.payload = std::move(payload);
	job.timed = ++_s.route(c.route).jobs % RespondSampleEvery == 0;   // parley_respond_seconds
	job.done = [this](ConnectionId id, const Reply& reply, const std::string& plugin, const std::string& error,
				   std::uint64_t ns) { complete(Result{id, reply, plugin, error, ns}); };
	_workers.submit(std::move(job));
}

void Dispatch::pump(Connection& c)
{
	_s.mark.connection.store(&c, std::memory_order_relaxed);   // for the watchdog's stall line
	while (!c.queue.empty() && canSubmit(c) && c.state == Connection::State::Open)
	{
		if (c.jobInFlight && !c.chain->isolated) break;
		std::pair<PayloadKind, std::string> item = std::move(c.queue.front());
		c.queue.pop_front();
		if (c.chain->isolated)
		{
			submitIsolated(c, item.first, item.second);
		}
		else if (c.chain->blocking)
		{
			submit(c, item.first, std::move(item.second));
		}
		else
		{
			const Message message{item.first, item.second, c.id, &c.details->info};
			if (!onMessage(c, message, c.out, _s.route(c.route))) c.queue.clear();
		}
	}
	if (c.queuePaused && c.queue.size() < QueueLow)
	{
		c.queuePaused = false;
		c.resumeQueue = true;
	}
	if (c.closeDeferred && !c.jobInFlight && c.state == Connection::State::Open)
	{
		c.closeDeferred = false;
		_ws.queueClose(c, c.out, c.deferredCode,
			c.deferredDrain ? std::string_view(WebSocketLayer::DrainReason) : std::string_view(), c.deferredDrain);
	}
}

bool Dispatch::timedMessage(Connection& c, const Message& message, OutputBuffer& out, RouteStats& stats)
{
	const std::uint64_t started = monotonicNs();
	const Reply* reply;
	try
	{
		reply = &c.chain->pipeline->run(message);
	}
	catch (...)
	{
		return pipelineFailed(c, out);
	}
	stats.respond.observe(monotonicNs() - started);
	return replied(c, *reply, message, out, stats);
}

bool Dispatch::pipelineFailed(Connection& c, OutputBuffer& out)
{
	try
	{
		throw;
	}
	catch (const ResponderError& e)
	{
		responderFailed(c, e.plugin(), e.what(), out);
	}
	catch (const std::exception& e)
	{
		responderFailed(c, std::string(), e.what(), out);
	}
	catch (...)
	{
		responderFailed(c, std::string(), "unknown exception", out);
	}
	return false;
}

bool Dispatch::applyReply(Connection& c, const Reply& reply, std::string_view message, OutputBuffer& out)
{
	if (reply.action == Reply::Action::Send)
	{
		_s.deflate.appendMessage(c.deflate.get(), out, reply.kind == PayloadKind::Text ? OpText : OpBinary,
			reply.quotesMessage ? message : std::string_view(), reply.payload);
		_s.sent(c, (reply.quotesMessage ? message.size() : 0) + reply.payload.size());
	}
	else if (reply.action == Reply::Action::Close)
	{
		if (reply.closeCode == CloseCode::NoStatus || CloseCode::isValidOnWire(reply.closeCode))
			_ws.queueClose(c, out, reply.closeCode, reply.payload);
		else
			_ws.queueClose(c, out, CloseCode::InternalError, "responder gave an invalid close code");
		return false;
	}
	return true;
}

void Dispatch::responderFailed(Connection& c, const std::string& plugin, const std::string& what, OutputBuffer& out)
{
	++_s.counters[ResponderErrors];
	_s.limited(LogResponderFailed, Poco::Message::PRIO_ERROR, [&] {
		return "route " + _s.routePaths[c.route] + ": " + (plugin.empty() ? std::string("pipeline") : "plugin '" + plugin + "'") +
			" failed, closing the connection from " + peerText(c.peer) + " with 1011: " + what;
	});
	_ws.queueClose(c, out, CloseCode::InternalError, "responder failed");
}

} // namespace host
} // namespace parley
