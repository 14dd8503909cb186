//
// Pipeline.cpp
//
#include "parley/Pipeline.h"
#include <exception>

namespace parley {

Pipeline::Pipeline(std::vector<Stage> stages): _stages(std::move(stages))
{
	if (_stages.empty()) throw std::invalid_argument("a pipeline needs at least one responder");
	for (const auto& stage : _stages)
	{
		if (!stage.responder) throw std::invalid_argument("pipeline stage '" + stage.name + "' has no responder");
	}
}

const Reply& Pipeline::run(const Message& message)
{
	if (_stages.size() == 1)
	{
		// One stage (the common case): no hand-over between stages.
		Reply& only = _replies[0];
		only.action = Reply::Action::None;
		only.kind = message.kind;
		only.closeCode = 1000;
		only.payload.clear();
		Stage& stage = _stages.front();
		try
		{
			stage.responder->respond(message, only);
		}
		catch (const std::exception& e)
		{
			throw ResponderError(stage.name, e.what());
		}
		catch (...)
		{
			throw ResponderError(stage.name, "unknown exception");
		}
		return only;
	}
	Message input = message;
	Reply* reply = &_replies[0];
	for (std::size_t i = 0; i < _stages.size(); ++i)
	{
		reply = &_replies[i & 1];
		reply->action = Reply::Action::None;
		reply->kind = input.kind;
		reply->closeCode = 1000;
		reply->payload.clear();
		try
		{
			_stages[i].responder->respond(input, *reply);
		}
		catch (const std::exception& e)
		{
			throw ResponderError(_stages[i].name, e.what());
		}
		catch (...)
		{
			throw ResponderError(_stages[i].name, "unknown exception");
		}
		if (reply->action != Reply::Action::Send) return *reply;
		input.kind = reply->kind;
		input.payload = reply->payload;
	}
	return *reply;
}

std::vector<std::string> Pipeline::names() const
{
	std::vector<std::string> result;
	result.reserve(_stages.size());
	for (const auto& stage : _stages) result.push_back(stage.name);
	return result;
}

} // namespace parley
