//
// LogListCtrl.cpp
//
#include "LogListCtrl.h"
#include "PayloadFormat.h"

namespace parley {
namespace gui {

LogListCtrl::LogListCtrl(wxWindow* parent, const MessageLog& log):
	wxListCtrl(parent, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_VIRTUAL | wxLC_HRULES),
	_log(log)
{
	AppendColumn("Time", wxLIST_FORMAT_LEFT, FromDIP(100));
	AppendColumn("Direction", wxLIST_FORMAT_LEFT, FromDIP(92));
	AppendColumn("Kind", wxLIST_FORMAT_LEFT, FromDIP(60));
	AppendColumn("Length", wxLIST_FORMAT_RIGHT, FromDIP(70));
	AppendColumn("On wire", wxLIST_FORMAT_RIGHT, FromDIP(104));
	AppendColumn("Preview", wxLIST_FORMAT_LEFT, FromDIP(500));
	_sent.SetTextColour(wxColour(20, 120, 50));
	_received.SetTextColour(wxColour(25, 80, 170));
	_control.SetTextColour(wxColour(130, 90, 10));
	_info.SetTextColour(wxColour(110, 110, 110));
	_error.SetTextColour(wxColour(200, 30, 30));
	_error.SetBackgroundColour(wxColour(255, 238, 238));
	Bind(wxEVT_SIZE, [this](wxSizeEvent& event) {
		fitPreviewColumn();
		event.Skip();
	});
}

void LogListCtrl::refreshRows(bool follow)
{
	const long count = static_cast<long>(_log.visibleCount());
	if (GetItemCount() != count) SetItemCount(count);
	if (follow && count > 0) EnsureVisible(count - 1);
	Refresh(false);
}

long LogListCtrl::selectedRow() const
{
	return GetNextItem(-1, wxLIST_NEXT_ALL, wxLIST_STATE_SELECTED);
}

wxString LogListCtrl::OnGetItemText(long item, long column) const
{
	if (item < 0 || static_cast<std::size_t>(item) >= _log.visibleCount()) return wxEmptyString;
	const LogEntry& e = _log.visible(static_cast<std::size_t>(item));
	switch (column)
	{
	case Time: return e.timeText();
	case Direction:
		switch (e.origin)
		{
		case LogOrigin::Sent: return wxString::FromUTF8("↑ sent");
		case LogOrigin::Received: return wxString::FromUTF8("↓ received");
		case LogOrigin::Local: return wxString::FromUTF8("• local");
		}
		return wxEmptyString;
	case Kind: return toString(e.kind);
	case Length: return e.origin == LogOrigin::Local ? wxString() : wxString::FromUTF8(groupDigits(e.payload.size()));
	case Wire: return wxString::FromUTF8(e.wireText());
	case Preview: return wxString::FromUTF8(e.preview(300));
	default: return wxEmptyString;
	}
}

wxItemAttr* LogListCtrl::OnGetItemAttr(long item) const
{
	if (item < 0 || static_cast<std::size_t>(item) >= _log.visibleCount()) return nullptr;
	const LogEntry& e = _log.visible(static_cast<std::size_t>(item));
	if (e.kind == LogKind::Error) return &_error;
	if (e.kind == LogKind::Info) return &_info;
	if (e.isControl()) return &_control;
	return e.origin == LogOrigin::Sent ? &_sent : &_received;
}

void LogListCtrl::fitPreviewColumn()
{
	int used = 0;
	for (int c = 0; c < Preview; ++c) used += GetColumnWidth(c);
	const int width = GetClientSize().x - used - 4;
	if (width > FromDIP(120)) SetColumnWidth(Preview, width);
}

} // namespace gui
} // namespace parley
