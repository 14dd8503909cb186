#!/usr/bin/python3
"""Sends 1,000 messages to ws://127.0.0.1:PORT/ws with websocket-client (python3-websocket) and
checks that every reply is the message, one space and an integer in 0..999999.

Usage: websocket_client_1000.py PORT [COUNT]. Prints one summary line; exit 0 only if every reply
was verified.
"""
import re
import sys

import websocket

REPLY = re.compile(r"^(.*) (0|[1-9][0-9]{0,5})$", re.S)


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=15)
    verified = 0
    for i in range(count):
        message = f"message {i} from websocket-client"
        ws.send(message)
        reply = ws.recv()
        m = REPLY.match(reply) if isinstance(reply, str) else None
        if m and m.group(1) == message and 0 <= int(m.group(2)) <= 999999:
            verified += 1
        else:
            print(f"mismatch: sent {message!r}, got {reply!r}")
    ws.close()
    print(f"websocket-client: sent {count}, verified {verified}")
    return 0 if verified == count else 1


if __name__ == "__main__":
    sys.exit(main())
