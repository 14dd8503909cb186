#!/usr/bin/python3
"""Admission with Debian's python3-websockets and python3-websocket against parley-host.

Usage: admission_clients.py PORT JWT_SECRET. The host serves /proto (echo; subprotocols
graphql-transport-ws, chat.v1), /private (whoami behind the jwt gate with JWT_SECRET) and
server.origins with http://localhost:*. Prints one line per check; exit 0 only if all passed.
"""
import asyncio
import json
import sys

import websocket
import websockets

from jwt_token import make_token

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def parse(text):
    try:
        return json.loads(text)
    except ValueError:
        return {"unparsed": text}


def status_of(error):
    return getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", None)


async def with_websockets(base, secret):
    async with websockets.connect(base + "/proto", subprotocols=["mqtt", "chat.v1"], compression=None) as ws:
        check("websockets: subprotocol selected", ws.subprotocol == "chat.v1", repr(ws.subprotocol))
        await ws.send("over chat.v1")
        check("websockets: echo on the subprotocol", await ws.recv() == "over chat.v1")
    try:
        async with websockets.connect(base + "/proto", subprotocols=["mqtt"], compression=None):
            check("websockets: unknown subprotocol refused", False, "opened")
    except websockets.exceptions.InvalidStatusCode as e:
        check("websockets: unknown subprotocol refused with 400", e.status_code == 400, str(e))
    async with websockets.connect(base + "/proto", origin="http://localhost:3000", compression=None) as ws:
        await ws.send("from localhost")
        check("websockets: allowed origin", await ws.recv() == "from localhost")
    try:
        async with websockets.connect(base + "/proto", origin="https://evil.example", compression=None):
            check("websockets: foreign origin refused", False, "opened")
    except websockets.exceptions.InvalidStatusCode as e:
        check("websockets: foreign origin refused with 403", e.status_code == 403, str(e))
    token = make_token(secret, "py-user", name="Py")
    async with websockets.connect(base + "/private", extra_headers={"Authorization": "Bearer " + token},
                                  compression=None) as ws:
        await ws.send("who am i")
        info = parse(await ws.recv())
        check("websockets: jwt admits, whoami names the subject", info.get("identity") == "py-user", repr(info))
    try:
        async with websockets.connect(base + "/private", extra_headers={"Authorization": "Bearer " + token + "x"},
                                      compression=None):
            check("websockets: bad signature refused", False, "opened")
    except websockets.exceptions.InvalidStatusCode as e:
        check("websockets: bad signature refused with 401", e.status_code == 401, str(e))


def with_websocket_client(base, secret):
    ws = websocket.create_connection(base + "/proto", subprotocols=["chat.v1"], suppress_origin=True)
    check("websocket-client: subprotocol selected", ws.getsubprotocol() == "chat.v1", repr(ws.getsubprotocol()))
    ws.send("wsc")
    check("websocket-client: echo", ws.recv() == "wsc")
    ws.close()
    try:
        websocket.create_connection(base + "/private", suppress_origin=True)
        check("websocket-client: no token refused", False, "opened")
    except websocket.WebSocketBadStatusException as e:
        check("websocket-client: no token refused with 401", status_of(e) == 401, str(e))
    token = make_token(secret, "wsc-user")
    ws = websocket.create_connection(base + "/private?access_token=" + token, suppress_origin=True)
    ws.send("who")
    info = parse(ws.recv())
    check("websocket-client: access_token admits", info.get("identity") == "wsc-user", repr(info))
    ws.close()


def main():
    port, secret = sys.argv[1], sys.argv[2]
    base = f"ws://127.0.0.1:{port}"
    asyncio.run(asyncio.wait_for(with_websockets(base, secret), 60))
    with_websocket_client(base, secret)
    print("all admission checks passed" if not failures else f"{len(failures)} check(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
