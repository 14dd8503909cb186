//
// Chain.cpp
//
#include "Chain.h"
#include "IsolatedPool.h"
#include "Faults.h"
#include "parley/PluginRegistry.h"
#include <exception>

namespace parley {
namespace host {

namespace {

std::unique_ptr<Pipeline> makePipeline(const std::vector<std::string>& names, const HostConfig& config,
	const PluginRegistry& registry, Outbox& outbox, std::vector<Responder*>* raw, bool* blocking)
{
	std::vector<Stage> stages;
	for (const std::string& name : names)
	{
		std::unique_ptr<Responder> responder = registry.create(name, config.settingsFor(name));
		responder->attach(outbox);
		if (blocking && responder->blocking()) *blocking = true;
		if (raw) raw->push_back(responder.get());
		stages.push_back(Stage{name, std::move(responder)});
	}
	return std::make_unique<Pipeline>(std::move(stages));
}

} // namespace

std::shared_ptr<Chain> Chain::build(const std::vector<std::string>& names, const HostConfig& config,
	const PluginRegistry& registry, Outbox& outbox, const std::string& route, PluginMark& loopMark,
	const std::vector<PluginMark*>& workerMarks)
{
	auto chain = std::make_shared<Chain>();
	chain->names = names;
	for (const std::string& name : names) chain->settings.push_back(config.settingsFor(name));
	bool blocking = false;
	std::vector<Responder*> raw;
	std::unique_ptr<Pipeline> first = makePipeline(names, config, registry, outbox, &raw, &blocking);
	for (const std::string& name : names) chain->sites.push_back(PluginSite::get("responder", name, route, registry));
	if (!blocking)
	{
		first->setMark(loopMark, chain->sites);
		chain->pipeline = std::move(first);
		chain->stages = std::move(raw);
		chain->mark = &loopMark;
		return chain;
	}
	chain->blocking = true;
	chain->workerPipelines.push_back(std::move(first));
	for (std::size_t i = 1; i < workerMarks.size(); ++i)
		chain->workerPipelines.push_back(makePipeline(names, config, registry, outbox, nullptr, nullptr));
	for (std::size_t i = 0; i < workerMarks.size() && i < chain->workerPipelines.size(); ++i)
		chain->workerPipelines[i]->setMark(*workerMarks[i], chain->sites);
	return chain;
}

std::shared_ptr<Chain> Chain::buildIsolated(const std::vector<std::string>& names, const HostConfig& config,
	std::shared_ptr<const IsolatedSpec> spec)
{
	auto chain = std::make_shared<Chain>();
	chain->names = names;
	for (const std::string& name : names) chain->settings.push_back(config.settingsFor(name));
	chain->blocking = true;
	chain->isolated = std::move(spec);
	return chain;
}

bool Chain::sameAs(const std::vector<std::string>& otherNames, const HostConfig& config) const
{
	if (otherNames != names) return false;
	for (std::size_t i = 0; i < names.size(); ++i)
	{
		if (config.settingsFor(names[i]) != settings[i]) return false;
	}
	return true;
}

void Chain::open(const ConnectionInfo& connection, Poco::Logger& logger) const
{
	notify([&connection](Responder& r) { r.onOpen(connection); }, "onOpen", logger);
}

void Chain::close(ConnectionId connection, Poco::Logger& logger) const
{
	notify([connection](Responder& r) { r.onClose(connection); }, "onClose", logger);
}

template <typename Hook>
void Chain::notify(Hook hook, const char* hookName, Poco::Logger& logger) const
{
	for (std::size_t i = 0; i < stages.size(); ++i)
	{
		if (mark) mark->enter(i < sites.size() ? sites[i] : nullptr);
		try
		{
			hook(*stages[i]);
		}
		catch (const std::exception& e)
		{
			logger.error("plugin '%s': %s failed: %s", names[i], std::string(hookName), std::string(e.what()));
		}
		catch (...)
		{
			logger.error("plugin '%s': %s failed", names[i], std::string(hookName));
		}
		if (mark) mark->leave();
	}
}

std::shared_ptr<GateChain> GateChain::build(const std::vector<std::string>& names, const HostConfig& config,
	const PluginRegistry& registry, unsigned workers, const std::string& route)
{
	auto chain = std::make_shared<GateChain>();
	chain->names = names;
	for (const std::string& name : names) chain->sites.push_back(PluginSite::get("gate", name, route, registry));
	for (const std::string& name : names) chain->settings.push_back(config.settingsFor(name));
	chain->perWorker.resize(workers);
	for (unsigned w = 0; w < workers; ++w)
		for (const std::string& name : names) chain->perWorker[w].push_back(registry.createGate(name, config.settingsFor(name)));
	return chain;
}

bool GateChain::sameAs(const std::vector<std::string>& otherNames, const HostConfig& config) const
{
	if (otherNames != names) return false;
	for (std::size_t i = 0; i < names.size(); ++i)
		if (config.settingsFor(names[i]) != settings[i]) return false;
	return true;
}

} // namespace host
} // namespace parley
