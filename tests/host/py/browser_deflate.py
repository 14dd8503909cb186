#!/usr/bin/python3
"""A real browser against parley-host's permessage-deflate: Debian's chromium, headless, driven
over the DevTools protocol (chromium_page.py).

Usage: browser_deflate.py CHROMIUM HOST_PORT ADMIN_PORT CASE [COUNT]. The host serves
/echo-deflate (echo, deflate on, replies below 64 bytes plain) and its /metrics on ADMIN_PORT.
CASE is the host's setting:
  default         server_no_context_takeover (the host's default)
                  -> socket.extensions "permessage-deflate; server_no_context_takeover; client_max_window_bits=15"
  server-context  server_no_context_takeover = false: the host keeps its window
                  -> socket.extensions "permessage-deflate; client_max_window_bits=15"
The page loads tests/node/deflate_messages.js, opens a WebSocket to /echo-deflate, checks
socket.extensions, exchanges COUNT (10,000) messages pipelined in batches and compares every
reply with its message; the host's /metrics must have grown by exactly the compressed messages
both ways (chromium compresses every message; the host every reply of 64 bytes or more). Then one
JSON message and 50 copies of it show on the counters whether each side kept its window. Prints
one line per check; exit 0 only if all passed.
"""
import json
import os
import sys
import time
import urllib.request

from chromium_page import ChromiumPage, PageError

failures = []
COUNTERS = ["deflate_messages_out", "deflate_payload_bytes_out", "deflate_wire_bytes_out",
            "inflate_messages_in", "inflate_wire_bytes_in", "inflate_payload_bytes_in", "messages_in"]
ANSWERS = {
    "default": "permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
    "server-context": "permessage-deflate; client_max_window_bits=15",
}
MESSAGES_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "node", "deflate_messages.js")


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)
    return ok


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


def growth(admin_port, before, done):
    """The counters' growth since `before`, once `done(delta)` holds (they are published at the
    end of a loop turn) or after 10 s."""
    deadline = time.time() + 10
    while True:
        now = metrics(admin_port)
        delta = {k: now[k] - before[k] for k in COUNTERS}
        if done(delta) or time.time() > deadline:
            return delta
        time.sleep(0.05)


OPEN = r"""
new Promise((resolve) => {
  const ws = new WebSocket('ws://127.0.0.1:%(port)d/echo-deflate');
  ws.binaryType = 'arraybuffer';
  const timer = setTimeout(() => resolve(JSON.stringify({opened: false, timeout: true})), 10000);
  ws.onopen = () => {
    clearTimeout(timer);
    globalThis.parleySocket = ws;
    resolve(JSON.stringify({opened: true, extensions: ws.extensions}));
  };
  ws.onclose = (e) => { clearTimeout(timer); resolve(JSON.stringify({opened: false, code: e.code})); };
})
"""

# Sends deflateMessages.messages(seed, count) (or `copies` copies of one JSON text) in batches,
# compares each reply with its message; resolves with a JSON summary.
EXCHANGE = r"""
(async () => {
  const D = globalThis.deflateMessages;
  const ws = globalThis.parleySocket;
  const msgs = %(copies)d > 0
    ? Array.from({length: %(copies)d}, () => ({label: 'copy', data: D.jsonText(D.generator(99), 1024)}))
    : D.messages(%(seed)d, %(count)d);
  const replies = [];
  let waiting = null;
  let closed = null;
  ws.onmessage = (e) => {
    replies.push(e.data);
    if (waiting && replies.length >= waiting.n) { const w = waiting; waiting = null; w.resolve(); }
  };
  ws.onclose = (e) => { closed = e.code; if (waiting) { const w = waiting; waiting = null; w.resolve(); } };
  const until = (n) => new Promise((resolve) => {
    if (replies.length >= n || closed !== null) resolve(); else waiting = {n, resolve};
  });
  const started = performance.now();
  const batch = %(batch)d;
  for (let s = 0; s < msgs.length && closed === null; s += batch) {
    const end = Math.min(s + batch, msgs.length);
    for (let i = s; i < end; ++i) ws.send(msgs[i].data);
    await Promise.race([until(end), new Promise((r) => setTimeout(r, 20000))]);
    if (replies.length < end) break;
  }
  const elapsed = (performance.now() - started) / 1000;
  const same = (m, r) => {
    if (typeof m === 'string') return r === m;
    if (!(r instanceof ArrayBuffer) || r.byteLength !== m.length) return false;
    const b = new Uint8Array(r);
    for (let i = 0; i < b.length; ++i) if (b[i] !== m[i]) return false;
    return true;
  };
  const bad = [];
  for (let i = 0; i < Math.min(msgs.length, replies.length); ++i) if (!same(msgs[i].data, replies[i])) bad.push(i);
  const first = bad.length ? {index: bad[0], label: msgs[bad[0]].label, bytes: D.byteLength(msgs[bad[0]].data)} : null;
  return JSON.stringify({sent: msgs.length, replies: replies.length, bad: bad.length, first, closed, elapsed,
    extensions: ws.extensions, bytes: D.byteLength(msgs[0].data), expected: D.expectedCounts(msgs)});
})()
"""

CLOSE = r"""
new Promise((resolve) => {
  const ws = globalThis.parleySocket;
  ws.onclose = (e) => resolve(e.code);
  ws.close(1000, 'done');
})
"""


def exchange(page, seed=0, count=0, copies=0, batch=100):
    return json.loads(page.evaluate(EXCHANGE % {"seed": seed, "count": count, "copies": copies, "batch": batch}))


def main():
    chromium, host_port, admin, case = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
    answer = ANSWERS.get(case)
    if answer is None:
        check("known case", False, case)
        return
    with open(MESSAGES_JS, encoding="utf-8") as f:
        messages_js = f.read()
    try:
        with ChromiumPage(chromium) as page:
            print(f"page origin: {page.origin}; {page.evaluate('navigator.userAgent')}", flush=True)
            page.evaluate(messages_js + "\n;typeof globalThis.deflateMessages")
            opened = json.loads(page.evaluate(OPEN % {"port": host_port}))
            if not check("the page's WebSocket opened", opened.get("opened"), json.dumps(opened)):
                return
            check(f"{case}: socket.extensions is \"{answer}\"", opened["extensions"] == answer, opened["extensions"])

            before = metrics(admin)
            r = exchange(page, seed=21, count=count)
            print(f"     {case}: {r['replies']} of {r['sent']} replies in {r['elapsed']:.1f} s", flush=True)
            check(f"{case}: {count} replies, each equal to its message",
                  r["sent"] == count and r["replies"] == count and r["bad"] == 0 and r["closed"] is None, json.dumps(r))
            expected = r["expected"]
            delta = growth(admin, before, lambda d: all(d[k] == v for k, v in expected.items()))
            check(f"{case}: /metrics: {expected['inflate_messages_in']} messages inflated, "
                  f"{expected['deflate_messages_out']} replies of 64 bytes or more deflated, payload bytes exact",
                  all(delta[k] == v for k, v in expected.items()), f"grew {delta}, expected {expected}")
            check(f"{case}: smaller on the wire both ways",
                  delta["deflate_wire_bytes_out"] < delta["deflate_payload_bytes_out"]
                  and delta["inflate_wire_bytes_in"] < delta["inflate_payload_bytes_in"], json.dumps(delta))
            print(f"     {case}: out {delta['deflate_payload_bytes_out']} -> {delta['deflate_wire_bytes_out']} bytes, "
                  f"in {delta['inflate_wire_bytes_in']} -> {delta['inflate_payload_bytes_in']} bytes", flush=True)

            # Context takeover on the counters: one JSON message, then 50 copies of it.
            one = metrics(admin)
            r1 = exchange(page, copies=1)
            first = growth(admin, one, lambda d: d["deflate_messages_out"] == 1 and d["inflate_messages_in"] == 1)
            copies = metrics(admin)
            r50 = exchange(page, copies=50, batch=50)
            rest = growth(admin, copies, lambda d: d["deflate_messages_out"] == 50 and d["inflate_messages_in"] == 50)
            check(f"{case}: the copies echoed", r1["bad"] == 0 and r50["bad"] == 0 and r50["replies"] == 50,
                  json.dumps([r1, r50]))
            out, inn = rest["deflate_wire_bytes_out"] / 50, rest["inflate_wire_bytes_in"] / 50
            print(f"     {case}: a copy of a {r1['bytes']}-byte message: out {first['deflate_wire_bytes_out']} then "
                  f"{out} bytes, in {first['inflate_wire_bytes_in']} then {inn} bytes", flush=True)
            if case == "server-context":
                check(f"{case}: the host kept its window (copies under half the first)",
                      out * 2 < first["deflate_wire_bytes_out"], str(out))
            else:
                check(f"{case}: the host reset its window (copies as big as the first)",
                      out == first["deflate_wire_bytes_out"], str(out))
            check(f"{case}: chromium kept its window and the host inflated from it (copies under half the first)",
                  inn * 2 < first["inflate_wire_bytes_in"], str(inn))
            code = page.evaluate(CLOSE)
            check(f"{case}: closed 1000", code == 1000, str(code))
    except PageError as e:
        check("chromium ran the page scripts", False, str(e))


if __name__ == "__main__":
    main()
    print("all browser deflate checks passed" if not failures else f"{len(failures)} check(s) failed", flush=True)
    sys.exit(1 if failures else 0)
