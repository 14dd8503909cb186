//
// LoadWorker.h — runs core's LoadRun (the verified exchange parley-client runs) on a worker
// thread; progress and the final summary go to the EventInbox.
//
#ifndef PARLEY_GUI_LOADWORKER_INCLUDED
#define PARLEY_GUI_LOADWORKER_INCLUDED

#include "EventInbox.h"
#include "parley/client/LoadRun.h"
#include <memory>
#include <thread>

namespace parley {
namespace gui {

class LoadWorker
{
public:
	explicit LoadWorker(EventInbox& inbox): _inbox(inbox) {}
	~LoadWorker();  ///< cancels a running run and joins the thread

	LoadWorker(const LoadWorker&) = delete;
	LoadWorker& operator=(const LoadWorker&) = delete;

	/// Starts a run. Returns false (and does nothing) if one is still running or not yet reaped.
	bool start(const client::LoadOptions& options);
	/// Asks the running run to stop soon; its summary still arrives (cancelled).
	void cancel();
	/// Returns true from start() until reap().
	bool busy() const noexcept { return static_cast<bool>(_run); }
	/// Joins the worker once its summary arrived through the inbox.
	void reap();

private:
	EventInbox& _inbox;
	std::unique_ptr<client::LoadRun> _run;
	std::thread _thread;
};

} // namespace gui
} // namespace parley

#endif
