#!/usr/bin/env python3
"""The host's /metrics read by Prometheus' own parser (Debian's python3-prometheus-client).

Usage: prometheus_metrics.py PORT ADMIN_PORT

The host has /ws (random-suffix), /echo (echo) and /slow (sleepy, a blocking chain sleeping
plugin.sleepy.sleep_ms = 2). Checks: the Content-Type; every family typed and documented, named
parley_* or process_*, counters ending in _total; route labels on every route's series (before any
traffic too); histograms whose buckets add up (cumulative, +Inf == _count); parley_build_info;
the process_* series; and values that move with traffic: N messages on /ws and on /echo (and a
few on /slow) grow parley_messages_received_total of exactly that route by N, the respond
histogram of that route by exactly N / 64 samples (every 64th message of a route on a loop is timed), the
handshake histogram by the upgrades, the closes by code, a refusal by status.
"""
import math
import sys
import time
import urllib.error
import urllib.request

import websocket  # python3-websocket
from prometheus_client.parser import text_string_to_metric_families

failures = []
N = 192            # messages on /ws and on /echo: a multiple of 64, so exactly N / 64 are timed
SLOW = 128         # messages on /slow (2 ms each in the chain)
SAMPLE_EVERY = 64  # RespondSampleEvery in host/src/LoopState.h
ROUTES = ["/ws", "/echo", "/slow"]
ROUTE_FAMILIES = ["parley_connections", "parley_connections_opened", "parley_messages_received", "parley_messages_sent",
                  "parley_received_bytes", "parley_sent_bytes", "parley_respond_seconds"]


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)
    return ok


def scrape(admin):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(fams, family, sample, **labels):
    """The value of one sample (0 if absent)."""
    for s in fams[family].samples if family in fams else []:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()) and len(s.labels) == len(labels):
            return s.value
    return 0


def histogram(fams, family, **labels):
    """{le: cumulative count}, _count and _sum of one histogram."""
    buckets, count, total = {}, None, None
    for s in fams[family].samples:
        own = {k: v for k, v in s.labels.items() if k != "le"}
        if own != labels:
            continue
        if s.name == family + "_bucket":
            buckets[s.labels["le"]] = s.value
        elif s.name == family + "_count":
            count = s.value
        elif s.name == family + "_sum":
            total = s.value
    return buckets, count, total


def check_format(content_type, text, fams, label):
    check(f"{label}: Content-Type is the text format 0.0.4", content_type == "text/plain; version=0.0.4; charset=utf-8",
          content_type)
    typed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    helped = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ") and len(line.split()) > 3}
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    untyped = set()
    for line in samples:
        name = line.split("{")[0].split(" ")[0]
        base = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in typed:
                base = name[: -len(suffix)]
        if base not in typed:
            untyped.add(name)
    check(f"{label}: every sample has a # TYPE line", not untyped, sorted(untyped))
    check(f"{label}: every # TYPE has a # HELP with text", typed == helped, sorted(typed ^ helped))
    bad = [f.name for f in fams.values() if f.type not in ("counter", "gauge", "histogram")]
    check(f"{label}: every family is a counter, gauge or histogram", not bad, bad)
    undocumented = [f.name for f in fams.values() if not f.documentation.strip()]
    check(f"{label}: every family has help", not undocumented, undocumented)
    names = [f.name for f in fams.values() if not (f.name.startswith("parley_") or f.name.startswith("process_"))]
    check(f"{label}: every name starts with parley_ (or process_)", not names, names)
    counters = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ") and line.endswith(" counter")]
    check(f"{label}: there are counters", len(counters) > 20, counters)
    check(f"{label}: every counter ends in _total", all(c.endswith("_total") for c in counters),
          [c for c in counters if not c.endswith("_total")])
    gauges = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ") and line.endswith(" gauge")]
    check(f"{label}: no gauge ends in _total", not any(g.endswith("_total") for g in gauges), gauges)
    for family in ROUTE_FAMILIES:
        shown = {s.labels.get("route") for s in fams[family].samples} if family in fams else set()
        check(f"{label}: {family} has a route label for each route", set(ROUTES) <= shown, shown)
    check(f"{label}: closes are labelled by code", all("code" in s.labels for s in fams["parley_closes_sent"].samples),
          fams["parley_closes_sent"].samples)
    check(f"{label}: refusals are labelled by status",
          all("status" in s.labels for s in fams["parley_handshakes_refused"].samples), fams["parley_handshakes_refused"].samples)
    loops = {s.labels.get("loop") for s in fams["parley_loop_connections"].samples}
    check(f"{label}: parley_loop_connections has loop 0 and 1", loops == {"0", "1"}, loops)
    # Histograms add up.
    for family in ("parley_respond_seconds", "parley_handshake_seconds"):
        labelsets = {tuple(sorted((k, v) for k, v in s.labels.items() if k != "le")) for s in fams[family].samples}
        for labels in labelsets:
            buckets, count, total = histogram(fams, family, **dict(labels))
            bounds = sorted(buckets, key=float)
            values = [buckets[b] for b in bounds]
            what = f"{label}: {family}{dict(labels)}"
            check(f"{what}: buckets ascending to +Inf", len(bounds) > 5 and bounds[-1] == "+Inf", bounds)
            check(f"{what}: buckets cumulative", all(a <= b for a, b in zip(values, values[1:])), values)
            check(f"{what}: +Inf == _count", count is not None and buckets.get("+Inf") == count, (buckets.get("+Inf"), count))
            check(f"{what}: _sum present and >= 0", total is not None and total >= 0, total)
    info = fams["parley_build_info"].samples
    check(f"{label}: parley_build_info is 1 with version, api and tls",
          len(info) == 1 and info[0].value == 1 and info[0].labels.get("version") and info[0].labels.get("api")
          and "SSL" in info[0].labels.get("tls", ""), info)
    fds, max_fds = value(fams, "process_open_fds", "process_open_fds"), value(fams, "process_max_fds", "process_max_fds")
    check(f"{label}: process_open_fds between 1 and process_max_fds", 0 < fds <= max_fds, (fds, max_fds))
    rss = value(fams, "process_resident_memory_bytes", "process_resident_memory_bytes")
    vsz = value(fams, "process_virtual_memory_bytes", "process_virtual_memory_bytes")
    check(f"{label}: process memory: 0 < resident <= virtual", 0 < rss <= vsz, (rss, vsz))
    check(f"{label}: process_cpu_seconds_total is a counter",
          fams["process_cpu_seconds"].type == "counter" and value(fams, "process_cpu_seconds", "process_cpu_seconds_total") > 0)
    start = value(fams, "process_start_time_seconds", "process_start_time_seconds")
    check(f"{label}: process_start_time_seconds is in the last day", time.time() - 86400 < start <= time.time() + 1, start)


def traffic(port, admin):
    """Sends the messages; returns what the counters must grow by, per route."""
    sent = {}
    for route, count, payload in (("/ws", N, "hello prometheus"), ("/echo", N, "0123456789abcdef"), ("/slow", SLOW, "zz")):
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}{route}", timeout=10)
        _, text = scrape(admin)
        check(f"{route}: parley_connections shows the open connection",
              value(families(text), "parley_connections", "parley_connections", route=route) == 1)
        for i in range(count):
            ws.send(payload)
            reply = ws.recv()
            if not reply.startswith(payload):
                check(f"{route}: reply {i}", False, reply)
        ws.close()   # status 1000, echoed
        # Client frames: 2 bytes of header + 4 of mask + the payload; the close carries its code.
        sent[route] = dict(messages=count, bytes=count * (6 + len(payload)) + 6 + 2)
    # A refusal: a route that does not exist.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=10)
    except urllib.error.HTTPError as e:
        check("a path that is not a route answers 404", e.code == 404, e.code)
    return sent


def main():
    port, admin = int(sys.argv[1]), int(sys.argv[2])
    content_type, text = scrape(admin)
    before = families(text)
    check_format(content_type, text, before, "before traffic")

    sent = traffic(port, admin)

    # Counters are published at the end of a loop turn: wait until the closes show.
    deadline = time.time() + 10
    while True:
        content_type, text = scrape(admin)
        after = families(text)
        closes = value(after, "parley_closes_received", "parley_closes_received_total", code="1000") - \
            value(before, "parley_closes_received", "parley_closes_received_total", code="1000")
        open_now = sum(value(after, "parley_connections", "parley_connections", route=r) for r in ROUTES)
        if (closes == 3 and open_now == 0) or time.time() > deadline:
            break
        time.sleep(0.05)
    check_format(content_type, text, after, "after traffic")

    def grew(family, sample, **labels):
        return value(after, family, sample, **labels) - value(before, family, sample, **labels)

    for route in ROUTES:
        count = sent[route]["messages"]
        check(f"{route}: parley_messages_received_total grew by exactly {count}",
              grew("parley_messages_received", "parley_messages_received_total", route=route) == count,
              grew("parley_messages_received", "parley_messages_received_total", route=route))
        check(f"{route}: parley_messages_sent_total grew by exactly {count}",
              grew("parley_messages_sent", "parley_messages_sent_total", route=route) == count,
              grew("parley_messages_sent", "parley_messages_sent_total", route=route))
        check(f"{route}: parley_received_bytes_total grew by exactly the frames sent ({sent[route]['bytes']})",
              grew("parley_received_bytes", "parley_received_bytes_total", route=route) == sent[route]["bytes"],
              grew("parley_received_bytes", "parley_received_bytes_total", route=route))
        check(f"{route}: parley_sent_bytes_total grew by more than the replies' frames",
              grew("parley_sent_bytes", "parley_sent_bytes_total", route=route) > count * 2,
              grew("parley_sent_bytes", "parley_sent_bytes_total", route=route))
        check(f"{route}: parley_connections_opened_total grew by 1",
              grew("parley_connections_opened", "parley_connections_opened_total", route=route) == 1)
        check(f"{route}: parley_connections is 0 again", value(after, "parley_connections", "parley_connections", route=route) == 0)
        b0, c0, s0 = histogram(before, "parley_respond_seconds", route=route)
        b1, c1, s1 = histogram(after, "parley_respond_seconds", route=route)
        check(f"{route}: parley_respond_seconds_count grew by exactly {count // SAMPLE_EVERY} (1 in {SAMPLE_EVERY} timed)",
              c1 - c0 == count // SAMPLE_EVERY, c1 - c0)
        check(f"{route}: parley_respond_seconds_sum grew", s1 > s0, (s0, s1))
    # /slow sleeps 2 ms per message on a worker: each of its timed messages took more than 1 ms.
    b0, _, _ = histogram(before, "parley_respond_seconds", route="/slow")
    b1, _, _ = histogram(after, "parley_respond_seconds", route="/slow")
    check("/slow: its timed messages (on the workers) are all above le=0.001",
          b1["0.001"] - b0["0.001"] == 0 and b1["+Inf"] - b0["+Inf"] == SLOW // SAMPLE_EVERY, (b0, b1))
    _, h0, _ = histogram(before, "parley_handshake_seconds")
    _, h1, _ = histogram(after, "parley_handshake_seconds")
    check("parley_handshake_seconds_count grew by the 3 upgrades", h1 - h0 == 3, h1 - h0)
    for family in ("parley_closes_sent", "parley_closes_received"):
        check(f"{family}_total{{code=\"1000\"}} grew by 3", grew(family, family + "_total", code="1000") == 3,
              grew(family, family + "_total", code="1000"))
    check("parley_handshakes_refused_total{status=\"404\"} grew by 1",
          grew("parley_handshakes_refused", "parley_handshakes_refused_total", status="404") == 1)
    check("parley_handshake_received_bytes_total grew (the request heads)",
          grew("parley_handshake_received_bytes", "parley_handshake_received_bytes_total") > 4 * 40)
    check("parley_handshake_sent_bytes_total grew (the 404)",
          grew("parley_handshake_sent_bytes", "parley_handshake_sent_bytes_total") > 12)

    excerpt = [line for line in text.splitlines() if 'route="/echo"' in line and "_bucket" not in line]
    print("     /metrics excerpt:\n       " + "\n       ".join(excerpt), flush=True)
    if failures:
        print(f"{len(failures)} prometheus check(s) failed", flush=True)
        return 1
    print("all prometheus checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
