//
// StateIndicator.cpp
//
#include "StateIndicator.h"
#include <wx/sizer.h>
#include <wx/stattext.h>

namespace parley {
namespace gui {

StateIndicator::StateIndicator(wxWindow* parent):
	wxPanel(parent, wxID_ANY)
{
	_dot = new wxStaticText(this, wxID_ANY, wxString::FromUTF8("\xE2\x97\x8F"));  // ●
	wxFont big = _dot->GetFont();
	big.SetPointSize(big.GetPointSize() + 4);
	_dot->SetFont(big);
	_label = new wxStaticText(this, wxID_ANY, "Not connected", wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_END);
	wxFont bold = _label->GetFont();
	bold.SetWeight(wxFONTWEIGHT_BOLD);
	_label->SetFont(bold);
	auto* sizer = new wxBoxSizer(wxHORIZONTAL);
	sizer->Add(_dot, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 4);
	sizer->Add(_label, 1, wxALIGN_CENTER_VERTICAL);
	SetSizer(sizer);
	set(Tone::Idle, "Not connected");
}

void StateIndicator::set(Tone tone, const wxString& text)
{
	_tone = tone;
	switch (tone)
	{
	case Tone::Idle: _dot->SetForegroundColour(wxColour(150, 150, 150)); break;
	case Tone::Busy: _dot->SetForegroundColour(wxColour(230, 160, 0)); break;
	case Tone::Good: _dot->SetForegroundColour(wxColour(30, 170, 60)); break;
	case Tone::Bad: _dot->SetForegroundColour(wxColour(210, 40, 40)); break;
	}
	_label->SetLabelText(text);
	_label->SetToolTip(text);
	_dot->Refresh();
	Layout();
}

wxString StateIndicator::text() const
{
	return _label->GetLabelText();
}

} // namespace gui
} // namespace parley
