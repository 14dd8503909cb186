#!/usr/bin/python3
"""A real browser against parley-host's admission: Debian's chromium, headless, driven over the
DevTools protocol with python3-websocket.

Usage: browser_admission.py CHROMIUM HOST_PORT JWT_SECRET PAGE_PORT. Serves a page on PAGE_PORT
(origin http://127.0.0.1:PAGE_PORT, which the host must allow on /proto and /private but not
on /strict), opens it in chromium, and runs in the page:
  - new WebSocket(/proto, ['mqtt', 'chat.v1'])    -> opens, protocol "chat.v1", echo
  - new WebSocket(/strict)                         -> fails (403: origin not allowed there)
  - new WebSocket(/private?access_token=<jwt>)     -> opens; whoami names the token's subject
  - new WebSocket(/private)                        -> fails (401 from the jwt gate)
Prints one line per check; exit 0 only if all passed.
"""
import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websocket

from jwt_token import make_token

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>parley admission</title><p>admission test page</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[4])), Page)
    page_port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"page origin: http://127.0.0.1:{page_port}", flush=True)
    profile = tempfile.mkdtemp(prefix="parley-chromium-")
    browser = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--remote-allow-origins=*", f"--user-data-dir={profile}", f"http://127.0.0.1:{page_port}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        devtools = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = browser.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                devtools = int(m.group(1))
                break
        if devtools is None:
            check("chromium started with DevTools", False, "no 'DevTools listening' line")
            return
        threading.Thread(target=lambda: [None for _ in browser.stderr], daemon=True).start()
        target = None
        while time.time() < deadline and target is None:
            with urllib.request.urlopen(f"http://127.0.0.1:{devtools}/json/list", timeout=5) as r:
                for t in json.load(r):
                    if t.get("type") == "page" and t.get("url", "").startswith(f"http://127.0.0.1:{page_port}"):
                        target = t
            if target is None:
                time.sleep(0.2)
        if target is None:
            check("chromium opened the page", False, "no page target")
            return
        cdp = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        token = make_token(secret, "browser-user", name="Chromium")
        # Wait until the page has loaded (its origin is what the sockets carry).
        message_id = 0

        def call(method, params):
            nonlocal message_id
            message_id += 1
            cdp.send(json.dumps({"id": message_id, "method": method, "params": params}))
            while True:
                reply = json.loads(cdp.recv())
                if reply.get("id") == message_id:
                    return reply

        expected = f"complete http://127.0.0.1:{page_port}"
        value = ""
        for _ in range(300):
            state = call("Runtime.evaluate", {"expression": "document.readyState + ' ' + location.origin",
                                              "returnByValue": True})
            value = state.get("result", {}).get("result", {}).get("value", "")
            if value == expected:
                break
            time.sleep(0.1)
        check("page loaded from its origin", value == expected, value)
        reply = call("Runtime.evaluate", {"expression": SCRIPT % {"port": host_port, "token": token},
                                          "awaitPromise": True, "returnByValue": True})
        raw = reply.get("result", {}).get("result", {}).get("value")
        if raw is None:
            check("the page script ran", False, json.dumps(reply)[:400])
            return
        results = json.loads(raw)
        print("results: " + raw, flush=True)
        s = results["subprotocol"]
        check("subprotocol selected (chat.v1) and echoed",
              s["opened"] and s["protocol"] == "chat.v1" and s["reply"] == "hello from chromium", json.dumps(s))
        st = results["strict"]
        check("refused origin: the socket fails (1006, never opened)", not st["opened"] and st["code"] == 1006, json.dumps(st))
        t = results["token"]
        try:
            who = json.loads(t["reply"]) if t.get("reply") else {}
        except ValueError:
            who = {}
        check("access_token admitted, whoami names the subject",
              t["opened"] and who.get("identity") == "browser-user" and who.get("path") == "/private", json.dumps(t))
        n = results["noToken"]
        check("no token: the socket fails", not n["opened"] and n["code"] == 1006, json.dumps(n))
        cdp.close()
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    print("all browser checks passed" if not failures else f"{len(failures)} check(s) failed", flush=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
