#!/usr/bin/python3
"""A WebSocket echo server with admission rules, for the client tests, with python3-websockets
(Debian 12: 10.4): what the client sends in its opening handshake, and what it makes of the answer.

Usage: admission_server.py [--protocols A,B] [--answer-protocol NAME] [--token T] [--origin O]
                           [--refuse STATUS [--body TEXT] [--authenticate VALUE]]
Listens on 127.0.0.1, any free port; prints one line "listening on ws://127.0.0.1:PORT" once it
accepts connections, then for every upgrade request one line
"request {"path": ..., "headers": [[name, value], ...]}" (JSON, the headers as received, in order)
before it decides. Admitted connections get every message back (text as text, binary as binary).

  --protocols A,B         select the first of these that the client offered (none if it offered
                          none of them: websockets then answers without Sec-WebSocket-Protocol)
  --answer-protocol NAME  always answer "Sec-WebSocket-Protocol: NAME", offered or not (wrong on purpose)
  --token T               refuse 401 (with WWW-Authenticate) unless "Authorization: Bearer T"
  --origin O              refuse 403 unless "Origin: O"
  --refuse STATUS         refuse every upgrade with STATUS, --body TEXT as the body, and
                          --authenticate VALUE as WWW-Authenticate
It ends when it is terminated or its stdin closes.
"""
import argparse
import asyncio
import http
import json
import signal
import sys

import websockets
import websockets.legacy.server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocols", default="")
    parser.add_argument("--answer-protocol", default=None)
    parser.add_argument("--token", default=None)
    parser.add_argument("--origin", default=None)
    parser.add_argument("--refuse", type=int, default=0)
    parser.add_argument("--body", default="")
    parser.add_argument("--authenticate", default=None)
    args = parser.parse_args()
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]

    def refusal(status, body, extra=()):
        headers = [("Content-Type", "text/plain; charset=utf-8")] + list(extra)
        return http.HTTPStatus(status), headers, (body + "\n").encode() if body else b""

    async def process_request(path, request_headers):
        record = {"path": path, "headers": [[k, v] for k, v in request_headers.raw_items()]}
        print("request " + json.dumps(record), flush=True)
        if args.refuse:
            extra = [("WWW-Authenticate", args.authenticate)] if args.authenticate else []
            return refusal(args.refuse, args.body, extra)
        if args.token is not None and request_headers.get("Authorization") != "Bearer " + args.token:
            return refusal(401, "invalid or missing token",
                           [("WWW-Authenticate", 'Bearer realm="parley-test", error="invalid_token"')])
        if args.origin is not None and request_headers.get("Origin") != args.origin:
            return refusal(403, "origin %s not allowed" % request_headers.get("Origin", "(none)"))
        return None

    def select(client_protocols, server_protocols):
        for p in server_protocols:
            if p in client_protocols:
                return p
        return None

    class Protocol(websockets.legacy.server.WebSocketServerProtocol):
        def process_subprotocol(self, headers, available_subprotocols):
            if args.answer_protocol is not None:
                return args.answer_protocol
            return super().process_subprotocol(headers, available_subprotocols)

    async def echo(ws, path=None):
        try:
            async for message in ws:
                await ws.send(message)
        except websockets.exceptions.ConnectionClosed:
            pass

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

        async with websockets.serve(echo, "127.0.0.1", 0, create_protocol=Protocol,
                                    process_request=process_request, subprotocols=protocols or None,
                                    select_subprotocol=select, compression=None, max_size=None,
                                    max_queue=None, ping_interval=None, close_timeout=1) as server:
            port = server.sockets[0].getsockname()[1]
            print(f"listening on ws://127.0.0.1:{port}", flush=True)
            await stop

    asyncio.run(serve())


if __name__ == "__main__":
    main()
