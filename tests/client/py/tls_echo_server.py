#!/usr/bin/python3
"""A TLS WebSocket echo server for the client tests, with python3-websockets (Debian 12: 10.4).

Usage: tls_echo_server.py --cert CERT --key KEY [--port N]
Listens on 127.0.0.1 (port 0 = any free port), prints one line "listening on wss://127.0.0.1:PORT"
once it accepts connections, and echoes every message on every path (text as text, binary as
binary) until it is terminated or its stdin closes. Unknown arguments are ignored, so it can stand
in for parley-host, which is started with --config=... and --port=....
"""
import argparse
import asyncio
import signal
import ssl
import sys

import websockets


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.exceptions.ConnectionClosed:
        pass


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port", type=int, default=0)
    args, _ = parser.parse_known_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)

    stop = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # End when stdin closes too, so a test that dies never leaves the server behind.
    def stdin_closed():
        if not sys.stdin.buffer.read1(4096) and not stop.done():
            stop.set_result(None)
    if not sys.stdin.isatty():
        loop.add_reader(sys.stdin.fileno(), stdin_closed)

    async with websockets.serve(echo, "127.0.0.1", args.port, ssl=context, compression=None,
                                max_size=None, max_queue=None, ping_interval=None, close_timeout=1) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on wss://127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
