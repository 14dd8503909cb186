//
// LiveChart.cpp
//
#include "LiveChart.h"
#include <algorithm>
#include <cmath>
#include <memory>
#include <wx/dcbuffer.h>
#include <wx/graphics.h>
#include <wx/settings.h>

namespace parley {
namespace gui {

namespace {

const wxColour kRateColour(40, 110, 220);
const wxColour kRttColour(235, 120, 20);

wxString axisText(double value)
{
	auto trimmed = [](double v, const char* unit) {
		wxString text = wxString::Format("%.2f", v);
		while (text.EndsWith("0")) text.RemoveLast();
		if (text.EndsWith(".")) text.RemoveLast();
		return text + unit;
	};
	if (value >= 1000000) return trimmed(value / 1000000, "M");
	if (value >= 1000) return trimmed(value / 1000, "k");
	if (value >= 10 || value == std::floor(value)) return wxString::Format("%.0f", value);
	wxString text = wxString::Format("%.2f", value);
	while (text.EndsWith("0")) text.RemoveLast();
	return text;
}

} // namespace

LiveChart::LiveChart(wxWindow* parent):
	wxWindow(parent, wxID_ANY, wxDefaultPosition, wxSize(-1, 150), wxFULL_REPAINT_ON_RESIZE)
{
	SetBackgroundStyle(wxBG_STYLE_PAINT);
	SetMinSize(wxSize(200, 130));
	Bind(wxEVT_PAINT, &LiveChart::onPaint, this);
}

void LiveChart::setSamples(std::vector<TrafficHistory::Sample> samples)
{
	_samples = std::move(samples);
	Refresh(false);
}

double LiveChart::niceCeiling(double value)
{
	if (!(value > 0)) return 1;
	const double power = std::pow(10.0, std::floor(std::log10(value)));
	for (const double step : {1.0, 2.0, 5.0, 10.0})
	{
		if (value <= step * power * (1 + 1e-9)) return step * power;
	}
	return 10 * power;
}

void LiveChart::onPaint(wxPaintEvent&)
{
	wxAutoBufferedPaintDC dc(this);
	const wxSize size = GetClientSize();
	dc.SetBackground(wxBrush(wxColour(252, 252, 253)));
	dc.Clear();
	std::unique_ptr<wxGraphicsContext> gc(wxGraphicsContext::Create(dc));
	if (!gc || size.x < 80 || size.y < 60) return;

	wxFont font = wxSystemSettings::GetFont(wxSYS_DEFAULT_GUI_FONT);
	font.SetPointSize(std::max(7, font.GetPointSize() - 2));
	const double left = 44, right = 52, top = 20, bottom = 18;
	const double w = size.x - left - right, h = size.y - top - bottom;
	if (w <= 10 || h <= 10) return;

	double maxRate = 0, maxRtt = 0;
	for (const auto& s : _samples)
	{
		maxRate = std::max(maxRate, s.messages);
		maxRtt = std::max(maxRtt, s.rttMicros / 1000.0);
	}
	const double rateTop = niceCeiling(std::max(maxRate, 10.0));
	const double rttTop = niceCeiling(std::max(maxRtt, 1.0));

	// Grid and axes.
	gc->SetPen(wxPen(wxColour(225, 228, 232), 1));
	gc->SetFont(font, wxColour(110, 110, 110));
	for (int i = 0; i <= 4; ++i)
	{
		const double y = top + h * i / 4.0;
		gc->StrokeLine(left, y, left + w, y);
		const wxString l = axisText(rateTop * (4 - i) / 4.0);
		const wxString r = axisText(rttTop * (4 - i) / 4.0);
		double tw, th;
		gc->GetTextExtent(l, &tw, &th);
		gc->DrawText(l, left - 6 - tw, y - th / 2);
		gc->DrawText(r, left + w + 6, y - th / 2);
	}
	double tw, th;
	gc->GetTextExtent("now", &tw, &th);
	gc->DrawText("-60 s", left, top + h + 2);
	gc->DrawText("-30 s", left + w / 2 - tw, top + h + 2);
	gc->DrawText("now", left + w - tw, top + h + 2);

	const std::size_t n = _samples.size();
	auto xAt = [&](std::size_t i) { return n > 1 ? left + w * static_cast<double>(i) / static_cast<double>(n - 1) : left; };

	// Messages per second: filled area with a line on top.
	if (n > 1)
	{
		wxGraphicsPath area = gc->CreatePath();
		wxGraphicsPath line = gc->CreatePath();
		area.MoveToPoint(xAt(0), top + h);
		for (std::size_t i = 0; i < n; ++i)
		{
			const double y = top + h - h * std::min(1.0, _samples[i].messages / rateTop);
			area.AddLineToPoint(xAt(i), y);
			if (i == 0) line.MoveToPoint(xAt(i), y);
			else line.AddLineToPoint(xAt(i), y);
		}
		area.AddLineToPoint(xAt(n - 1), top + h);
		area.CloseSubpath();
		gc->SetBrush(wxBrush(wxColour(kRateColour.Red(), kRateColour.Green(), kRateColour.Blue(), 50)));
		gc->SetPen(*wxTRANSPARENT_PEN);
		gc->FillPath(area);
		gc->SetPen(wxPen(kRateColour, 2));
		gc->StrokePath(line);
	}

	// Round-trip time: a line through the seconds that measured one, dots where it is alone.
	gc->SetPen(wxPen(kRttColour, 2));
	gc->SetBrush(wxBrush(kRttColour));
	wxGraphicsPath rtt = gc->CreatePath();
	bool drawing = false;
	for (std::size_t i = 0; i < n; ++i)
	{
		if (_samples[i].rttMicros < 0)
		{
			drawing = false;
			continue;
		}
		const double y = top + h - h * std::min(1.0, _samples[i].rttMicros / 1000.0 / rttTop);
		const bool prevGap = i == 0 || _samples[i - 1].rttMicros < 0;
		const bool nextGap = i + 1 >= n || _samples[i + 1].rttMicros < 0;
		if (prevGap && nextGap) gc->DrawEllipse(xAt(i) - 2.5, y - 2.5, 5, 5);
		if (!drawing) rtt.MoveToPoint(xAt(i), y);
		else rtt.AddLineToPoint(xAt(i), y);
		drawing = true;
	}
	gc->StrokePath(rtt);

	// Legend.
	wxFont bold = font;
	bold.SetWeight(wxFONTWEIGHT_BOLD);
	double x = left;
	const double ly = 3;
	auto legend = [&](const wxColour& colour, const wxString& text) {
		gc->SetPen(*wxTRANSPARENT_PEN);
		gc->SetBrush(wxBrush(colour));
		gc->DrawRectangle(x, ly + 3, 10, 10);
		gc->SetFont(bold, wxColour(60, 60, 60));
		double ew, eh;
		gc->GetTextExtent(text, &ew, &eh);
		gc->DrawText(text, x + 14, ly);
		x += 14 + ew + 16;
	};
	const double lastRate = n ? _samples[n - 1].messages : 0;
	double lastRtt = -1;
	for (std::size_t i = n; i-- > 0;)
	{
		if (_samples[i].rttMicros >= 0)
		{
			lastRtt = _samples[i].rttMicros;
			break;
		}
	}
	legend(kRateColour, wxString::Format("messages/s  (%s)", axisText(lastRate)));
	legend(kRttColour, lastRtt >= 0 ? wxString::Format("RTT ms  (%.2f)", lastRtt / 1000.0) : wxString("RTT ms"));
}

} // namespace gui
} // namespace parley
