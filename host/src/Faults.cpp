//
// Faults.cpp
//
#include "Faults.h"
#include "parley/PluginRegistry.h"
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unistd.h>

namespace parley {
namespace host {

namespace {

thread_local ThreadMark* tMark = nullptr;

/// The thread's alternate signal stack, disabled and freed when the thread ends.
struct AltStack
{
	static constexpr std::size_t Size = 64 * 1024;
	std::unique_ptr<char[]> memory;

	void install()
	{
		if (memory) return;
		memory.reset(new char[Size]);
		stack_t ss{};
		ss.ss_sp = memory.get();
		ss.ss_size = Size;
		ss.ss_flags = 0;
		if (::sigaltstack(&ss, nullptr) != 0) memory.reset();
	}
	~AltStack()
	{
		if (!memory) return;
		stack_t ss{};
		ss.ss_flags = SS_DISABLE;
		::sigaltstack(&ss, nullptr);
	}
};

thread_local AltStack tAltStack;

constexpr int FatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

const char* signalName(int sig) noexcept
{
	switch (sig)
	{
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	default: return "a fatal signal";
	}
}

/// Appends `text` to buf[*len] up to `cap` (async-signal-safe).
void append(char* buf, std::size_t cap, std::size_t* len, const char* text) noexcept
{
	while (*text && *len < cap) buf[(*len)++] = *text++;
}

void onFatalSignal(int sig, siginfo_t*, void*)
{
	const int savedErrno = errno;
	const ThreadMark* mark = tMark;
	const auto* site = mark ? static_cast<const PluginSite*>(mark->mark.site.load(std::memory_order_relaxed)) : nullptr;
	if (site)
	{
		char line[2048];
		std::size_t len = 0;
		append(line, sizeof(line) - 1, &len, "parley-host: ");
		append(line, sizeof(line) - 1, &len, signalName(sig));
		append(line, sizeof(line) - 1, &len, " in ");
		append(line, sizeof(line) - 1, &len, site->text.c_str());
		append(line, sizeof(line) - 1, &len, ", ");
		append(line, sizeof(line) - 1, &len, mark->name);
		append(line, sizeof(line) - 1, &len, "; ");
		append(line, sizeof(line) - 1, &len, mark->fate);
		line[len++] = '\n';
		std::size_t off = 0;
		while (off < len)
		{
			const ssize_t n = ::write(STDERR_FILENO, line + off, len - off);
			if (n <= 0) break;
			off += static_cast<std::size_t>(n);
		}
	}
	struct sigaction dfl{};
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	::sigaction(sig, &dfl, nullptr);
	// Blocked while the handler runs: delivered (default action: death, with a core) on return.
	// A fault (SIGSEGV...) would also come back by itself when the instruction runs again.
	::raise(sig);
	errno = savedErrno;
}

} // namespace

const PluginSite* PluginSite::get(const std::string& kind, const std::string& plugin, const std::string& route,
	const PluginRegistry& registry)
{
	std::string version = "?";
	std::string file = "?";
	for (const auto& description : registry.plugins())
	{
		if (description.name != plugin) continue;
		version = description.version;
		file = description.path;
		break;
	}
	static std::mutex mutex;
	static std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, std::unique_ptr<PluginSite>> sites;
	std::lock_guard<std::mutex> lock(mutex);
	auto& site = sites[std::make_tuple(kind, plugin, version, file, route)];
	if (!site)
	{
		site = std::make_unique<PluginSite>();
		site->kind = kind;
		site->plugin = plugin;
		site->version = version;
		site->file = file;
		site->route = route;
		site->text = (kind == "gate" ? "gate '" : "plugin '") + plugin + "' " + version + " (file " + file + ") on route " + route;
	}
	return site.get();
}

void ThreadMark::setName(bool isLoop, unsigned i)
{
	loop = isLoop;
	index = i;
	const std::string text = (isLoop ? "event loop " : "worker ") + std::to_string(i);
	std::strncpy(name, text.c_str(), sizeof(name) - 1);
}

void installFatalSignalHandler()
{
	for (int sig : FatalSignals)
	{
		struct sigaction action{};
		action.sa_sigaction = onFatalSignal;
		action.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&action.sa_mask);
		::sigaction(sig, &action, nullptr);
	}
}

void attachThread(ThreadMark& mark)
{
	tAltStack.install();
	tMark = &mark;
}

} // namespace host
} // namespace parley
