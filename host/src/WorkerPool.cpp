//
// WorkerPool.cpp
//
#include "WorkerPool.h"
#include <algorithm>
#include <chrono>
#include <exception>

namespace parley {
namespace host {

namespace {

std::uint64_t monotonicNs() noexcept
{
	return static_cast<std::uint64_t>(
		std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

} // namespace

WorkerPool::WorkerPool(unsigned workers)
{
	if (workers == 0) workers = 1;
	_marks.reset(new ThreadMark[workers]);
	for (unsigned i = 0; i < workers; ++i) _marks[i].setName(false, i);
	for (unsigned i = 0; i < workers; ++i) _threads.emplace_back([this, i] { run(i); });
}

WorkerPool::~WorkerPool()
{
	stop();
}

bool WorkerPool::submit(Job job)
{
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (_stopping) return false;
		_jobs.push_back(std::move(job));
	}
	_ready.notify_one();
	return true;
}

void WorkerPool::stop()
{
	std::deque<Job> dropped;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_stopping = true;
		dropped.swap(_jobs);
	}
	_ready.notify_all();
	for (auto& t : _threads)
	{
		if (t.joinable()) t.join();
	}
}

void WorkerPool::run(unsigned index)
{
	attachThread(_marks[index]);
	Reply failed;
	for (;;)
	{
		Job job;
		{
			std::unique_lock<std::mutex> lock(_mutex);
			_ready.wait(lock, [this] { return _stopping || !_jobs.empty(); });
			if (_stopping) return;
			job = std::move(_jobs.front());
			_jobs.pop_front();
		}
		_marks[index].mark.advance();   // for the Watchdog: a new job
		if (job.task)
		{
			job.task(index);   // catches what it calls
			continue;
		}
		Pipeline& pipeline = *job.chain->workerPipelines.at(index);
		const Message message{job.kind, job.payload, job.connection, job.details ? &job.details->info : nullptr};
		const std::uint64_t started = job.timed ? monotonicNs() : 0;
		// A timed job reports at least 1 ns: 0 means "not timed".
		auto took = [&job, started] { return job.timed ? std::max<std::uint64_t>(1, monotonicNs() - started) : 0; };
		try
		{
			const Reply& reply = pipeline.run(message);
			const std::uint64_t ns = took();
			if (!reply.quotesMessage)
			{
				job.done(job.connection, reply, std::string(), std::string(), ns);
			}
			else
			{
				// The reply goes to the event loop after the job's message is gone.
				Reply settled = reply;
				settle(settled, message.payload);
				job.done(job.connection, settled, std::string(), std::string(), ns);
			}
		}
		catch (const ResponderError& e)
		{
			job.done(job.connection, failed, e.plugin(), e.what(), 0);
		}
		catch (const std::exception& e)
		{
			job.done(job.connection, failed, "?", e.what(), 0);
		}
	}
}

} // namespace host
} // namespace parley
