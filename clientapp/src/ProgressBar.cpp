//
// ProgressBar.cpp
//
#include "ProgressBar.h"
#include <cstdio>
#include <string>
#include <unistd.h>

namespace parley {
namespace clientapp {

bool ProgressBar::stderrIsTerminal()
{
	return ::isatty(STDERR_FILENO) == 1;
}

void ProgressBar::update(const client::LoadProgress& p)
{
	if (!_enabled || p.elapsedSeconds < 1.0)
		return;
	const int width = 30;
	double fraction = _total ? double(p.received) / double(_total) : 1.0;
	if (fraction > 1.0)
		fraction = 1.0;
	int filled = static_cast<int>(fraction * width);
	std::string bar(static_cast<std::size_t>(filled), '#');
	bar.append(static_cast<std::size_t>(width - filled), '.');
	double rate = p.elapsedSeconds > 0 ? double(p.received) / p.elapsedSeconds : 0;
	std::fprintf(stderr, "\r[%s] %3d%% %llu/%llu %.0f msg/s rtt %.0fus%s\033[K", bar.c_str(),
		static_cast<int>(fraction * 100), static_cast<unsigned long long>(p.received),
		static_cast<unsigned long long>(_total), rate, p.recentRttMicros,
		p.mismatched ? " MISMATCH" : "");
	std::fflush(stderr);
	_drawn = true;
}

void ProgressBar::clear()
{
	if (_drawn)
	{
		std::fputs("\r\033[K", stderr);
		std::fflush(stderr);
		_drawn = false;
	}
}

} // namespace clientapp
} // namespace parley
