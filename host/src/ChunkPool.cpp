//
// ChunkPool.cpp
//
#include "ChunkPool.h"
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <malloc.h>
#include <new>
#include <string>
#include <unistd.h>

namespace parley {
namespace host {

thread_local ChunkPool* ChunkPool::t_current = nullptr;

OutputAccount& ChunkPool::unpooled() noexcept
{
	static OutputAccount account;
	return account;
}

ChunkPool::~ChunkPool()
{
	if (t_current == this) t_current = nullptr;
	while (_free != nullptr)
	{
		Chunk* c = _free;
		_free = c->next;
		std::free(c);
	}
}

std::atomic<std::size_t>& ChunkPool::freed() noexcept
{
	static std::atomic<std::size_t> counter{0};
	return counter;
}

bool ChunkPool::trimIfFreed(std::size_t threshold) noexcept
{
	if (freed().load(std::memory_order_relaxed) < threshold) return false;
	freed().store(0, std::memory_order_relaxed);
	// glibc keeps freed memory in its arenas; this gives the free pages back (madvise).
	::malloc_trim(0);
	return true;
}

Chunk* ChunkPool::take()
{
	ChunkPool* pool = t_current;
	Chunk* c;
	if (pool != nullptr && pool->_free != nullptr)
	{
		c = pool->_free;
		pool->_free = c->next;
		pool->_count.store(pool->_count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
	}
	else
	{
		c = static_cast<Chunk*>(std::malloc(Chunk::Bytes));
		if (c == nullptr) throw std::bad_alloc();
	}
	c->next = nullptr;
	c->account = pool != nullptr ? &pool->_account : &unpooled();
	c->begin = c->end = 0;
	const std::int64_t now = c->account->bytes.fetch_add(static_cast<std::int64_t>(Chunk::Bytes), std::memory_order_relaxed) +
		static_cast<std::int64_t>(Chunk::Bytes);
	std::int64_t peak = c->account->peak.load(std::memory_order_relaxed);
	while (now > peak && !c->account->peak.compare_exchange_weak(peak, now, std::memory_order_relaxed))
	{
	}
	return c;
}

void ChunkPool::giveChain(Chunk* first) noexcept
{
	ChunkPool* pool = t_current;
	while (first != nullptr)
	{
		Chunk* c = first;
		first = c->next;
		c->account->bytes.fetch_sub(static_cast<std::int64_t>(Chunk::Bytes), std::memory_order_relaxed);
		const std::size_t count = pool != nullptr ? pool->_count.load(std::memory_order_relaxed) : 0;
		if (pool != nullptr && count < pool->_max)
		{
			c->next = pool->_free;
			pool->_free = c;
			pool->_count.store(count + 1, std::memory_order_relaxed);
		}
		else
		{
			std::free(c);
			noteFreed(Chunk::Bytes);
		}
	}
}

namespace {

/// A number of bytes from a cgroup file (0: none, "max", unreadable).
std::uint64_t readLimit(const std::string& path)
{
	std::ifstream in(path);
	std::string text;
	if (!(in >> text) || text == "max") return 0;
	try
	{
		const unsigned long long n = std::stoull(text);
		return n >= (1ull << 60) ? 0 : n;   // v1 says "no limit" with a huge number
	}
	catch (...)
	{
		return 0;
	}
}

} // namespace

std::uint64_t defaultOutputBudget()
{
	static const std::uint64_t budget = [] {
		const long pages = ::sysconf(_SC_PHYS_PAGES);
		const long pageSize = ::sysconf(_SC_PAGE_SIZE);
		std::uint64_t memory = pages > 0 && pageSize > 0 ? std::uint64_t(pages) * std::uint64_t(pageSize) : (4ull << 30);
		// The cgroup of this process (v2: "0::/path"; v1: "N:memory:/path").
		std::ifstream self("/proc/self/cgroup");
		std::string line;
		while (std::getline(self, line))
		{
			std::uint64_t limit = 0;
			if (line.rfind("0::", 0) == 0)
			{
				const std::string path = line.substr(3);
				limit = readLimit("/sys/fs/cgroup" + path + "/memory.max");
				if (limit == 0) limit = readLimit("/sys/fs/cgroup/memory.max");
			}
			else if (line.find(":memory:") != std::string::npos)
			{
				const std::string path = line.substr(line.find(":memory:") + 8);
				limit = readLimit("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes");
				if (limit == 0) limit = readLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes");
			}
			if (limit != 0 && limit < memory) memory = limit;
		}
		return std::max<std::uint64_t>(memory / 4, 1ull << 20);
	}();
	return budget;
}

} // namespace host
} // namespace parley
