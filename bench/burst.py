#!/usr/bin/python3
"""The memory burst against one running echo server (used by bench/memory.sh).

  warm-up  one connection, one small text message echoed, closed; wait --settle s; VmRSS = before
  burst    --conns connections at once, each sends --msgs binary messages of --size bytes and
           reads every echo back (one sender and one reader thread per connection); every echo is
           compared byte for byte with what that connection sent
  peak     VmHWM of the server right after the last echo (clients still open); then the clients
           close (close handshake), wait --quiet s, VmRSS = after

Raw sockets, RFC 6455 client frames masked with the all-zero key (valid masking that leaves the
payload as it is, so Python does no XOR). Replies may come fragmented (Beast auto-fragments);
pings are ignored; a close frame or a reset during the burst fails the run with that reason.
Prints one JSON line: before_kb, peak_kb, after_kb, end_kb (VmRSS right after the burst),
burst_s, ok, error.

Usage: burst.py --port P --pid PID [--path /echo] [--conns 8] [--msgs 2] [--size 16000000]
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def proc_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


class Conn:
    def __init__(self, port, path, timeout, connect_for=0.0):
        deadline = time.monotonic() + connect_for
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = bytearray()
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:" + str(port).encode() +
                          b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = bytearray()
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("connection closed during the handshake")
            head += chunk
            if len(head) > 65536:
                raise RuntimeError("handshake response too long")
        end = head.index(b"\r\n\r\n") + 4
        self.pending = head[end:]
        lines = bytes(head[:end]).decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise RuntimeError(f"handshake refused: {lines[0]}")
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if not any(l.lower().startswith("sec-websocket-accept:") and l.split(":", 1)[1].strip() == accept
                   for l in lines):
            raise RuntimeError("bad Sec-WebSocket-Accept")
        self.send_lock = threading.Lock()

    def _read_into(self, mv):
        if self.pending:
            n = min(len(self.pending), len(mv))
            mv[:n] = self.pending[:n]
            del self.pending[:n]
            mv = mv[n:]
        while len(mv):
            n = self.sock.recv_into(mv)
            if n == 0:
                raise RuntimeError("connection closed by the server")
            mv = mv[n:]

    def _read(self, n):
        b = bytearray(n)
        self._read_into(memoryview(b))
        return b

    def _header(self):
        b0, b1 = self._read(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
        if b1 & 0x80:
            raise RuntimeError("the server masked a frame")
        return b0 & 0x80, b0 & 0x0F, length

    def send_frame(self, opcode, payload, tail=None):
        """One unfragmented frame; the payload is payload (+ tail), masked with key 0."""
        n = len(payload) + (len(tail) if tail is not None else 0)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
        with self.send_lock:
            self.sock.sendall(head + b"\0\0\0\0" + bytes(payload))
            if tail is not None:
                self.sock.sendall(tail)

    def read_message(self, limit):
        """One data message (fragments joined) into a fresh bytearray; returns (opcode, data)."""
        data = bytearray(limit)
        got = 0
        opcode = None
        while True:
            fin, op, length = self._header()
            if op >= 8:
                payload = self._read(length)
                if op == 8:
                    code = struct.unpack(">H", payload[:2])[0] if length >= 2 else None
                    reason = bytes(payload[2:]).decode("utf-8", "replace")
                    raise RuntimeError(f"server closed: {code} {reason}".strip())
                continue  # ping or pong: nothing to answer for the measurement
            if opcode is None:
                if op == 0:
                    raise RuntimeError("continuation frame without a start")
                opcode = op
            elif op != 0:
                raise RuntimeError("new message inside a fragmented one")
            if got + length > limit:
                raise RuntimeError(f"echo longer than sent ({got + length} > {limit} bytes)")
            self._read_into(memoryview(data)[got:got + length])
            got += length
            if fin:
                return opcode, memoryview(data)[:got]

    def close(self, wait=2.0):
        try:
            self.send_frame(8, struct.pack(">H", 1000))
            self.sock.settimeout(wait)
            end = time.monotonic() + wait
            while time.monotonic() < end:
                fin, op, length = self._header()
                self._read(length)
                if op == 8:
                    break
        except Exception:
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--msgs", type=int, default=2)
    ap.add_argument("--size", type=int, default=16_000_000)
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--quiet", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=60.0, help="per socket operation")
    a = ap.parse_args()

    row = {"before_kb": None, "peak_kb": None, "after_kb": None, "end_kb": None,
           "burst_s": None, "ok": False, "error": None}

    def finish():
        print(json.dumps(row), flush=True)

    # Warm-up (also waits for the server to accept).
    try:
        warm = Conn(a.port, a.path, a.timeout, connect_for=15.0)
        warm.send_frame(1, b"warm-up")
        op, data = warm.read_message(64)
        if op != 1 or bytes(data) != b"warm-up":
            raise RuntimeError(f"warm-up echo wrong: opcode {op}, {bytes(data)[:32]!r}")
        warm.close()
    except Exception as e:
        row["error"] = f"warm-up: {e}"
        return finish()
    time.sleep(a.settle)
    row["before_kb"] = proc_kb(a.pid, "VmRSS")

    # The payloads: one random block; message m of connection c starts with its own 16-byte id.
    tail = os.urandom(a.size - 16)
    errors = []
    conns = []
    t0 = time.monotonic()
    try:
        for _ in range(a.conns):
            conns.append(Conn(a.port, a.path, a.timeout))
    except Exception as e:
        errors.append(f"connect #{len(conns) + 1}: {e}")

    def ident(c, m):
        return f"c{c:07d}m{m:07d}".encode()

    def sender(c, conn):
        try:
            for m in range(a.msgs):
                conn.send_frame(2, ident(c, m), tail)
        except Exception as e:
            errors.append(f"conn {c} send: {e}")

    verified = [0]
    vlock = threading.Lock()

    def reader(c, conn):
        try:
            for m in range(a.msgs):
                op, data = conn.read_message(a.size)
                if op != 2:
                    raise RuntimeError(f"echo {m} has opcode {op}")
                if len(data) != a.size:
                    raise RuntimeError(f"echo {m} has {len(data)} bytes, sent {a.size}")
                if bytes(data[:16]) != ident(c, m) or bytes(data[16:]) != tail:
                    raise RuntimeError(f"echo {m} differs from what was sent")
                del data
                with vlock:
                    verified[0] += 1
        except Exception as e:
            errors.append(f"conn {c} read: {e}")

    if not errors:
        threads = []
        for c, conn in enumerate(conns):
            threads.append(threading.Thread(target=sender, args=(c, conn)))
            threads.append(threading.Thread(target=reader, args=(c, conn)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    row["burst_s"] = round(time.monotonic() - t0, 3)
    row["verified"] = verified[0]
    try:
        row["peak_kb"] = proc_kb(a.pid, "VmHWM")
        row["end_kb"] = proc_kb(a.pid, "VmRSS")
    except Exception as e:
        errors.append(f"server gone after the burst: {e}")
    for conn in conns:
        conn.close()
    del tail
    time.sleep(a.quiet)
    try:
        row["after_kb"] = proc_kb(a.pid, "VmRSS")
    except Exception as e:
        errors.append(f"server gone after the quiet: {e}")
    row["ok"] = not errors and verified[0] == a.conns * a.msgs
    if errors:
        row["error"] = "; ".join(sorted(set(errors))[:4]) + (f" (+{len(set(errors)) - 4} more)" if len(set(errors)) > 4 else "")
    elif not row["ok"]:
        row["error"] = f"{verified[0]} of {a.conns * a.msgs} echoes verified"
    finish()


if __name__ == "__main__":
    sys.exit(main())
