//
// StateIndicator.h — a coloured dot and a line of text: the connection state at a glance.
//
#ifndef PARLEY_GUI_STATEINDICATOR_INCLUDED
#define PARLEY_GUI_STATEINDICATOR_INCLUDED

#include <wx/panel.h>

class wxStaticText;

namespace parley {
namespace gui {

class StateIndicator : public wxPanel
{
public:
	/// How the dot is coloured.
	enum class Tone { Idle, Busy, Good, Bad };

	explicit StateIndicator(wxWindow* parent);

	/// Shows text with a dot of the given tone.
	void set(Tone tone, const wxString& text);
	/// Returns the text shown.
	wxString text() const;
	Tone tone() const noexcept { return _tone; }

private:
	wxStaticText* _dot;
	wxStaticText* _label;
	Tone _tone = Tone::Idle;
};

} // namespace gui
} // namespace parley

#endif
