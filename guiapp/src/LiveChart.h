//
// LiveChart.h — messages per second (filled area, left axis) and round-trip time (line, right
// axis) over the last minute, drawn with wxGraphicsContext.
//
#ifndef PARLEY_GUI_LIVECHART_INCLUDED
#define PARLEY_GUI_LIVECHART_INCLUDED

#include "TrafficHistory.h"
#include <vector>
#include <wx/window.h>

class wxPaintEvent;

namespace parley {
namespace gui {

class LiveChart : public wxWindow
{
public:
	explicit LiveChart(wxWindow* parent);

	/// Shows these samples (oldest first) and repaints.
	void setSamples(std::vector<TrafficHistory::Sample> samples);
	const std::vector<TrafficHistory::Sample>& samples() const noexcept { return _samples; }

	/// Returns a round axis maximum at or above value (1, 2, 5 × 10^n).
	static double niceCeiling(double value);

private:
	void onPaint(wxPaintEvent& event);

	std::vector<TrafficHistory::Sample> _samples;
};

} // namespace gui
} // namespace parley

#endif
