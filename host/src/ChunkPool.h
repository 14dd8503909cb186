//
// ChunkPool.h — the fixed-size chunks output is queued in, and the per-loop pool that keeps a
// bounded reserve of them; every chunk in use is counted against the host's output memory.
//
#ifndef PARLEY_HOST_CHUNKPOOL_INCLUDED
#define PARLEY_HOST_CHUNKPOOL_INCLUDED

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parley {
namespace host {

/// Bytes in output chunks in use, and the most there ever were.
struct OutputAccount
{
	std::atomic<std::int64_t> bytes{0};
	std::atomic<std::int64_t> peak{0};
};

/// One piece of queued output: bytes [begin, end) of data are unsent.
struct Chunk
{
	/// The size of one chunk (header included).
	static constexpr std::size_t Bytes = 16384;

	Chunk* next;
	OutputAccount* account;               ///< the counter this chunk is counted in
	std::uint32_t begin;
	std::uint32_t end;

	/// The bytes after the header.
	char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
	const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }
};

/// Bytes of data one chunk holds.
constexpr std::size_t ChunkData = Chunk::Bytes - sizeof(Chunk);

/// A free list of chunks owned by one event loop (bind() on its thread); chunks taken on a
/// thread without a pool come from malloc and go back to it. Every chunk outside a pool's
/// reserve counts Chunk::Bytes in the account of the pool that handed it out: that sum is the
/// host's output memory (engine.max_output_memory).
class ChunkPool
{
public:
	/// `account`: the host's output memory counter; `reserve`: chunks kept for reuse at most.
	ChunkPool(OutputAccount& account, std::size_t reserve) noexcept : _account(account), _max(reserve) {}
	~ChunkPool();

	ChunkPool(const ChunkPool&) = delete;
	ChunkPool& operator=(const ChunkPool&) = delete;

	/// Makes this the pool of the calling thread (the loop thread, once per turn).
	void bind() noexcept { t_current = this; }
	/// The calling thread has no pool any more.
	static void unbind() noexcept { t_current = nullptr; }

	/// Returns an empty chunk (begin = end = 0, next = null), counted. Throws std::bad_alloc.
	static Chunk* take();
	/// Gives back `first` and every chunk after it.
	static void giveChain(Chunk* first) noexcept;

	/// Returns the bytes this pool keeps in reserve (chunks not in use).
	std::size_t reserveBytes() const noexcept { return _count.load(std::memory_order_relaxed) * Chunk::Bytes; }

	/// Counts bytes given back to malloc (chunks beyond a reserve, large message buffers).
	static void noteFreed(std::size_t bytes) noexcept { freed().fetch_add(bytes, std::memory_order_relaxed); }
	/// Returns the memory to the system with malloc_trim if at least `threshold` bytes were freed
	/// since the last time; returns true if it did.
	static bool trimIfFreed(std::size_t threshold) noexcept;

	/// The counter of chunks taken on threads without a pool.
	static OutputAccount& unpooled() noexcept;

private:
	static std::atomic<std::size_t>& freed() noexcept;
	static thread_local ChunkPool* t_current;

	OutputAccount& _account;
	Chunk* _free = nullptr;
	std::atomic<std::size_t> _count{0};   // chunks in _free (read by /metrics)
	const std::size_t _max;
};

/// A quarter of the memory the host may use: the cgroup's limit where one is set (v2
/// memory.max, v1 memory.limit_in_bytes), else the physical memory.
std::uint64_t defaultOutputBudget();

} // namespace host
} // namespace parley

#endif
