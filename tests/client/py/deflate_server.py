#!/usr/bin/python3
"""A WebSocket echo server with permessage-deflate (RFC 7692) for the client tests, with
python3-websockets (Debian 12: 10.4), an independent implementation to check the client against.

Usage: deflate_server.py [--compression deflate|none] [--server-no-context-takeover]
                         [--client-no-context-takeover] [--server-max-window-bits N]
                         [--client-max-window-bits N] [--max-size BYTES]
Listens on 127.0.0.1, any free port; prints one line "listening on ws://127.0.0.1:PORT" once it
accepts connections, then for every upgrade request one line "request {"path": ..., "headers":
[[name, value], ...]}" (JSON, as received), and when a connection ends one line
"stats {"extensions": ..., "messages": N, "compressed": N, "wire_bytes": N, "payload_bytes": N}":
the messages it received, how many of them came compressed (RSV1 set), their frame payload bytes
on the wire and after inflating. Every message comes back (text as text, binary as binary),
compressed when deflate was negotiated.

  --compression none     decline permessage-deflate (answer without Sec-WebSocket-Extensions)
  --server-no-context-takeover, --client-no-context-takeover, --server-max-window-bits N,
  --client-max-window-bits N
                         answer with these parameters (without any of them: websockets' defaults,
                         server_max_window_bits=12 and client_max_window_bits=12 when offered)
  --max-size BYTES       close 1009 for a message larger than this once inflated (default: none)
It ends when it is terminated or its stdin closes.
"""
import argparse
import asyncio
import json
import signal
import sys

import websockets
from websockets import frames
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


class CountingFactory(ServerPerMessageDeflateFactory):
    """Counts, per connection, the data messages that reach the extension and their RSV1 bits."""

    def process_request_params(self, params, accepted_extensions):
        response, extension = super().process_request_params(params, accepted_extensions)
        stats = {"messages": 0, "compressed": 0, "wire_bytes": 0, "payload_bytes": 0}
        decode = extension.decode

        def counting_decode(frame, *, max_size=None):
            if frame.opcode in (frames.OP_TEXT, frames.OP_BINARY):
                stats["messages"] += 1
                stats["compressed"] += 1 if frame.rsv1 else 0
            if frame.opcode in (frames.OP_TEXT, frames.OP_BINARY, frames.OP_CONT):
                stats["wire_bytes"] += len(frame.data)
            decoded = decode(frame, max_size=max_size)
            if frame.opcode in (frames.OP_TEXT, frames.OP_BINARY, frames.OP_CONT):
                stats["payload_bytes"] += len(decoded.data)
            return decoded

        extension.decode = counting_decode
        extension.stats = stats
        return response, extension


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--server-no-context-takeover", action="store_true")
    parser.add_argument("--client-no-context-takeover", action="store_true")
    parser.add_argument("--server-max-window-bits", type=int, default=None)
    parser.add_argument("--client-max-window-bits", type=int, default=None)
    parser.add_argument("--max-size", type=int, default=None)
    args = parser.parse_args()

    extensions = None
    if args.compression == "deflate":
        custom = (args.server_no_context_takeover or args.client_no_context_takeover
                  or args.server_max_window_bits is not None or args.client_max_window_bits is not None)
        if custom:
            factory = CountingFactory(server_no_context_takeover=args.server_no_context_takeover,
                                      client_no_context_takeover=args.client_no_context_takeover,
                                      server_max_window_bits=args.server_max_window_bits,
                                      client_max_window_bits=args.client_max_window_bits)
        else:
            # websockets' own defaults for compression="deflate".
            factory = CountingFactory(server_max_window_bits=12, client_max_window_bits=12,
                                      compress_settings={"memLevel": 5})
        extensions = [factory]

    async def process_request(path, request_headers):
        record = {"path": path, "headers": [[k, v] for k, v in request_headers.raw_items()]}
        print("request " + json.dumps(record), flush=True)
        return None

    async def echo(ws, path=None):
        messages = 0
        try:
            async for message in ws:
                messages += 1
                await ws.send(message)
        except websockets.exceptions.ConnectionClosed:
            pass
        stats = {"messages": messages, "compressed": 0, "wire_bytes": 0, "payload_bytes": 0}
        for extension in ws.extensions:
            stats = dict(getattr(extension, "stats", stats))
        stats["extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        stats["close_code"] = ws.close_code
        print("stats " + json.dumps(stats), flush=True)

    async def serve():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

        # End when stdin closes too, so a test that dies never leaves the server behind.
        def stdin_closed():
            if not sys.stdin.buffer.read1(4096) and not stop.done():
                stop.set_result(None)
        if not sys.stdin.isatty():
            loop.add_reader(sys.stdin.fileno(), stdin_closed)

        async with websockets.serve(echo, "127.0.0.1", 0, process_request=process_request, compression=None,
                                    extensions=extensions, max_size=args.max_size, max_queue=None,
                                    ping_interval=None, close_timeout=1) as server:
            port = server.sockets[0].getsockname()[1]
            print(f"listening on ws://127.0.0.1:{port}", flush=True)
            await stop

    asyncio.run(serve())


if __name__ == "__main__":
    main()
