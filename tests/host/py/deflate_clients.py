#!/usr/bin/python3
"""permessage-deflate (RFC 7692) with Debian's python3-websockets and python3-websocket against
parley-host.

Usage: deflate_clients.py PORT ADMIN_PORT CASE [server-context]. The host serves /echo-deflate
(echo, deflate on), /echo (echo, deflate off), /ws-deflate (random-suffix, deflate on) and /room
(broadcast, deflate on) with engine.deflate.min_size 64, and its /metrics on ADMIN_PORT. CASE
names the host's deflate settings and what the client offers:

  default          host defaults; the library's default offer (client_max_window_bits)
                   -> server_no_context_takeover; client_max_window_bits=15
  server-context   host server_no_context_takeover = false; default offer
                   -> client_max_window_bits=15 (the host keeps its window)
  client-reset     host defaults; the client offers client_no_context_takeover
                   -> server_no_context_takeover; client_no_context_takeover; client_max_window_bits=15
  host-asks-reset  host client_no_context_takeover = true (asks every client); default offer
                   -> server_no_context_takeover; client_no_context_takeover; client_max_window_bits=15
  windows          host server_no_context_takeover = false, server_max_window_bits = 12,
                   client_max_window_bits = 12, level 9; the client asks server_max_window_bits=11
                   -> server_max_window_bits=11; client_max_window_bits=12
  min-size-0       host defaults but min_size = 0: every reply compressed, the empty ones too
  suffix           host defaults (or server-context); 5,000 messages on /ws-deflate, whose
                   replies quote the message and add a number
  bomb             host engine.max_message_size = 1 MiB; 2 MiB of zeros closes 1009, the
                   connections beside it go on
  off              host defaults; /echo (deflate off): no extension, plain frames
  mixed            host defaults; a deflate client and a plain one on /echo-deflate at once
  broadcast        host defaults (or server-context: pass "broadcast server-context"); six
                   receivers on /room, deflate with several windows and takeovers, and plain
  websocket-client python3-websocket (offers no extension) on /echo-deflate

The echo cases exchange 10,000 messages (JSON-like text around 1 KiB, repeats of it, small text
and binary below min_size, random and patterned binary, 100 KiB+ messages, the 63/64-byte edge,
every 40th in three fragments with a ping between them) pipelined in batches. Every reply must
equal the message; every reply of min_size bytes or more must arrive compressed (RSV1) and every
smaller one plain; the window and context-takeover settings are checked on the bytes (a repeated
message shrinks to a fraction of the first only where a window is kept; data that repeats 2,000
bytes back compresses by the repeat only in a window of 12 bits or more); and the host's /metrics
deflate and inflate counters must grow by exactly what the client saw on the wire. Then 300
messages and a close at once: all replies must come before the close. Prints one line per check;
exit 0 only if all passed.
"""
import asyncio
import json
import random
import re
import struct
import sys
import time
import urllib.request

import websocket
import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate
from websockets.frames import Opcode

MIN_SIZE = 64         # engine.deflate.min_size of the messages' edge cases
COUNT = 10000
BATCH = 64
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)
    return ok


# ---------------------------------------------------------------------------------------------
# Messages

WORDS = ["parley", "deflate", "window", "context", "takeover", "message", "route", "echo", "frame",
         "loop", "zlib", "café", "naïve", "Zürich", "日本語", "🎉", "ünïcödé", "compression", "ratio"]
NAMES = ["ada", "grace", "linus", "ken", "dennis", "barbara", "edsger", "margaret", "донна", "李"]
TAGS = ["alpha", "beta", "gamma", "delta", "omega", "prod", "dev", "eu", "us", "ap"]


def record(rng):
    return {"id": rng.randrange(10 ** 6), "user": rng.choice(NAMES),
            "text": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 9))),
            "score": round(rng.random() * 100, 3), "tags": rng.sample(TAGS, 2), "ok": rng.random() < 0.5}


def json_text(rng, size):
    """A JSON document of at least `size` UTF-8 bytes (non-ASCII included)."""
    parts, total = [], 0
    while total < size:
        s = json.dumps(record(rng), ensure_ascii=False)
        parts.append(s)
        total += len(s.encode()) + 1
    return '{"kind":"batch","records":[' + ",".join(parts) + "]}"


def pattern_bytes(rng, size):
    """Compressible binary: little-endian records with small, repetitive fields."""
    n = size // 8 + 1
    base = rng.randrange(1 << 20)
    return b"".join(struct.pack("<IhBB", base + i, rng.randrange(-40, 40), i & 3, 7) for i in range(n))[:size]


def far_repeat(rng):
    """Random bytes whose second half repeats the first 2,000 bytes back: zlib reaches that far
    only with a window of 12 bits or more (it keeps 262 bytes of lookahead), so a compressor that
    uses a bigger window than agreed makes data a smaller agreed window cannot inflate."""
    block = rng.randbytes(2000)
    return block + block


def messages(seed, count):
    """`count` (label, message) pairs, the same for the same seed."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        i = len(out)
        if i % 100 == 37:
            k = (i // 100) % 3
            if k == 0:
                out.append(("large-json", json_text(rng, rng.randrange(100 << 10, 200 << 10))))
            elif k == 1:
                out.append(("large-random", rng.randbytes(rng.randrange(100 << 10, 160 << 10))))
            else:
                out.append(("large-pattern", pattern_bytes(rng, rng.randrange(100 << 10, 300 << 10))))
            continue
        edge = i % 250
        if edge == 1:
            out.append(("edge", "é" * 31 + "a"))      # 63 bytes (32 characters): plain
        elif edge == 2:
            out.append(("edge", "é" * 32))            # 64 bytes: compressed
        elif edge == 3:
            out.append(("edge", rng.randbytes(MIN_SIZE - 1)))
        elif edge == 4:
            out.append(("edge", rng.randbytes(MIN_SIZE)))
        elif edge == 5:
            out.append(("edge", "" if (i // 250) % 2 == 0 else b""))
        else:
            r = rng.random()
            if r < 0.45:
                text = json_text(rng, rng.randrange(700, 1300))
                out.append(("json", text))
                if rng.random() < 0.25 and len(out) < count and len(out) % 100 != 37:
                    out.append(("repeat", text))
            elif r < 0.70:
                n = rng.randrange(0, 40)
                out.append(("small", " ".join(rng.choice(WORDS) for _ in range(n))[:MIN_SIZE // 4]))
            elif r < 0.80:
                out.append(("small", rng.randbytes(rng.randrange(0, MIN_SIZE))))
            elif r < 0.90:
                out.append(("random", rng.randbytes(rng.randrange(MIN_SIZE, 4096))))
            elif r < 0.97:
                out.append(("pattern", pattern_bytes(rng, rng.randrange(MIN_SIZE, 8192))))
            else:
                out.append(("far", far_repeat(rng)))
    return out


def nbytes(m):
    return len(m.encode()) if isinstance(m, str) else len(m)


# ---------------------------------------------------------------------------------------------
# The wire, as the client sees it

class Wire:
    """Wraps a connection's PerMessageDeflate to record, per data message, whether it arrived
    compressed and its payload size on the wire, and the size of every message sent."""

    def __init__(self, ext):
        self.received = []   # [rsv1, wire bytes] per received data message
        self.sent = []       # wire bytes per sent data message (all compressed)
        decode, encode = ext.decode, ext.encode

        def recording_decode(frame, *, max_size=None):
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                self.received.append([frame.rsv1, len(frame.data)])
            elif frame.opcode == Opcode.CONT and self.received:
                self.received[-1][1] += len(frame.data)
            return decode(frame, max_size=max_size)

        def recording_encode(frame):
            out = encode(frame)
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                self.sent.append(len(out.data))
            elif frame.opcode == Opcode.CONT and self.sent:
                self.sent[-1] += len(out.data)
            return out

        ext.decode = recording_decode
        ext.encode = recording_encode


def parse_extensions(values):
    """Sec-WebSocket-Extensions values -> [(name, {param: value or None})]."""
    out = []
    for value in values:
        for element in value.split(","):
            items = [p.strip() for p in element.split(";")]
            if not items[0]:
                continue
            params = {}
            for p in items[1:]:
                name, _, v = p.partition("=")
                params[name.strip()] = v.strip().strip('"') if v else None
            out.append((items[0], params))
    return out


def deflate_of(ws):
    found = [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
    return found[0] if found else None


def check_negotiation(label, ws, expected):
    """`expected`: the answer's parameters, or None when no extension may be agreed."""
    values = ws.response_headers.get_all("Sec-WebSocket-Extensions")
    elements = parse_extensions(values)
    ext = deflate_of(ws)
    if expected is None:
        check(f"{label}: no extension in the 101", not values and ext is None, repr(values))
        return None
    ok = check(f"{label}: permessage-deflate agreed as {format_params(expected)}",
               len(elements) == 1 and elements[0] == ("permessage-deflate", expected) and ext is not None,
               repr(values))
    if ext is not None:
        check(f"{label}: the client applies the agreed parameters",
              ext.remote_no_context_takeover == ("server_no_context_takeover" in expected)
              and ext.local_no_context_takeover == ("client_no_context_takeover" in expected)
              and ext.remote_max_window_bits == int(expected.get("server_max_window_bits") or 15)
              and ext.local_max_window_bits == int(expected.get("client_max_window_bits") or 15),
              repr(ext))
    return Wire(ext) if ok and ext is not None else None


def format_params(params):
    return "; ".join(["permessage-deflate"] + [k if v is None else f"{k}={v}" for k, v in params.items()])


# ---------------------------------------------------------------------------------------------
# The host's counters

COUNTERS = ["deflate_messages_out", "deflate_payload_bytes_out", "deflate_wire_bytes_out",
            "inflate_messages_in", "inflate_wire_bytes_in", "inflate_payload_bytes_in", "messages_in"]


# The host's Prometheus series behind each of COUNTERS (summed over their labels: routes).
SERIES = {"deflate_messages_out": "parley_deflate_messages_total",
          "deflate_payload_bytes_out": "parley_deflate_payload_bytes_total",
          "deflate_wire_bytes_out": "parley_deflate_wire_bytes_total",
          "inflate_messages_in": "parley_inflate_messages_total",
          "inflate_wire_bytes_in": "parley_inflate_wire_bytes_total",
          "inflate_payload_bytes_in": "parley_inflate_payload_bytes_total",
          "messages_in": "parley_messages_received_total"}


def metrics(admin_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=10) as r:
        counter = {series: name for name, series in SERIES.items()}
        values = {name: 0 for name in COUNTERS}
        seen = set()
        for line in r.read().decode().splitlines():
            if not line or line.startswith("#"):
                continue
            sample, _, value = line.rpartition(" ")
            series = sample.partition("{")[0]
            if series in counter:
                values[counter[series]] += int(value)
                seen.add(counter[series])
        if seen != set(COUNTERS):
            raise RuntimeError(f"/metrics lacks {sorted(set(COUNTERS) - seen)}")
        return values


class Tally:
    """What the host's counters must grow by, from what the clients saw on the wire."""

    def __init__(self):
        self.expected = {name: 0 for name in COUNTERS}

    def add(self, msgs, wire, received_by_deflate=None):
        """`msgs` sent (and echoed) over a connection whose Wire is `wire` (None: plain)."""
        self.expected["messages_in"] += len(msgs)
        if wire is None:
            return
        self.expected["inflate_messages_in"] += len(wire.sent)
        self.expected["inflate_wire_bytes_in"] += sum(wire.sent)
        self.expected["inflate_payload_bytes_in"] += sum(nbytes(m) for _, m in msgs)
        self.add_received(received_by_deflate if received_by_deflate is not None else msgs, wire)

    def add_received(self, msgs, wire):
        for (_, m), (rsv1, size) in zip(msgs, wire.received):
            if rsv1:
                self.expected["deflate_messages_out"] += 1
                self.expected["deflate_payload_bytes_out"] += nbytes(m)
                self.expected["deflate_wire_bytes_out"] += size


def check_metrics(label, admin_port, before, tally):
    """The counters grew by exactly tally (they are published at the end of a loop turn: wait)."""
    deadline = time.time() + 10
    while True:
        now = metrics(admin_port)
        delta = {k: now[k] - before[k] for k in COUNTERS}
        if delta == tally.expected or time.time() > deadline:
            break
        time.sleep(0.05)
    check(f"{label}: /metrics grew by exactly what crossed the wire", delta == tally.expected,
          f"grew {delta}, expected {tally.expected}")
    return delta


def report_ratio(label, delta):
    if delta["deflate_messages_out"] or delta["inflate_messages_in"]:
        print(f"     {label}: out {delta['deflate_messages_out']} compressed, "
              f"{delta['deflate_payload_bytes_out']} -> {delta['deflate_wire_bytes_out']} bytes; "
              f"in {delta['inflate_messages_in']} compressed, "
              f"{delta['inflate_wire_bytes_in']} -> {delta['inflate_payload_bytes_in']} bytes", flush=True)


# ---------------------------------------------------------------------------------------------
# Echo

def fragmented(i, m):
    """Every 40th message (from 3 bytes, not the large ones) goes in three fragments."""
    return i % 40 == 9 and 3 <= len(m) < 65536


async def fragments(ws, m):
    """The three fragments of `m`, with a ping between them (control frames may interleave)."""
    third = len(m) // 3
    for k, part in enumerate((m[:third], m[third:2 * third], m[2 * third:])):
        if k:
            pong = await ws.ping()
            # Nobody waits for the pong; a connection that ends first must not log its error.
            pong.add_done_callback(lambda f: f.cancelled() or f.exception())
        yield part


async def exchange(ws, msgs):
    """Sends `msgs` in batches of BATCH and returns the replies; some go fragmented. A connection
    that ends or stalls fails a check and returns the replies so far."""
    replies = []
    try:
        for start in range(0, len(msgs), BATCH):
            chunk = msgs[start:start + BATCH]
            for i, (_, m) in enumerate(chunk, start):
                await ws.send(fragments(ws, m) if fragmented(i, m) else m)
            for _ in chunk:
                replies.append(await asyncio.wait_for(ws.recv(), 20))
    except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError) as e:
        cause = e.__cause__ or e.__context__
        check(f"the connection carries all {len(msgs)} messages", False,
              f"{type(e).__name__} after {len(replies)} replies: {e}" + (f" (after {cause!r})" if cause else "")
              + f"; close code {ws.close_code}")
    return replies


def check_replies(label, msgs, replies):
    bad = [i for i, ((_, m), r) in enumerate(zip(msgs, replies)) if type(m) is not type(r) or m != r]
    first = ""
    if bad:
        i = bad[0]
        first = f"first at #{i} ({msgs[i][0]}, {nbytes(msgs[i][1])} bytes): got {repr(replies[i])[:80]}"
    check(f"{label}: {len(msgs)} replies, each equal to its message",
          len(replies) == len(msgs) and not bad, f"{len(replies)} replies, {len(bad)} differ; {first}")


def check_wire(label, msgs, wire, server_context, client_context, server_bits=15, min_size=MIN_SIZE):
    """Per message: compressed exactly from min_size up; compressible ones smaller on the wire;
    repeats show whether each side kept its window."""
    if not check(f"{label}: the client saw {len(msgs)} data frames each way",
                 len(wire.received) == len(msgs) and len(wire.sent) == len(msgs),
                 f"received {len(wire.received)}, sent {len(wire.sent)}"):
        return
    wrong_rsv1 = [i for i, ((_, m), (rsv1, _)) in enumerate(zip(msgs, wire.received)) if rsv1 != (nbytes(m) >= min_size)]
    check(f"{label}: every reply of {min_size} bytes or more compressed (RSV1)"
          + (", every smaller one plain" if min_size else ", the empty ones too"),
          not wrong_rsv1, f"{len(wrong_rsv1)} wrong, first #{wrong_rsv1[:1]}: "
          + (f"{msgs[wrong_rsv1[0]][0]} of {nbytes(msgs[wrong_rsv1[0]][1])} bytes" if wrong_rsv1 else ""))
    compressible = [i for i, (k, _) in enumerate(msgs) if k in ("json", "large-json", "pattern", "large-pattern")]
    not_smaller = [i for i in compressible if not (wire.received[i][1] < nbytes(msgs[i][1]) and wire.sent[i] < nbytes(msgs[i][1]))]
    check(f"{label}: {len(compressible)} compressible messages smaller on the wire both ways", not not_smaller,
          f"{len(not_smaller)} not, first #{not_smaller[:1]}")
    repeats = [i for i, (k, _) in enumerate(msgs) if k == "repeat"]
    # Sent whole, both copies: three fragments each with its own flush are bigger.
    whole = [i for i in repeats if not fragmented(i, msgs[i][1]) and not fragmented(i - 1, msgs[i - 1][1])]
    if server_context:
        # At level 1 zlib takes the first match of 8 bytes or more, so a repeat is not one
        # back-reference; it still shrinks to a fraction of the first copy.
        big = [i for i in repeats if wire.received[i][1] * 2 > wire.received[i - 1][1]]
        worst = max((wire.received[i][1] / wire.received[i - 1][1] for i in repeats), default=0)
        check(f"{label}: the host kept its window: {len(repeats)} repeated replies under half the first "
              f"(at most {worst:.0%})", bool(repeats) and not big,
              f"{len(big)} bigger, first #{big[:1]}: " + (f"{wire.received[big[0]]} after {wire.received[big[0] - 1]}" if big else ""))
    else:
        differ = [i for i in repeats if wire.received[i][1] != wire.received[i - 1][1]]
        check(f"{label}: the host reset its window: {len(repeats)} repeated replies as big as the first",
              bool(repeats) and not differ, f"{len(differ)} differ, first #{differ[:1]}")
    if client_context:
        big = [i for i in whole if wire.sent[i] > 32]
        check(f"{label}: the client kept its window: {len(whole)} repeats sent in 32 bytes or less "
              "(the host inflated them from past messages)", bool(whole) and not big, f"{len(big)} bigger")
    else:
        differ = [i for i in whole if wire.sent[i] != wire.sent[i - 1]]
        check(f"{label}: the client reset its window ({len(whole)} repeats as big as the first)",
              bool(whole) and not differ, f"{len(differ)} differ")
    far = [i for i, (k, _) in enumerate(msgs) if k == "far"]
    if server_bits >= 12:
        # 2,000 bytes back is inside the window: the repeat must be found.
        missed = [i for i in far if wire.received[i][1] > 2300]
        check(f"{label}: {len(far)} replies that repeat 2,000 bytes back compressed by the repeat",
              bool(far) and not missed, f"{len(missed)} not")
    else:
        # Outside the agreed window: the client inflated them with that window, and none shrank
        # by the repeat (a host that used a bigger window fails the inflate or this check).
        shrunk = [i for i in far if wire.received[i][1] < 3500]
        check(f"{label}: {len(far)} replies that repeat 2,000 bytes back stay big in a {server_bits}-bit window",
              bool(far) and not shrunk, f"{len(shrunk)} shrank")


# Per case: what the client offers ("library": python3-websockets' default offer, or a factory),
# the answer expected, whether the host and the client keep their windows, the host's window bits
# and engine.deflate.min_size.
ECHO_CASES = {
    "default": dict(offer="library", answer={"server_no_context_takeover": None, "client_max_window_bits": "15"},
                    server_context=False, client_context=True),
    "server-context": dict(offer="library", answer={"client_max_window_bits": "15"},
                           server_context=True, client_context=True),
    "client-reset": dict(offer=lambda: ClientPerMessageDeflateFactory(client_no_context_takeover=True),
                         answer={"server_no_context_takeover": None, "client_no_context_takeover": None,
                                 "client_max_window_bits": "15"},
                         server_context=False, client_context=False),
    "host-asks-reset": dict(offer="library", answer={"server_no_context_takeover": None,
                                                     "client_no_context_takeover": None, "client_max_window_bits": "15"},
                            server_context=False, client_context=False),
    "windows": dict(offer=lambda: ClientPerMessageDeflateFactory(server_max_window_bits=11, client_max_window_bits=True),
                    answer={"server_max_window_bits": "11", "client_max_window_bits": "12"},
                    server_context=True, client_context=True, server_bits=11),
    "min-size-0": dict(offer="library", answer={"server_no_context_takeover": None, "client_max_window_bits": "15"},
                       server_context=False, client_context=True, min_size=0),
}


def connect(base, path, offer, **extra):
    kwargs = {"max_size": 1 << 22, "ping_interval": None, **extra}
    if offer == "library":
        kwargs["compression"] = "deflate"         # what python3-websockets offers by default
    elif offer is None:
        kwargs["compression"] = None
    else:
        kwargs["compression"] = None
        kwargs["extensions"] = [offer()]
    return websockets.connect(base + path, **kwargs)


async def echo_case(base, admin, case):
    c = ECHO_CASES[case]
    msgs = messages(1, COUNT)
    before = metrics(admin)
    async with connect(base, "/echo-deflate", c["offer"]) as ws:
        wire = check_negotiation(case, ws, c["answer"])
        started = time.time()
        replies = await exchange(ws, msgs)
        elapsed = time.time() - started
    check_replies(case, msgs, replies)
    print(f"     {case}: {sum(fragmented(i, m) for i, (_, m) in enumerate(msgs))} of them sent in three fragments "
          "with a ping between", flush=True)
    if wire is None:
        return
    print(f"     {case}: {len(msgs)} messages in {elapsed:.1f} s", flush=True)
    check_wire(case, msgs, wire, c["server_context"], c["client_context"], c.get("server_bits", 15),
               c.get("min_size", MIN_SIZE))
    tally = Tally()
    tally.add(msgs, wire)
    report_ratio(case, check_metrics(case, admin, before, tally))
    await close_drain(base, admin, case, c["offer"])


async def close_drain(base, admin, case, offer):
    """300 messages then a close at once: every reply comes before the host's close frame."""
    burst = messages(6, 300)
    before = metrics(admin)
    async with connect(base, "/echo-deflate", offer, max_queue=None) as ws:
        for i, (_, m) in enumerate(burst):
            await ws.send(fragments(ws, m) if fragmented(i, m) else m)
        await ws.close()
        replies = []
        while True:
            try:
                replies.append(await ws.recv())
            except websockets.exceptions.ConnectionClosed:
                break
    check(f"{case}: 300 messages then a close: all 300 replies before the host's close 1000",
          replies == [m for _, m in burst] and ws.close_code == 1000,
          f"{len(replies)} replies, close {ws.close_code}")
    # Settled counters for whatever runs next against this host.
    deadline = time.time() + 10
    while metrics(admin)["messages_in"] - before["messages_in"] != len(burst) and time.time() < deadline:
        time.sleep(0.05)


SUFFIX = re.compile(rb" (0|[1-9][0-9]{0,5})$")


async def suffix_case(base, admin, count, keeps_window):
    """/ws-deflate (random-suffix): replies quote the message and add " N" (the host compresses
    the message and the suffix as one)."""
    label = "suffix"
    msgs = messages(7, count)
    before = metrics(admin)
    async with connect(base, "/ws-deflate", "library") as ws:
        wire = check_negotiation(label, ws, {"server_no_context_takeover": None, "client_max_window_bits": "15"}
                                 if not keeps_window else {"client_max_window_bits": "15"})
        replies = await exchange(ws, msgs)
    bad = []
    for i, ((_, m), r) in enumerate(zip(msgs, replies)):
        raw_m = m.encode() if isinstance(m, str) else m
        raw_r = r.encode() if isinstance(r, str) else r
        if type(m) is not type(r) or not raw_r.startswith(raw_m) or not SUFFIX.fullmatch(raw_r[len(raw_m):]):
            bad.append(i)
    check(f"{label}: {len(msgs)} replies, each its message and a random number",
          len(replies) == len(msgs) and not bad, f"{len(replies)} replies, {len(bad)} wrong, first #{bad[:1]}: "
          + (repr(replies[bad[0]])[-40:] if bad else ""))
    if wire is None:
        return
    echoed = [("", r) for r in replies]
    wrong_rsv1 = [i for i, ((_, r), (rsv1, _)) in enumerate(zip(echoed, wire.received)) if rsv1 != (nbytes(r) >= MIN_SIZE)]
    check(f"{label}: every reply of {MIN_SIZE} bytes or more compressed (RSV1), every smaller one plain",
          len(wire.received) == len(msgs) and not wrong_rsv1, f"{len(wrong_rsv1)} wrong, first #{wrong_rsv1[:1]}")
    tally = Tally()
    tally.add(msgs, wire, received_by_deflate=echoed)
    report_ratio(label, check_metrics(label, admin, before, tally))


async def bomb_case(base, admin):
    """engine.max_message_size is 1 MiB: 2 MiB of zeros (2 KiB compressed) is refused with 1009
    after inflating no more than the limit, and the connections beside it (on the same loops,
    the same shared decompressor) go on."""
    offer = lambda: ClientPerMessageDeflateFactory(client_no_context_takeover=True)  # noqa: E731
    answer = {"server_no_context_takeover": None, "client_no_context_takeover": None, "client_max_window_bits": "15"}
    others = [await connect(base, "/echo-deflate", offer) for _ in range(4)]
    try:
        bomb = await connect(base, "/echo-deflate", offer)
        for n, ws in enumerate(others + [bomb]):
            check_negotiation(f"bomb, connection {n + 1}", ws, answer)
        await bomb.send(b"\0" * (2 << 20))
        try:
            await asyncio.wait_for(bomb.recv(), 10)
            check("bomb: 2 MiB inflated past engine.max_message_size closes 1009", False, "a reply came")
        except websockets.exceptions.ConnectionClosed:
            check("bomb: 2 MiB inflated past engine.max_message_size closes 1009", bomb.close_code == 1009,
                  f"close {bomb.close_code} {bomb.close_reason!r}")
        msgs = messages(8, 400)
        results = await asyncio.gather(*(exchange(ws, msgs) for ws in others))
        check("bomb: the other 4 connections exchange 400 messages each afterwards",
              all(r == [m for _, m in msgs] for r in results), "a reply differs")
    finally:
        for ws in others:
            await ws.close()


async def off_case(base, admin):
    msgs = messages(2, COUNT)
    before = metrics(admin)
    async with connect(base, "/echo", "library") as ws:
        check_negotiation("off", ws, None)
        replies = await exchange(ws, msgs)
    check_replies("off", msgs, replies)
    tally = Tally()
    tally.add(msgs, None)
    check_metrics("off", admin, before, tally)


async def mixed_case(base, admin):
    with_deflate, plain = messages(3, COUNT // 2), messages(4, COUNT // 2)
    before = metrics(admin)
    async with connect(base, "/echo-deflate", "library") as a, connect(base, "/echo-deflate", None) as b:
        wire = check_negotiation("mixed, deflate client", a, {"server_no_context_takeover": None,
                                                              "client_max_window_bits": "15"})
        check_negotiation("mixed, plain client", b, None)
        ra, rb = await asyncio.gather(exchange(a, with_deflate), exchange(b, plain))
    check_replies("mixed, deflate client", with_deflate, ra)
    check_replies("mixed, plain client", plain, rb)
    if wire is None:
        return
    check_wire("mixed, deflate client", with_deflate, wire, False, True)
    tally = Tally()
    tally.add(with_deflate, wire)
    tally.add(plain, None)
    report_ratio("mixed", check_metrics("mixed", admin, before, tally))


# ---------------------------------------------------------------------------------------------
# Broadcast

ROOM_CLIENTS = [
    # name, offer, answer with the host's defaults, answer when the host keeps its window
    ("deflate", "library", {"server_no_context_takeover": None, "client_max_window_bits": "15"},
     {"client_max_window_bits": "15"}),
    ("plain", None, None, None),
    ("deflate-w9", lambda: ClientPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=9),
     {"server_no_context_takeover": None, "server_max_window_bits": "9", "client_max_window_bits": "9"},
     {"server_max_window_bits": "9", "client_max_window_bits": "9"}),
    ("deflate-reset", lambda: ClientPerMessageDeflateFactory(server_no_context_takeover=True,
                                                             client_no_context_takeover=True),
     {"server_no_context_takeover": None, "client_no_context_takeover": None, "client_max_window_bits": "15"},
     {"server_no_context_takeover": None, "client_no_context_takeover": None, "client_max_window_bits": "15"}),
    ("plain-2", None, None, None),
    ("deflate-2", "library", {"server_no_context_takeover": None, "client_max_window_bits": "15"},
     {"client_max_window_bits": "15"}),
]
ROOM_MESSAGES = 400   # per client
ROOM_ROUND = 20       # each client sends this many, then everyone waits for everything


def tagged(sender, msgs):
    """Prefixes each message with its sender and number (so receivers can tell them apart)."""
    out = []
    for seq, (label, m) in enumerate(msgs):
        if isinstance(m, str):
            out.append((label, f"{sender}:{seq}:" + m))
        else:
            out.append((label, bytes([sender, seq >> 8, seq & 0xFF]) + m))
    return out


def sender_of(m):
    if isinstance(m, str):
        return int(m.split(":", 1)[0])
    return m[0]


async def broadcast_case(base, admin, host_keeps_window):
    label = "broadcast" + (" (host keeps its window)" if host_keeps_window else "")
    # No empty messages (they cannot carry a tag); everything else as in the echo cases.
    plans = [tagged(n, [(k, m) for k, m in messages(100 + n, ROOM_MESSAGES * 2) if nbytes(m) > 0][:ROOM_MESSAGES])
             for n in range(len(ROOM_CLIENTS))]
    before = metrics(admin)
    sockets, wires = [], []
    try:
        for name, offer, answer, answer_keeping in ROOM_CLIENTS:
            ws = await connect(base, "/room", offer)
            sockets.append(ws)
            wires.append(check_negotiation(f"{label}, {name}", ws, answer_keeping if host_keeps_window else answer))
        got = [[] for _ in sockets]

        async def read_until(i, n):
            while len(got[i]) < n:
                got[i].append(await asyncio.wait_for(sockets[i].recv(), 20))

        started = time.time()
        total = 0
        for start in range(0, ROOM_MESSAGES, ROOM_ROUND):
            for ws, plan in zip(sockets, plans):
                for _, m in plan[start:start + ROOM_ROUND]:
                    await ws.send(m)
            total += sum(len(plan[start:start + ROOM_ROUND]) for plan in plans)
            await asyncio.gather(*(read_until(i, total) for i in range(len(sockets))))
        elapsed = time.time() - started
    finally:
        for ws in sockets:
            await ws.close()
    print(f"     {label}: {len(sockets)} clients, {total} broadcasts each received by all in {elapsed:.1f} s", flush=True)
    tally = Tally()
    for i, (name, _, _, _) in enumerate(ROOM_CLIENTS):
        # Per sender, in the order sent, each message exactly as sent.
        by_sender = [[m for m in got[i] if sender_of(m) == n] for n in range(len(plans))]
        wrong = [n for n in range(len(plans)) if by_sender[n] != [m for _, m in plans[n]]]
        check(f"{label}, {name}: all {total} broadcasts, in each sender's order, each as sent",
              len(got[i]) == total and not wrong, f"{len(got[i])} received; wrong from senders {wrong}")
        wire = wires[i]
        tally.expected["messages_in"] += len(plans[i])
        if wire is None:
            continue
        # What this receiver got, in its order, for the per-message RSV1 check and the tally.
        received = [("", m) for m in got[i]]
        wrong_rsv1 = [j for j, ((_, m), (rsv1, _)) in enumerate(zip(received, wire.received))
                      if rsv1 != (nbytes(m) >= MIN_SIZE)]
        check(f"{label}, {name}: broadcasts of {MIN_SIZE} bytes or more compressed, smaller ones plain",
              len(wire.received) == total and not wrong_rsv1, f"{len(wire.received)} frames, {len(wrong_rsv1)} wrong")
        tally.expected["inflate_messages_in"] += len(wire.sent)
        tally.expected["inflate_wire_bytes_in"] += sum(wire.sent)
        tally.expected["inflate_payload_bytes_in"] += sum(nbytes(m) for _, m in plans[i])
        tally.add_received(received, wire)
    report_ratio(label, check_metrics(label, admin, before, tally))


# ---------------------------------------------------------------------------------------------
# python3-websocket (websocket-client): no permessage-deflate support

def websocket_client_case(base, admin):
    msgs = messages(5, COUNT)
    before = metrics(admin)
    ws = websocket.create_connection(base + "/echo-deflate", suppress_origin=True, timeout=20)
    headers = {k.lower(): v for k, v in (ws.getheaders() or {}).items()}
    check("websocket-client: offers nothing, no extension in the 101", "sec-websocket-extensions" not in headers,
          repr(headers))
    replies = []
    for start in range(0, len(msgs), BATCH):
        chunk = msgs[start:start + BATCH]
        for _, m in chunk:
            if isinstance(m, str):
                ws.send(m)
            else:
                ws.send_binary(m)
        for _ in chunk:
            replies.append(ws.recv())
    ws.close()
    check_replies("websocket-client", msgs, replies)
    tally = Tally()
    tally.add(msgs, None)
    check_metrics("websocket-client", admin, before, tally)


def main():
    port, admin, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    base = f"ws://127.0.0.1:{port}"
    if case in ECHO_CASES:
        asyncio.run(asyncio.wait_for(echo_case(base, admin, case), 120))
    elif case == "off":
        asyncio.run(asyncio.wait_for(off_case(base, admin), 120))
    elif case == "mixed":
        asyncio.run(asyncio.wait_for(mixed_case(base, admin), 120))
    elif case == "broadcast":
        keeps = len(sys.argv) > 4 and sys.argv[4] == "server-context"
        asyncio.run(asyncio.wait_for(broadcast_case(base, admin, keeps), 120))
    elif case == "suffix":
        keeps = len(sys.argv) > 4 and sys.argv[4] == "server-context"
        asyncio.run(asyncio.wait_for(suffix_case(base, admin, COUNT // 2, keeps), 120))
    elif case == "bomb":
        asyncio.run(asyncio.wait_for(bomb_case(base, admin), 120))
    elif case == "websocket-client":
        websocket_client_case(base, admin)
    else:
        check("known case", False, case)
    print(f"all deflate checks passed ({case})" if not failures else f"{len(failures)} check(s) failed ({case})",
          flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
