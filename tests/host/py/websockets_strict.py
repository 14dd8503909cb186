#!/usr/bin/python3
"""Exercises the host with python3-websockets (asyncio, strict about RFC 6455).

Usage: websockets_strict.py PORT. Checks text, binary, fragmented and 1 MiB messages on /echo,
the random-suffix format on /ws, ping/pong, the close handshake, and that invalid UTF-8 text is
answered with close code 1007. Prints one line per check; exit 0 only if all passed.
"""
import asyncio
import re
import sys

import websockets
from websockets.frames import Opcode

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


async def echo_checks(base):
    async with websockets.connect(base + "/echo", max_size=4 << 20, compression=None) as ws:
        await ws.send("héllo, wörld ✓")
        check("text echo", await ws.recv() == "héllo, wörld ✓")

        data = bytes(range(256)) * 4
        await ws.send(data)
        check("binary echo", await ws.recv() == data)

        await ws.send(["frag", "men", "ted ✓"])
        reply = await ws.recv()
        check("fragmented text", reply == "fragmented ✓", repr(reply))

        await ws.send([b"\x00\x01", b"\x02"])
        reply = await ws.recv()
        check("fragmented binary", reply == b"\x00\x01\x02", repr(reply))

        big_text = "x" * (1 << 20)
        await ws.send(big_text)
        reply = await ws.recv()
        check("1 MiB text", reply == big_text, f"{len(reply)} bytes")

        big_binary = bytes(i % 251 for i in range(1 << 20))
        await ws.send(big_binary)
        reply = await ws.recv()
        check("1 MiB binary", reply == big_binary, f"{len(reply)} bytes")

        await ws.send("")
        check("empty message", await ws.recv() == "")

        pong = await ws.ping(b"ping-data")
        await asyncio.wait_for(pong, 10)
        check("ping answered", True)

        await ws.close(code=4001, reason="bye")
        check("close echoes the code", ws.close_code == 4001, str(ws.close_code))


async def suffix_checks(base):
    async with websockets.connect(base + "/ws", compression=None) as ws:
        ok = True
        for i in range(100):
            message = f"strict {i}"
            await ws.send(message)
            reply = await ws.recv()
            m = re.fullmatch(r"(.*) (0|[1-9][0-9]{0,5})", reply, re.S)
            ok = ok and m is not None and m.group(1) == message
        check("random-suffix replies", ok)
        await ws.close()
        check("normal close", ws.close_code == 1000, str(ws.close_code))


async def invalid_utf8(base):
    async with websockets.connect(base + "/echo", compression=None) as ws:
        # The library will not send invalid text through send(); write the frame directly.
        await ws.write_frame(True, Opcode.TEXT, b"bad \xff\xfe text")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            check("invalid UTF-8 closes 1007", False, "got a reply")
        except websockets.exceptions.ConnectionClosed:
            pass
        await ws.wait_closed()
        check("invalid UTF-8 closes 1007", ws.close_code == 1007, str(ws.close_code))


async def main():
    base = f"ws://127.0.0.1:{int(sys.argv[1])}"
    await echo_checks(base)
    await suffix_checks(base)
    await invalid_utf8(base)
    print("websockets: " + ("all checks passed" if not failures else f"{len(failures)} failed"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
