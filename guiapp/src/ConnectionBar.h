//
// ConnectionBar.h — the strip at the top: URL, Connect/Disconnect, the state indicator, Ping with
// its round-trip time, Close with a chosen code and reason, and the connection options
// (subprotocols, Origin, bearer token, extra headers, TLS certificates, permessage-deflate,
// auto-reconnect) in a collapsible pane.
//
#ifndef PARLEY_GUI_CONNECTIONBAR_INCLUDED
#define PARLEY_GUI_CONNECTIONBAR_INCLUDED

#include "StateIndicator.h"
#include "parley/client/Session.h"
#include <cstdint>
#include <string>
#include <wx/panel.h>

class wxButton;
class wxCheckBox;
class wxComboBox;
class wxFilePickerCtrl;
class wxSpinCtrl;
class wxStaticText;
class wxTextCtrl;
class wxToggleButton;

namespace parley {
namespace gui {

struct Settings;

class ConnectionBar : public wxPanel
{
public:
	explicit ConnectionBar(wxWindow* parent);

	/// Fills the controls from settings.
	void load(const Settings& settings);
	/// Copies the controls into settings.
	void store(Settings& settings) const;

	/// Returns the URL as typed, trimmed.
	std::string url() const;
	/// Puts url in the URL box (and its history).
	void setUrl(const std::string& url);
	/// Builds the options for Session::connect from the controls (subprotocols, Origin, token,
	/// headers and TLS settings included). Returns false and sets error (one line) for a malformed
	/// URL, header line, subprotocol, origin or token.
	bool connectOptions(client::ConnectOptions& options, std::string& error) const;
	/// Reads the chosen close code and reason. Returns false and sets error for a code a client
	/// may not send (RFC 6455 7.4: 1000-1003, 1007-1011, 3000-4999) or a reason over 123 bytes.
	bool closeRequest(std::uint16_t& code, std::string& reason, std::string& error) const;

	/// Shows a session state (with text such as "Closed — 1006 Abnormal closure: refused")
	/// and enables the buttons that make sense in it.
	void showState(client::SessionState state, StateIndicator::Tone tone, const wxString& text);
	/// Shows the last ping's round-trip time.
	void showRtt(const wxString& text);

	/// Shows or hides the connection options (subprotocol, headers, TLS, auto-reconnect).
	void showOptions(bool show);

	/// Returns true when "Accept self-signed / untrusted certificates" is checked (wss://).
	bool insecure() const;
	/// Returns the CA file to trust for wss:// ("" = none), trimmed.
	std::string caFile() const;
	/// Returns true when "Compress (permessage-deflate)" is checked.
	bool deflate() const;

	bool autoReconnect() const;
	int reconnectAttempts() const;
	int reconnectIntervalMs() const;

	wxComboBox* urlBox() const noexcept { return _url; }
	wxButton* connectButton() const noexcept { return _connect; }
	wxButton* pingButton() const noexcept { return _ping; }
	wxButton* closeButton() const noexcept { return _close; }
	wxComboBox* closeCodeBox() const noexcept { return _closeCode; }
	wxTextCtrl* closeReasonBox() const noexcept { return _closeReason; }
	wxTextCtrl* subprotocolBox() const noexcept { return _subprotocol; }
	wxTextCtrl* headersBox() const noexcept { return _headers; }
	wxTextCtrl* originBox() const noexcept { return _origin; }
	wxTextCtrl* tokenBox() const noexcept { return _token; }
	wxCheckBox* autoReconnectBox() const noexcept { return _autoReconnect; }
	wxCheckBox* insecureBox() const noexcept { return _insecure; }
	wxFilePickerCtrl* caFilePicker() const noexcept { return _caFile; }
	wxCheckBox* deflateBox() const noexcept { return _deflate; }
	wxToggleButton* optionsToggle() const noexcept { return _optionsToggle; }
	StateIndicator* indicator() const noexcept { return _state; }
	wxStaticText* rttLabel() const noexcept { return _rtt; }

private:
	wxComboBox* _url;
	wxButton* _connect;
	StateIndicator* _state;
	wxButton* _ping;
	wxStaticText* _rtt;
	wxComboBox* _closeCode;
	wxTextCtrl* _closeReason;
	wxButton* _close;
	wxToggleButton* _optionsToggle;
	wxPanel* _options;
	wxTextCtrl* _subprotocol;
	wxTextCtrl* _headers;
	wxTextCtrl* _origin;
	wxTextCtrl* _token;
	wxCheckBox* _insecure;
	wxFilePickerCtrl* _caFile;
	wxCheckBox* _deflate;
	wxCheckBox* _autoReconnect;
	wxSpinCtrl* _attempts;
	wxSpinCtrl* _interval;
};

} // namespace gui
} // namespace parley

#endif
