//
// LoadPanel.h — the load run: "Send N" with window, connections, payload size and reply check;
// a progress gauge, Cancel, and the result panel (sent, received, verified, mismatched, missing,
// elapsed, messages/s, latency p50/p99/max). The run itself is LoadWorker's.
//
#ifndef PARLEY_GUI_LOADPANEL_INCLUDED
#define PARLEY_GUI_LOADPANEL_INCLUDED

#include "parley/client/LoadRun.h"
#include <array>
#include <cstdint>
#include <string>
#include <wx/panel.h>

class wxButton;
class wxCheckBox;
class wxChoice;
class wxGauge;
class wxSpinCtrl;
class wxStaticText;

namespace parley {
namespace gui {

struct Settings;

class LoadPanel : public wxPanel
{
public:
	/// The figures of the result panel.
	enum Field { Sent, Received, Verified, Mismatched, Missing, Elapsed, Rate, P50, P99, Max, FieldCount };

	explicit LoadPanel(wxWindow* parent);

	void load(const Settings& settings);
	void store(Settings& settings) const;

	/// Returns the options for a run against url, from the controls.
	client::LoadOptions options(const std::string& url) const;

	/// Puts the panel in the running state (Cancel enabled, gauge at zero).
	void showStarted(std::uint64_t count);
	/// Shows progress of a running run.
	void showProgress(const client::LoadProgress& progress);
	/// Shows the final summary and returns to the idle state.
	void showSummary(const client::LoadSummary& summary);

	/// Returns the text of one figure in the result panel.
	wxString value(Field field) const;
	/// Returns the verdict line ("10,000 of 10,000 verified", "stopped: ...").
	wxString verdict() const;

	wxButton* runButton() const noexcept { return _run; }
	wxButton* cancelButton() const noexcept { return _cancel; }
	wxSpinCtrl* countSpin() const noexcept { return _count; }
	wxSpinCtrl* windowSpin() const noexcept { return _window; }
	wxSpinCtrl* connsSpin() const noexcept { return _conns; }
	wxChoice* expectChoice() const noexcept { return _expect; }
	wxGauge* gauge() const noexcept { return _gauge; }

private:
	void updateRunLabel();
	void setValue(Field field, const wxString& text);

	wxSpinCtrl* _count;
	wxSpinCtrl* _window;
	wxSpinCtrl* _conns;
	wxSpinCtrl* _size;
	wxChoice* _expect;
	wxCheckBox* _binary;
	wxButton* _run;
	wxButton* _cancel;
	wxGauge* _gauge;
	wxStaticText* _progress;
	wxStaticText* _verdict;
	wxStaticText* _mismatch;
	std::array<wxStaticText*, FieldCount> _values{};
	std::uint64_t _requested = 0;
};

} // namespace gui
} // namespace parley

#endif
