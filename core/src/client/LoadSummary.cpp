//
// LoadSummary.cpp — the result of a load run as the client prints it: the verdict and the
// summary line (with the permessage-deflate part when it was offered).
//
#include "parley/client/LoadRun.h"
#include <cstdio>
#include <string>

namespace parley {
namespace client {

bool LoadSummary::ok(std::uint64_t requested) const
{
	return error.empty() && !cancelled && mismatched == 0 && missing == 0 && sent == requested
		&& received == requested && verified == requested;
}

std::string LoadSummary::line() const
{
	char buffer[512];
	std::snprintf(buffer, sizeof(buffer),
		"sent=%llu received=%llu verified=%llu mismatched=%llu missing=%llu elapsed=%.3fs rate=%.0f msg/s "
		"p50=%.0fus p99=%.0fus max=%.0fus",
		static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
		static_cast<unsigned long long>(verified), static_cast<unsigned long long>(mismatched),
		static_cast<unsigned long long>(missing), elapsedSeconds, messagesPerSecond, p50Micros, p99Micros,
		maxMicros);
	std::string out(buffer);
	if (!subprotocol.empty())
		out += " subprotocol=" + subprotocol;
	if (deflateOffered)
		out += " " + deflateText();
	if (cancelled)
		out += " (cancelled)";
	return out;
}

std::string LoadSummary::deflateText() const
{
	if (!deflateOffered)
		return {};
	const auto percent = [](std::uint64_t wire, std::uint64_t payload) {
		char buffer[32];
		if (payload == 0)
			return std::string("(-)");
		std::snprintf(buffer, sizeof(buffer), "(%.1f%%)", 100.0 * double(wire) / double(payload));
		return std::string(buffer);
	};
	std::string out = "deflate=";
	if (deflate())
		out += "on";
	else if (deflateConnections == 0)
		out += connections > 0 ? "declined" : "off";
	else
		out += "partial(" + std::to_string(deflateConnections) + "/" + std::to_string(connections) + ")";
	out += " payload-out=" + std::to_string(payloadBytesSent) + "B wire-out=" + std::to_string(wireBytesSent) + "B "
		+ percent(wireBytesSent, payloadBytesSent) + " payload-in=" + std::to_string(payloadBytesReceived) + "B wire-in="
		+ std::to_string(wireBytesReceived) + "B " + percent(wireBytesReceived, payloadBytesReceived);
	return out;
}

} // namespace client
} // namespace parley
