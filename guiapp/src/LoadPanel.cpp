//
// LoadPanel.cpp
//
#include "LoadPanel.h"
#include "PayloadFormat.h"
#include "Settings.h"
#include <algorithm>
#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/choice.h>
#include <wx/gauge.h>
#include <wx/sizer.h>
#include <wx/spinctrl.h>
#include <wx/statbox.h>
#include <wx/stattext.h>

namespace parley {
namespace gui {

namespace {

wxString micros(double us)
{
	if (us < 1000) return wxString::Format(L"%.0f µs", us);
	if (us < 1000000) return wxString::Format("%.2f ms", us / 1000);
	return wxString::Format("%.2f s", us / 1000000);
}

wxString count(std::uint64_t n)
{
	return wxString::FromUTF8(groupDigits(n));
}

} // namespace

LoadPanel::LoadPanel(wxWindow* parent):
	wxPanel(parent, wxID_ANY)
{
	auto* top = new wxBoxSizer(wxVERTICAL);

	auto* opts = new wxFlexGridSizer(4, 4, 6);
	opts->AddGrowableCol(1, 1);
	opts->AddGrowableCol(3, 1);
	auto label = [this](const char* text) { return new wxStaticText(this, wxID_ANY, text); };
	_count = new wxSpinCtrl(this, wxID_ANY, "10000", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 1, 100000000, 10000);
	_count->SetToolTip("How many messages to send (each one's reply is verified)");
	_window = new wxSpinCtrl(this, wxID_ANY, "64", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 1, 65536, 64);
	_window->SetToolTip("Messages in flight per connection (1 = strict request/reply)");
	_conns = new wxSpinCtrl(this, wxID_ANY, "1", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 1, 256, 1);
	_conns->SetToolTip("Connections the messages are spread over (each runs its own window)");
	_size = new wxSpinCtrl(this, wxID_ANY, "0", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 0, 16 << 20, 0);
	_size->SetToolTip("Payload bytes (0 = just '<conn>:<seq>')");
	const wxString expects[] = {"Prefix (any route)", "Echo", "Random suffix"};
	_expect = new wxChoice(this, wxID_ANY, wxDefaultPosition, wxDefaultSize, WXSIZEOF(expects), expects);
	_expect->SetSelection(0);
	_expect->SetToolTip("How a reply is checked: starts with the message; equals it; message + ' ' + integer");
	_binary = new wxCheckBox(this, wxID_ANY, "binary frames");
	opts->Add(label("Messages"), 0, wxALIGN_CENTER_VERTICAL);
	opts->Add(_count, 1, wxEXPAND);
	opts->Add(label("Window"), 0, wxALIGN_CENTER_VERTICAL);
	opts->Add(_window, 1, wxEXPAND);
	opts->Add(label("Conns"), 0, wxALIGN_CENTER_VERTICAL);
	opts->Add(_conns, 1, wxEXPAND);
	opts->Add(label("Size (B)"), 0, wxALIGN_CENTER_VERTICAL);
	opts->Add(_size, 1, wxEXPAND);
	opts->Add(label("Check"), 0, wxALIGN_CENTER_VERTICAL);
	opts->Add(_expect, 1, wxEXPAND);
	opts->AddSpacer(0);
	opts->Add(_binary, 0, wxALIGN_CENTER_VERTICAL);
	top->Add(opts, 0, wxEXPAND | wxALL, 6);

	auto* buttons = new wxBoxSizer(wxHORIZONTAL);
	_run = new wxButton(this, wxID_ANY, "Send 10,000");
	_run->SetToolTip("Run the verified exchange against the URL above on its own connection(s)");
	wxFont bold = _run->GetFont();
	bold.SetWeight(wxFONTWEIGHT_BOLD);
	_run->SetFont(bold);
	_cancel = new wxButton(this, wxID_ANY, "Cancel");
	_cancel->Disable();
	buttons->Add(_run, 1, wxRIGHT, 6);
	buttons->Add(_cancel, 0);
	top->Add(buttons, 0, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 6);

	_gauge = new wxGauge(this, wxID_ANY, 1000, wxDefaultPosition, wxSize(-1, 18), wxGA_HORIZONTAL | wxGA_SMOOTH);
	top->Add(_gauge, 0, wxEXPAND | wxLEFT | wxRIGHT, 6);
	_progress = new wxStaticText(this, wxID_ANY, "Ready.", wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_END);
	top->Add(_progress, 0, wxEXPAND | wxALL, 6);

	auto* box = new wxStaticBoxSizer(wxVERTICAL, this, "Result");
	wxWindow* boxWin = box->GetStaticBox();
	_verdict = new wxStaticText(boxWin, wxID_ANY, "No run yet.", wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_END);
	_verdict->SetFont(bold);
	box->Add(_verdict, 0, wxEXPAND | wxALL, 4);
	auto* grid = new wxFlexGridSizer(4, 2, 12);
	grid->AddGrowableCol(1, 1);
	grid->AddGrowableCol(3, 1);
	const char* names[FieldCount] = {"Sent", "Received", "Verified", "Mismatched", "Missing", "Elapsed", "Messages/s", "Latency p50", "Latency p99", "Latency max"};
	// Two columns: counts on the left, time figures on the right.
	const Field order[] = {Sent, Elapsed, Received, Rate, Verified, P50, Mismatched, P99, Missing, Max};
	for (Field f : order)
	{
		grid->Add(new wxStaticText(boxWin, wxID_ANY, names[f]), 0, wxALIGN_CENTER_VERTICAL);
		_values[f] = new wxStaticText(boxWin, wxID_ANY, L"—", wxDefaultPosition, wxSize(80, -1));
		wxFont mono = _values[f]->GetFont();
		mono.SetWeight(wxFONTWEIGHT_BOLD);
		_values[f]->SetFont(mono);
		grid->Add(_values[f], 1, wxEXPAND | wxALIGN_CENTER_VERTICAL);
	}
	box->Add(grid, 0, wxEXPAND | wxALL, 4);
	_mismatch = new wxStaticText(boxWin, wxID_ANY, wxEmptyString, wxDefaultPosition, wxDefaultSize, wxST_ELLIPSIZE_END);
	box->Add(_mismatch, 0, wxEXPAND | wxALL, 4);
	top->Add(box, 0, wxEXPAND | wxALL, 6);
	top->AddStretchSpacer();
	SetSizer(top);

	_count->Bind(wxEVT_SPINCTRL, [this](wxSpinEvent&) { updateRunLabel(); });
	_count->Bind(wxEVT_TEXT, [this](wxCommandEvent&) { updateRunLabel(); });
}

void LoadPanel::load(const Settings& settings)
{
	_count->SetValue(static_cast<int>(std::min<std::uint64_t>(settings.loadCount, 100000000)));
	_window->SetValue(settings.loadWindow);
	_conns->SetValue(settings.loadConnections);
	_size->SetValue(settings.loadSize);
	_expect->SetSelection(settings.loadExpect);
	_binary->SetValue(settings.loadBinary);
	updateRunLabel();
}

void LoadPanel::store(Settings& settings) const
{
	settings.loadCount = static_cast<std::uint64_t>(_count->GetValue());
	settings.loadWindow = _window->GetValue();
	settings.loadConnections = _conns->GetValue();
	settings.loadSize = _size->GetValue();
	settings.loadExpect = _expect->GetSelection();
	settings.loadBinary = _binary->GetValue();
}

client::LoadOptions LoadPanel::options(const std::string& url) const
{
	client::LoadOptions o;
	o.url = url;
	o.count = static_cast<std::uint64_t>(_count->GetValue());
	o.window = static_cast<unsigned>(_window->GetValue());
	o.conns = static_cast<unsigned>(_conns->GetValue());
	o.size = static_cast<std::size_t>(_size->GetValue());
	o.binary = _binary->GetValue();
	switch (_expect->GetSelection())
	{
	case 1: o.expect = client::Expect::Echo; break;
	case 2: o.expect = client::Expect::RandomSuffix; break;
	default: o.expect = client::Expect::Prefix; break;
	}
	return o;
}

void LoadPanel::showStarted(std::uint64_t n)
{
	_requested = n;
	_run->Disable();
	_cancel->Enable();
	for (wxWindow* w : std::initializer_list<wxWindow*>{_count, _window, _conns, _size, _expect, _binary}) w->Disable();
	_gauge->SetValue(0);
	_progress->SetLabel(L"Connecting…");
	_verdict->SetForegroundColour(GetForegroundColour());
	_verdict->SetLabel(wxString::Format(L"Running: %s messages…", count(n)));
	_mismatch->SetLabel(wxEmptyString);
	for (wxStaticText* v : _values) v->SetLabel(L"—");
}

void LoadPanel::showProgress(const client::LoadProgress& p)
{
	const double fraction = _requested ? static_cast<double>(p.verified + p.mismatched) / static_cast<double>(_requested) : 0;
	_gauge->SetValue(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000));
	const double rate = p.elapsedSeconds > 0 ? static_cast<double>(p.received) / p.elapsedSeconds : 0;
	_progress->SetLabel(wxString::Format(L"%s / %s verified · %.1f s · %s msg/s · RTT %s", count(p.verified), count(_requested),
		p.elapsedSeconds, count(static_cast<std::uint64_t>(rate)), p.recentRttMicros > 0 ? micros(p.recentRttMicros) : wxString(L"—")));
	setValue(Sent, count(p.sent));
	setValue(Received, count(p.received));
	setValue(Verified, count(p.verified));
	setValue(Mismatched, count(p.mismatched));
	setValue(Elapsed, wxString::Format("%.2f s", p.elapsedSeconds));
	setValue(Rate, count(static_cast<std::uint64_t>(rate)));
}

void LoadPanel::showSummary(const client::LoadSummary& s)
{
	_run->Enable();
	_cancel->Disable();
	for (wxWindow* w : std::initializer_list<wxWindow*>{_count, _window, _conns, _size, _expect, _binary}) w->Enable();
	const double fraction = _requested ? static_cast<double>(s.verified + s.mismatched) / static_cast<double>(_requested) : 0;
	_gauge->SetValue(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000));
	setValue(Sent, count(s.sent));
	setValue(Received, count(s.received));
	setValue(Verified, count(s.verified));
	setValue(Mismatched, count(s.mismatched));
	setValue(Missing, count(s.missing));
	setValue(Elapsed, wxString::Format("%.3f s", s.elapsedSeconds));
	setValue(Rate, count(static_cast<std::uint64_t>(s.messagesPerSecond)));
	setValue(P50, micros(s.p50Micros));
	setValue(P99, micros(s.p99Micros));
	setValue(Max, micros(s.maxMicros));
	const bool ok = s.ok(_requested);
	wxString verdict;
	if (ok)
		verdict = wxString::FromUTF8("✔ ") + count(s.verified) + " of " + count(_requested) + " verified";
	else if (s.cancelled)
		verdict = wxString::FromUTF8("■ Cancelled after ") + count(s.verified) + " verified";
	else if (!s.error.empty())
		verdict = wxString::FromUTF8("✘ Stopped: ") + wxString::FromUTF8(s.error);
	else
		verdict = wxString::FromUTF8("✘ ") + count(s.verified) + " of " + count(_requested) + " verified";
	_verdict->SetForegroundColour(ok ? wxColour(20, 140, 50) : wxColour(200, 40, 40));
	_verdict->SetLabel(verdict);
	_verdict->SetToolTip(verdict);
	_mismatch->SetLabel(s.firstMismatch.empty() ? wxString() : wxString::FromUTF8("first mismatch: " + s.firstMismatch));
	_progress->SetLabel(wxString::FromUTF8(s.line()));
	_progress->SetToolTip(wxString::FromUTF8(s.line()));
	Layout();
}

wxString LoadPanel::value(Field field) const
{
	return _values[field]->GetLabel();
}

wxString LoadPanel::verdict() const
{
	return _verdict->GetLabel();
}

void LoadPanel::updateRunLabel()
{
	_run->SetLabel("Send " + count(static_cast<std::uint64_t>(std::max(1, _count->GetValue()))));
}

void LoadPanel::setValue(Field field, const wxString& text)
{
	if (_values[field]->GetLabel() != text) _values[field]->SetLabel(text);
}

} // namespace gui
} // namespace parley
