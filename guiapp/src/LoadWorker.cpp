//
// LoadWorker.cpp
//
#include "LoadWorker.h"

namespace parley {
namespace gui {

LoadWorker::~LoadWorker()
{
	cancel();
	reap();
}

bool LoadWorker::start(const client::LoadOptions& options)
{
	if (_run) return false;
	_run = std::make_unique<client::LoadRun>(options);
	client::LoadRun* run = _run.get();
	EventInbox* inbox = &_inbox;
	_thread = std::thread([run, inbox] {
		client::LoadSummary summary;
		try
		{
			summary = run->run([inbox](const client::LoadProgress& p) { inbox->pushProgress(p); }, 100);
		}
		catch (const std::exception& e)
		{
			// LoadRun promises not to throw; if it ever does, the UI still hears about it.
			summary.error = std::string("load run failed: ") + e.what();
		}
		inbox->pushLoadDone(summary);
	});
	return true;
}

void LoadWorker::cancel()
{
	if (_run) _run->cancel();
}

void LoadWorker::reap()
{
	if (_thread.joinable()) _thread.join();
	_run.reset();
}

} // namespace gui
} // namespace parley
