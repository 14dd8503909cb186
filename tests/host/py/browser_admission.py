#!/usr/bin/python3
"""A real browser against parley-host's admission: Debian's chromium, headless, driven over the
DevTools protocol with python3-websocket (chromium_page.py).

Usage: browser_admission.py CHROMIUM HOST_PORT JWT_SECRET PAGE_PORT. Serves a page on PAGE_PORT
(origin http://127.0.0.1:PAGE_PORT, which the host must allow on /proto and /private but not
on /strict), opens it in chromium, and runs in the page:
  - new WebSocket(/proto, ['mqtt', 'chat.v1'])    -> opens, protocol "chat.v1", echo
  - new WebSocket(/strict)                         -> fails (403: origin not allowed there)
  - new WebSocket(/private?access_token=<jwt>)     -> opens; whoami names the token's subject
  - new WebSocket(/private)                        -> fails (401 from the jwt gate)
Prints one line per check; exit 0 only if all passed.
"""
import json
import sys

from chromium_page import ChromiumPage, PageError
from jwt_token import make_token

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)


SCRIPT = r"""
(async () => {
  const base = 'ws://127.0.0.1:%(port)d';
  function attempt(url, protocols) {
    return new Promise((resolve) => {
      const r = {opened: false, protocol: null, reply: null, code: null, error: false};
      let ws;
      try { ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url); }
      catch (e) { r.exception = String(e); resolve(r); return; }
      const timer = setTimeout(() => { r.timeout = true; resolve(r); }, 8000);
      ws.onopen = () => { r.opened = true; r.protocol = ws.protocol; ws.send('hello from chromium'); };
      ws.onmessage = (e) => { r.reply = e.data; ws.close(1000); };
      ws.onerror = () => { r.error = true; };
      ws.onclose = (e) => { r.code = e.code; clearTimeout(timer); resolve(r); };
    });
  }
  return JSON.stringify({
    subprotocol: await attempt(base + '/proto', ['mqtt', 'chat.v1']),
    strict: await attempt(base + '/strict'),
    token: await attempt(base + '/private?access_token=%(token)s'),
    noToken: await attempt(base + '/private'),
  });
})()
"""


def main():
    chromium, host_port, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        with ChromiumPage(chromium, int(sys.argv[4])) as page:
            print(f"page origin: {page.origin}", flush=True)
            check("page loaded from its origin", True)
            token = make_token(secret, "browser-user", name="Chromium")
            raw = page.evaluate(SCRIPT % {"port": host_port, "token": token})
            results = json.loads(raw)
            print("results: " + raw, flush=True)
            s = results["subprotocol"]
            check("subprotocol selected (chat.v1) and echoed",
                  s["opened"] and s["protocol"] == "chat.v1" and s["reply"] == "hello from chromium", json.dumps(s))
            st = results["strict"]
            check("refused origin: the socket fails (1006, never opened)", not st["opened"] and st["code"] == 1006,
                  json.dumps(st))
            t = results["token"]
            try:
                who = json.loads(t["reply"]) if t.get("reply") else {}
            except ValueError:
                who = {}
            check("access_token admitted, whoami names the subject",
                  t["opened"] and who.get("identity") == "browser-user" and who.get("path") == "/private", json.dumps(t))
            n = results["noToken"]
            check("no token: the socket fails", not n["opened"] and n["code"] == 1006, json.dumps(n))
    except PageError as e:
        check("chromium ran the page script", False, str(e))
    print("all browser checks passed" if not failures else f"{len(failures)} check(s) failed", flush=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
