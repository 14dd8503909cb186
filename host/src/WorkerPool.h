//
// WorkerPool.h — plugins.workers threads that run the chains of routes with a blocking() stage.
//
#ifndef PARLEY_HOST_WORKERPOOL_INCLUDED
#define PARLEY_HOST_WORKERPOOL_INCLUDED

#include "Chain.h"
#include "ConnectionDetails.h"
#include "Faults.h"
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace host {

/// One message of one connection to run through a blocking chain. The job holds the chain, so
/// a replaced chain lives until its last job is done.
struct Job
{
	/// Set: run this instead (with the worker's index), e.g. a route's gates for a handshake.
	std::function<void(unsigned worker)> task;
	ConnectionId connection = 0;
	DetailsRef details;                       ///< what Message::info points to
	std::shared_ptr<Chain> chain;
	PayloadKind kind = PayloadKind::Text;
	std::string payload;
	bool timed = false;                       ///< measure the time in the chain (parley_respond_seconds)
	/// Called on the worker thread with the outcome: the reply, or the plugin and error if a
	/// responder threw (then the reply is meaningless), and the nanoseconds the chain took if the
	/// job was timed (else 0).
	std::function<void(ConnectionId, const Reply&, const std::string& plugin, const std::string& error, std::uint64_t ns)> done;
};

/// A FIFO of jobs shared by the workers; worker i runs chain->workerPipelines[i], so no
/// responder instance is ever called by two threads.
class WorkerPool
{
public:
	/// Starts `workers` threads (at least 1).
	explicit WorkerPool(unsigned workers);

	/// Stops (drops jobs not started) and joins.
	~WorkerPool();

	WorkerPool(const WorkerPool&) = delete;
	WorkerPool& operator=(const WorkerPool&) = delete;

	/// Queues a job (thread-safe). Returns false (the job is dropped) once stopped.
	bool submit(Job job);

	/// Drops the jobs not started, lets running ones finish, joins the threads. Idempotent.
	void stop();

	/// Returns the number of worker threads.
	unsigned size() const { return static_cast<unsigned>(_threads.size()); }

	/// The mark of worker `index` (< size()): the plugin call it is in (Faults.h).
	ThreadMark& mark(unsigned index) { return _marks[index]; }

private:
	void run(unsigned index);

	std::mutex _mutex;
	std::condition_variable _ready;
	std::deque<Job> _jobs;
	bool _stopping = false;
	std::unique_ptr<ThreadMark[]> _marks;
	std::vector<std::thread> _threads;
};

} // namespace host
} // namespace parley

#endif
