//
// LivePanel.h — the live view: the chart plus counters for messages sent and received, bytes
// and errors (interactive session and load runs together).
//
#ifndef PARLEY_GUI_LIVEPANEL_INCLUDED
#define PARLEY_GUI_LIVEPANEL_INCLUDED

#include "LiveChart.h"
#include <cstdint>
#include <wx/panel.h>

class wxButton;
class wxStaticText;

namespace parley {
namespace gui {

struct TrafficCounters
{
	std::uint64_t sent = 0;
	std::uint64_t received = 0;
	std::uint64_t bytes = 0;   ///< payload bytes of the interactive session's frames
	std::uint64_t errors = 0;
};

class LivePanel : public wxPanel
{
public:
	explicit LivePanel(wxWindow* parent);

	/// Shows the counters.
	void showCounters(const TrafficCounters& counters);

	LiveChart* chart() const noexcept { return _chart; }
	wxButton* resetButton() const noexcept { return _reset; }
	/// Returns the counters line shown ("Sent 3 · Received 3 · ...").
	wxString countersText() const;

private:
	LiveChart* _chart;
	wxStaticText* _sent;
	wxStaticText* _received;
	wxStaticText* _bytes;
	wxStaticText* _errors;
	wxButton* _reset;
};

} // namespace gui
} // namespace parley

#endif
