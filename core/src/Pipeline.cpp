//
// Pipeline.cpp
//
#include "parley/Pipeline.h"
#include "parley/PluginRegistry.h"
#include <exception>

namespace parley {

Pipeline::Pipeline(std::vector<Stage> stages): _stages(std::move(stages))
{
	if (_stages.empty()) throw std::invalid_argument("a pipeline needs at least one responder");
	for (const auto& stage : _stages)
	{
		if (!stage.responder) throw std::invalid_argument("pipeline stage '" + stage.name + "' has no responder");
	}
	if (_stages.size() == 1) _single = &PluginRegistry::target(*_stages.front().responder);
}

void Pipeline::setMark(PluginMark& mark, std::vector<const void*> sites)
{
	_mark = &mark;
	_sites = std::move(sites);
	_site = _sites.empty() ? nullptr : _sites.front();
}

void Pipeline::failed(const std::string& plugin)
{
	try
	{
		throw;
	}
	catch (const std::exception& e)
	{
		throw ResponderError(plugin, e.what());
	}
	catch (...)
	{
		throw ResponderError(plugin, "unknown exception");
	}
}

const Reply& Pipeline::runChain(const Message& message)
{
	Message input = message;
	Reply* reply = &_replies[0];
	for (std::size_t i = 0; i < _stages.size(); ++i)
	{
		reply = &_replies[i & 1];
		reply->action = Reply::Action::None;
		reply->quotesMessage = false;
		reply->kind = input.kind;
		reply->closeCode = 1000;
		reply->payload.clear();
		_mark->enter(i < _sites.size() ? _sites[i] : nullptr);
		try
		{
			_stages[i].responder->respond(input, *reply);
		}
		catch (...)
		{
			_mark->leave();
			failed(_stages[i].name);
		}
		_mark->leave();
		if (reply->action != Reply::Action::Send) return *reply;
		// `input` points at the other buffer (or at the message), never at this one.
		if (reply->quotesMessage) settle(*reply, input.payload);
		input.kind = reply->kind;
		input.payload = reply->payload;
	}
	return *reply;
}

void settle(Reply& reply, std::string_view message)
{
	if (!reply.quotesMessage) return;
	reply.payload.insert(0, message.data(), message.size());
	reply.quotesMessage = false;
}

std::vector<std::string> Pipeline::names() const
{
	std::vector<std::string> result;
	result.reserve(_stages.size());
	for (const auto& stage : _stages) result.push_back(stage.name);
	return result;
}

} // namespace parley
