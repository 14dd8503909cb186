//
// HostContext.cpp
//
#include "HostContext.h"

namespace parley {
namespace host {

HostContext::HostContext(const HostConfig& config, PluginRegistry& registry, Poco::Logger& logger):
	_registry(registry),
	_logger(logger),
	_config(std::make_shared<const HostConfig>(config))
{
	registerRoutes(config);
}

std::shared_ptr<const HostConfig> HostContext::config() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _config;
}

void HostContext::setConfig(const HostConfig& config)
{
	auto fresh = std::make_shared<const HostConfig>(config);
	{
		std::lock_guard<std::mutex> lock(_mutex);
		registerRoutes(config);
		_config = fresh;
	}
	_generation.fetch_add(1, std::memory_order_release);
}

void HostContext::registerRoutes(const HostConfig& config)
{
	for (const auto& route : config.routes)
	{
		if (_ids.count(route.first)) continue;
		_ids[route.first] = _paths.size();
		_outboxes.push_back(std::make_unique<RouteOutbox>(*this, static_cast<std::uint16_t>(_paths.size()), route.first));
		_paths.push_back(route.first);
	}
}

int HostContext::activeRoute(const std::string& path, std::shared_ptr<const HostConfig>& config) const
{
	std::lock_guard<std::mutex> lock(_mutex);
	config = _config;
	if (!_config->routes.count(path)) return -1;
	auto it = _ids.find(path);
	return it == _ids.end() ? -1 : static_cast<int>(it->second);
}

std::size_t HostContext::routeCount() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _paths.size();
}

std::string HostContext::routePath(std::size_t id) const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _paths.at(id);
}

RouteOutbox& HostContext::outbox(std::size_t id)
{
	std::lock_guard<std::mutex> lock(_mutex);
	return *_outboxes.at(id);
}

} // namespace host
} // namespace parley
