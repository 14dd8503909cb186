#!/usr/bin/env python3
"""Talks to parley-host over wss:// with two real third-party clients, each trusting the test CA.

Usage: tls_clients.py PORT CA_FILE [COUNT]
- python3-websockets (asyncio): COUNT text and COUNT binary messages on /echo, checked one by one,
  a 1 MiB message, then a clean close (1000);
- python3-websocket (websocket-client): COUNT messages on /ws (random-suffix replies), checked.
Prints one line per client and "all tls checks passed"; exits 1 on the first failure.
"""
import asyncio
import re
import ssl
import sys

import websocket
import websockets


def context(ca_file):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    ctx.check_hostname = True  # the certificate names IP 127.0.0.1
    return ctx


async def with_websockets(port, ca_file, count):
    async with websockets.connect(f"wss://127.0.0.1:{port}/echo", ssl=context(ca_file), max_size=None,
                                  compression=None) as ws:
        for i in range(count):
            text = f"websockets {i} " + "x" * (i % 300)
            await ws.send(text)
            reply = await ws.recv()
            if reply != text:
                raise SystemExit(f"websockets: message {i}: got {reply!r}")
            data = bytes([i % 256]) * (i % 1000 + 1)
            await ws.send(data)
            reply = await ws.recv()
            if reply != data:
                raise SystemExit(f"websockets: binary {i}: wrong reply ({len(reply)} bytes)")
        big = b"\x01\x02\x03" * (1 << 18) + b"!"
        await ws.send(big)
        if await ws.recv() != big:
            raise SystemExit("websockets: 1 MiB message came back wrong")
        version = ws.transport.get_extra_info("ssl_object").version()
    if ws.close_code != 1000:
        raise SystemExit(f"websockets: closed with {ws.close_code}")
    print(f"python3-websockets over {version}: {2 * count} messages and 1 MiB verified, closed 1000")


def with_websocket_client(port, ca_file, count):
    ws = websocket.create_connection(f"wss://127.0.0.1:{port}/ws", sslopt={"ca_certs": ca_file,
                                                                          "cert_reqs": ssl.CERT_REQUIRED})
    pattern = re.compile(r"^(.*) (0|[1-9][0-9]{0,5})$")
    for i in range(count):
        text = f"websocket-client {i}"
        ws.send(text)
        reply = ws.recv()
        match = pattern.match(reply)
        if not match or match.group(1) != text:
            raise SystemExit(f"websocket-client: message {i}: got {reply!r}")
    ws.close()
    print(f"python3-websocket: {count} random-suffix replies verified")


def main():
    port, ca_file = int(sys.argv[1]), sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    asyncio.run(with_websockets(port, ca_file, count))
    with_websocket_client(port, ca_file, count)
    print("all tls checks passed")


if __name__ == "__main__":
    main()
