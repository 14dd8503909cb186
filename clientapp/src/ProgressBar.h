//
// ProgressBar.h — a one-line progress bar on stderr for long runs (only when stderr is a terminal).
//
#ifndef PARLEY_CLIENTAPP_PROGRESSBAR_INCLUDED
#define PARLEY_CLIENTAPP_PROGRESSBAR_INCLUDED

#include "parley/client/LoadRun.h"
#include <cstdint>

namespace parley {
namespace clientapp {

class ProgressBar
{
public:
	/// total: the messages of the whole run; enabled: false draws nothing.
	ProgressBar(std::uint64_t total, bool enabled) : _total(total), _enabled(enabled) {}
	~ProgressBar() { clear(); }

	/// Redraws the bar, but only once the run has lasted a second.
	void update(const client::LoadProgress& progress);
	/// Erases the bar if it was drawn.
	void clear();

	/// Returns true if stderr is a terminal.
	static bool stderrIsTerminal();

private:
	std::uint64_t _total;
	bool _enabled;
	bool _drawn = false;
};

} // namespace clientapp
} // namespace parley

#endif
