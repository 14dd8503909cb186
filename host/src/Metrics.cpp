//
// Metrics.cpp
//
#include "parley/host/Metrics.h"

namespace parley {
namespace host {

std::string Metrics::toText() const
{
	std::string text;
	auto line = [&text](const char* name, std::uint64_t value) {
		text += name;
		text += ' ';
		text += std::to_string(value);
		text += '\n';
	};
	line("connections", connections);
	line("handshakes_in_progress", handshakes);
	line("connections_total", connectionsTotal);
	line("connections_refused", connectionsRefused);
	line("handshakes_refused", handshakesRefused);
	line("handshake_timeouts", handshakeTimeouts);
	line("tls_handshake_failures", tlsFailures);
	line("origin_refusals", originRefusals);
	line("subprotocol_refusals", subprotocolRefusals);
	line("peer_limit_refusals", peerLimitRefusals);
	line("gate_refusals", gateRefusals);
	line("gate_failures", gateFailures);
	line("token_expiries", tokenExpiries);
	line("accept_out_of_descriptors", acceptExhausted);
	line("messages_in", messagesIn);
	line("messages_out", messagesOut);
	line("bytes_in", bytesIn);
	line("bytes_out", bytesOut);
	line("pings", pings);
	line("errors_protocol", protocolErrors);
	line("errors_responder", responderErrors);
	line("errors_io", ioErrors);
	line("backpressure_pauses", backpressurePauses);
	line("backpressure_closes", backpressureCloses);
	line("idle_closes", idleCloses);
	line("ping_timeouts", pingTimeouts);
	line("max_pending_output_bytes", maxPendingOutput);
	line("deflate_messages_out", deflateMessagesOut);
	line("deflate_payload_bytes_out", deflatePayloadBytesOut);
	line("deflate_wire_bytes_out", deflateWireBytesOut);
	line("inflate_messages_in", inflateMessagesIn);
	line("inflate_wire_bytes_in", inflateWireBytesIn);
	line("inflate_payload_bytes_in", inflatePayloadBytesIn);
	auto codes = [&text](const char* name, const std::map<std::uint16_t, std::uint64_t>& byCode) {
		for (const auto& entry : byCode)
		{
			std::string code = entry.first == 3000 ? "3xxx" : entry.first == 4000 ? "4xxx"
				: entry.first == 0 ? "other" : std::to_string(entry.first);
			text += name;
			text += "{code=\"" + code + "\"} " + std::to_string(entry.second) + "\n";
		}
	};
	for (std::size_t i = 0; i < connectionsByLoop.size(); ++i)
		text += "loop_connections{loop=\"" + std::to_string(i) + "\"} " + std::to_string(connectionsByLoop[i]) + "\n";
	codes("closes_sent", closesSent);
	codes("closes_received", closesReceived);
	for (const auto& entry : refusedByStatus)
	{
		text += "handshakes_refused_by_status{status=\"" + (entry.first ? std::to_string(entry.first) : std::string("other")) +
			"\"} " + std::to_string(entry.second) + "\n";
	}
	return text;
}

} // namespace host
} // namespace parley
