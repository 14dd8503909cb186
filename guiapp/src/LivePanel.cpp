//
// LivePanel.cpp
//
#include "LivePanel.h"
#include "PayloadFormat.h"
#include <wx/button.h>
#include <wx/sizer.h>
#include <wx/stattext.h>

namespace parley {
namespace gui {

namespace {

wxString bytesText(std::uint64_t bytes)
{
	if (bytes < 10 * 1024) return wxString::FromUTF8(groupDigits(bytes) + " B");
	if (bytes < 10ull * 1024 * 1024) return wxString::Format("%.1f KiB", static_cast<double>(bytes) / 1024);
	return wxString::Format("%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024));
}

/// Exact below a million, then "1.17 M" (the result panel has the exact figures).
wxString countText(std::uint64_t n)
{
	if (n < 1000000) return wxString::FromUTF8(groupDigits(n));
	return wxString::Format("%.2f M", static_cast<double>(n) / 1e6);
}

} // namespace

LivePanel::LivePanel(wxWindow* parent):
	wxPanel(parent, wxID_ANY)
{
	auto* top = new wxBoxSizer(wxVERTICAL);
	auto* counters = new wxBoxSizer(wxHORIZONTAL);
	auto add = [&](const char* name, wxStaticText*& value) {
		counters->Add(new wxStaticText(this, wxID_ANY, name), 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 4);
		value = new wxStaticText(this, wxID_ANY, "0");
		wxFont bold = value->GetFont();
		bold.SetWeight(wxFONTWEIGHT_BOLD);
		value->SetFont(bold);
		counters->Add(value, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 12);
	};
	add("Sent", _sent);
	add("Received", _received);
	add("Bytes", _bytes);
	add("Errors", _errors);
	_bytes->SetToolTip("Payload bytes of the interactive connection's frames");
	counters->AddStretchSpacer();
	_reset = new wxButton(this, wxID_ANY, "Reset", wxDefaultPosition, wxDefaultSize, wxBU_EXACTFIT);
	_reset->SetToolTip("Reset the counters and the chart");
	counters->Add(_reset, 0, wxALIGN_CENTER_VERTICAL);
	top->Add(counters, 0, wxEXPAND | wxLEFT | wxRIGHT | wxTOP, 6);
	_chart = new LiveChart(this);
	top->Add(_chart, 1, wxEXPAND | wxALL, 6);
	SetSizer(top);
}

void LivePanel::showCounters(const TrafficCounters& c)
{
	bool changed = false;
	auto set = [&changed](wxStaticText* label, const wxString& text) {
		if (label->GetLabel() == text) return;
		label->SetLabel(text);
		changed = true;
	};
	set(_sent, countText(c.sent));
	set(_received, countText(c.received));
	set(_bytes, bytesText(c.bytes));
	set(_errors, wxString::FromUTF8(groupDigits(c.errors)));
	_errors->SetForegroundColour(c.errors ? wxColour(200, 40, 40) : GetForegroundColour());
	if (changed) Layout();  // the numbers grow wider
}

wxString LivePanel::countersText() const
{
	return wxString::Format(L"Sent %s · Received %s · Bytes %s · Errors %s", _sent->GetLabel(), _received->GetLabel(),
		_bytes->GetLabel(), _errors->GetLabel());
}

} // namespace gui
} // namespace parley
