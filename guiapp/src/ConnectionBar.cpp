//
// ConnectionBar.cpp
//
#include "ConnectionBar.h"
#include "PayloadFormat.h"
#include "Settings.h"
#include "parley/client/Url.h"
#include <stdexcept>
#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/combobox.h>
#include <wx/filepicker.h>
#include <wx/sizer.h>
#include <wx/spinctrl.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>
#include <wx/tglbtn.h>

namespace parley {
namespace gui {

namespace {

std::string trim(const std::string& s)
{
	const auto first = s.find_first_not_of(" \t\r\n");
	if (first == std::string::npos) return {};
	const auto last = s.find_last_not_of(" \t\r\n");
	return s.substr(first, last - first + 1);
}

bool isTokenChar(char c)
{
	// RFC 7230 tchar
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

} // namespace

ConnectionBar::ConnectionBar(wxWindow* parent):
	wxPanel(parent, wxID_ANY)
{
	auto* top = new wxBoxSizer(wxVERTICAL);

	// Row 1: URL, Connect, state.
	auto* row1 = new wxBoxSizer(wxHORIZONTAL);
	row1->Add(new wxStaticText(this, wxID_ANY, "URL"), 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_url = new wxComboBox(this, wxID_ANY, wxEmptyString, wxDefaultPosition, wxSize(360, -1), 0, nullptr, wxTE_PROCESS_ENTER);
	_url->SetToolTip(L"ws://host:port/path, or wss://host:port/path for TLS — Enter connects");
	row1->Add(_url, 3, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_connect = new wxButton(this, wxID_ANY, "Connect", wxDefaultPosition, wxSize(110, -1));
	_connect->SetToolTip("Open the WebSocket connection (Disconnect closes it with 1000)");
	row1->Add(_connect, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 12);
	_state = new StateIndicator(this);
	row1->Add(_state, 2, wxALIGN_CENTER_VERTICAL);
	top->Add(row1, 0, wxEXPAND | wxALL, 6);

	// Row 2: Ping, Close with code and reason, options.
	auto* row2 = new wxBoxSizer(wxHORIZONTAL);
	_ping = new wxButton(this, wxID_ANY, "Ping");
	_ping->SetToolTip("Send a ping; the round-trip time shows when its pong arrives");
	row2->Add(_ping, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_rtt = new wxStaticText(this, wxID_ANY, L"RTT —", wxDefaultPosition, wxSize(110, -1));
	row2->Add(_rtt, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 18);
	row2->Add(new wxStaticText(this, wxID_ANY, "Close code"), 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	const wxString codes[] = {"1000 Normal closure", "1001 Going away", "1003 Unsupported data",
		"1008 Policy violation", "1009 Message too big", "1011 Internal error", "4000 Application"};
	_closeCode = new wxComboBox(this, wxID_ANY, codes[0], wxDefaultPosition, wxSize(190, -1), WXSIZEOF(codes), codes);
	_closeCode->SetToolTip("A code from the list or any number 1000-1003, 1007-1011, 3000-4999");
	row2->Add(_closeCode, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	row2->Add(new wxStaticText(this, wxID_ANY, "reason"), 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_closeReason = new wxTextCtrl(this, wxID_ANY, wxEmptyString, wxDefaultPosition, wxSize(160, -1));
	_closeReason->SetMaxLength(123);
	row2->Add(_closeReason, 1, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_close = new wxButton(this, wxID_ANY, "Close");
	_close->SetToolTip("Start the close handshake with this code and reason");
	row2->Add(_close, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 18);
	_optionsToggle = new wxToggleButton(this, wxID_ANY, L"Options ▸");
	_optionsToggle->SetToolTip("Subprotocols, Origin, token, extra headers, TLS certificates, compression, auto-reconnect");
	row2->Add(_optionsToggle, 0, wxALIGN_CENTER_VERTICAL);
	top->Add(row2, 0, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 6);

	// Options: subprotocol, headers, auto-reconnect; shown by the Options toggle.
	_options = new wxPanel(this, wxID_ANY);
	wxWindow* pane = _options;
	auto* grid = new wxFlexGridSizer(2, 4, 6);
	grid->AddGrowableCol(1, 1);
	grid->Add(new wxStaticText(pane, wxID_ANY, "Subprotocol"), 0, wxALIGN_CENTER_VERTICAL);
	_subprotocol = new wxTextCtrl(pane, wxID_ANY);
	_subprotocol->SetHint("offered in Sec-WebSocket-Protocol, e.g. chat.v2, chat.v1 (optional)");
	_subprotocol->SetToolTip("Subprotocols to offer, in order of preference (comma-separated); the server must select one");
	grid->Add(_subprotocol, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "Origin"), 0, wxALIGN_CENTER_VERTICAL);
	_origin = new wxTextCtrl(pane, wxID_ANY);
	_origin->SetHint("sent as Origin, e.g. https://app.example (optional)");
	_origin->SetToolTip("The Origin header a browser page at this origin would send");
	grid->Add(_origin, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "Token"), 0, wxALIGN_CENTER_VERTICAL);
	_token = new wxTextCtrl(pane, wxID_ANY, wxEmptyString, wxDefaultPosition, wxDefaultSize, wxTE_PASSWORD);
	_token->SetHint("sent as Authorization: Bearer <token> (optional, not saved)");
	_token->SetToolTip("A bearer token (e.g. a JWT), sent as 'Authorization: Bearer <token>'; it is not saved in the settings");
	grid->Add(_token, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "Headers"), 0, wxALIGN_TOP | wxTOP, 4);
	_headers = new wxTextCtrl(pane, wxID_ANY, wxEmptyString, wxDefaultPosition, wxSize(-1, 52), wxTE_MULTILINE);
	_headers->SetHint("Name: value, one per line (optional)");
	grid->Add(_headers, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "TLS"), 0, wxALIGN_CENTER_VERTICAL);
	_insecure = new wxCheckBox(pane, wxID_ANY, "Accept self-signed / untrusted certificates");
	_insecure->SetToolTip("wss:// only: connect whatever certificate the server shows (no verification) — "
		"for a host of your own under test");
	grid->Add(_insecure, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "CA file"), 0, wxALIGN_CENTER_VERTICAL);
	_caFile = new wxFilePickerCtrl(pane, wxID_ANY, wxEmptyString, "Choose a CA or self-signed certificate (PEM)",
		"PEM certificates (*.pem;*.crt;*.cer)|*.pem;*.crt;*.cer|All files|*", wxDefaultPosition, wxDefaultSize,
		wxFLP_OPEN | wxFLP_USE_TEXTCTRL);
	_caFile->SetToolTip("wss:// only: a PEM file of CA or self-signed certificates to trust besides the system's (optional)");
	if (_caFile->GetTextCtrl()) _caFile->GetTextCtrl()->SetHint("certificates to trust for wss:// besides the system's (PEM, optional)");
	grid->Add(_caFile, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "Compression"), 0, wxALIGN_CENTER_VERTICAL);
	_deflate = new wxCheckBox(pane, wxID_ANY, "Compress (permessage-deflate)");
	_deflate->SetToolTip("Offer permessage-deflate (RFC 7692) on connect and in load runs: when the server agrees, "
		"every message is compressed both ways; the log shows each message's size on the wire");
	grid->Add(_deflate, 1, wxEXPAND);
	grid->Add(new wxStaticText(pane, wxID_ANY, "Reconnect"), 0, wxALIGN_CENTER_VERTICAL);
	auto* reconnect = new wxBoxSizer(wxHORIZONTAL);
	_autoReconnect = new wxCheckBox(pane, wxID_ANY, "when the connection drops, retry");
	reconnect->Add(_autoReconnect, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 6);
	_attempts = new wxSpinCtrl(pane, wxID_ANY, "3", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 1, 100, 3);
	reconnect->Add(_attempts, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 4);
	reconnect->Add(new wxStaticText(pane, wxID_ANY, "times, every"), 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 4);
	_interval = new wxSpinCtrl(pane, wxID_ANY, "2000", wxDefaultPosition, wxDefaultSize, wxSP_ARROW_KEYS, 100, 600000, 2000);
	_interval->SetIncrement(500);
	reconnect->Add(_interval, 0, wxALIGN_CENTER_VERTICAL | wxRIGHT, 4);
	reconnect->Add(new wxStaticText(pane, wxID_ANY, "ms"), 0, wxALIGN_CENTER_VERTICAL);
	grid->Add(reconnect, 1, wxEXPAND);
	auto* paneSizer = new wxBoxSizer(wxVERTICAL);
	paneSizer->Add(grid, 1, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 6);
	pane->SetSizer(paneSizer);
	top->Add(_options, 0, wxEXPAND);
	_options->Hide();
	_optionsToggle->Bind(wxEVT_TOGGLEBUTTON, [this](wxCommandEvent&) { showOptions(_optionsToggle->GetValue()); });

	SetSizer(top);
	showState(client::SessionState::Idle, StateIndicator::Tone::Idle, "Not connected");
}

void ConnectionBar::load(const Settings& settings)
{
	_url->Clear();
	for (const std::string& url : settings.urlHistory) _url->Append(wxString::FromUTF8(url));
	_url->SetValue(wxString::FromUTF8(settings.url));
	_subprotocol->ChangeValue(wxString::FromUTF8(settings.subprotocol));
	_origin->ChangeValue(wxString::FromUTF8(settings.origin));
	_headers->ChangeValue(wxString::FromUTF8(settings.headers));
	_insecure->SetValue(settings.insecure);
	_caFile->SetPath(wxString::FromUTF8(settings.caFile));
	_deflate->SetValue(settings.deflate);
	_autoReconnect->SetValue(settings.autoReconnect);
	_attempts->SetValue(settings.reconnectAttempts);
	_interval->SetValue(settings.reconnectIntervalMs);
	const wxString code = wxString::Format("%d", settings.closeCode);
	_closeCode->SetValue(code);
	for (unsigned i = 0; i < _closeCode->GetCount(); ++i)
	{
		if (_closeCode->GetString(i).BeforeFirst(' ') == code) _closeCode->SetSelection(static_cast<int>(i));
	}
	_closeReason->ChangeValue(wxString::FromUTF8(settings.closeReason));
}

void ConnectionBar::store(Settings& settings) const
{
	settings.url = url();
	settings.urlHistory.clear();
	for (unsigned i = 0; i < _url->GetCount(); ++i) settings.urlHistory.push_back(_url->GetString(i).utf8_string());
	settings.subprotocol = trim(_subprotocol->GetValue().utf8_string());
	settings.origin = trim(_origin->GetValue().utf8_string());
	settings.headers = _headers->GetValue().utf8_string();
	settings.insecure = insecure();
	settings.caFile = caFile();
	settings.deflate = deflate();
	settings.autoReconnect = _autoReconnect->GetValue();
	settings.reconnectAttempts = _attempts->GetValue();
	settings.reconnectIntervalMs = _interval->GetValue();
	long code = 1000;
	if (_closeCode->GetValue().BeforeFirst(' ').ToLong(&code)) settings.closeCode = static_cast<int>(code);
	settings.closeReason = _closeReason->GetValue().utf8_string();
}

std::string ConnectionBar::url() const
{
	return trim(_url->GetValue().utf8_string());
}

void ConnectionBar::setUrl(const std::string& url)
{
	const wxString value = wxString::FromUTF8(url);
	const int found = _url->FindString(value, true);
	if (found != wxNOT_FOUND) _url->Delete(static_cast<unsigned>(found));
	_url->Insert(value, 0);
	while (_url->GetCount() > 15) _url->Delete(_url->GetCount() - 1);
	_url->SetValue(value);
}

bool ConnectionBar::connectOptions(client::ConnectOptions& options, std::string& error) const
{
	options = client::ConnectOptions{};
	options.url = url();
	if (options.url.empty())
	{
		error = "type a URL first, e.g. ws://127.0.0.1:8080/ws or wss://127.0.0.1:8443/ws";
		return false;
	}
	try
	{
		client::Url::parse(options.url);
	}
	catch (const std::exception& e)
	{
		error = e.what();
		return false;
	}
	options.subprotocols = client::splitSubprotocols(_subprotocol->GetValue().utf8_string());
	options.origin = trim(_origin->GetValue().utf8_string());
	options.token = trim(_token->GetValue().utf8_string());
	options.insecure = insecure();
	options.caFile = caFile();
	options.deflate.enabled = deflate();
	const std::string headers = _headers->GetValue().utf8_string();
	std::size_t start = 0;
	int lineNo = 0;
	while (start <= headers.size())
	{
		std::size_t end = headers.find('\n', start);
		if (end == std::string::npos) end = headers.size();
		const std::string line = trim(headers.substr(start, end - start));
		++lineNo;
		start = end + 1;
		if (line.empty()) continue;
		const auto colon = line.find(':');
		const std::string name = colon == std::string::npos ? line : trim(line.substr(0, colon));
		bool token = !name.empty();
		for (const char c : name) token = token && isTokenChar(c);
		if (colon == std::string::npos || !token)
		{
			error = "header line " + std::to_string(lineNo) + " '" + line + "' is not 'Name: value'";
			return false;
		}
		options.headers.emplace_back(name, trim(line.substr(colon + 1)));
	}
	try
	{
		client::checkHandshakeOptions(options);
	}
	catch (const std::invalid_argument& e)
	{
		error = e.what();
		return false;
	}
	return true;
}

bool ConnectionBar::closeRequest(std::uint16_t& code, std::string& reason, std::string& error) const
{
	long value = 0;
	const wxString text = _closeCode->GetValue().Trim().Trim(false).BeforeFirst(' ');
	if (!text.ToLong(&value))
	{
		error = "close code '" + _closeCode->GetValue().utf8_string() + "' is not a number";
		return false;
	}
	const bool allowed = (value >= 1000 && value <= 1003) || (value >= 1007 && value <= 1011) || (value >= 3000 && value <= 4999);
	if (!allowed)
	{
		error = "close code " + std::to_string(value) + " may not be sent (use 1000-1003, 1007-1011 or 3000-4999)";
		return false;
	}
	reason = _closeReason->GetValue().utf8_string();
	if (reason.size() > 123)
	{
		error = "close reason is " + std::to_string(reason.size()) + " bytes; at most 123 fit in a close frame";
		return false;
	}
	code = static_cast<std::uint16_t>(value);
	return true;
}

void ConnectionBar::showState(client::SessionState state, StateIndicator::Tone tone, const wxString& text)
{
	_state->set(tone, text);
	switch (state)
	{
	case client::SessionState::Idle:
	case client::SessionState::Closed:
		_connect->SetLabel("Connect");
		break;
	case client::SessionState::Connecting:
		_connect->SetLabel("Cancel");
		break;
	case client::SessionState::Open:
	case client::SessionState::Closing:
		_connect->SetLabel("Disconnect");
		break;
	}
	const bool open = state == client::SessionState::Open;
	_ping->Enable(open);
	_close->Enable(open);
}

void ConnectionBar::showRtt(const wxString& text)
{
	_rtt->SetLabel(text);
}

void ConnectionBar::showOptions(bool show)
{
	_optionsToggle->SetValue(show);
	_optionsToggle->SetLabel(show ? L"Options ▾" : L"Options ▸");
	_options->Show(show);
	// The bar changes height: the panel holding it lays out again.
	Layout();
	if (GetParent()) GetParent()->Layout();
}

bool ConnectionBar::insecure() const
{
	return _insecure->GetValue();
}

std::string ConnectionBar::caFile() const
{
	return trim(_caFile->GetPath().utf8_string());
}

bool ConnectionBar::deflate() const
{
	return _deflate->GetValue();
}

bool ConnectionBar::autoReconnect() const
{
	return _autoReconnect->GetValue();
}

int ConnectionBar::reconnectAttempts() const
{
	return _attempts->GetValue();
}

int ConnectionBar::reconnectIntervalMs() const
{
	return _interval->GetValue();
}

} // namespace gui
} // namespace parley
