"""A page in Debian's chromium, headless, driven over the DevTools protocol with python3-websocket:
the helpers the browser tests share (browser_admission.py, browser_deflate.py).

    with ChromiumPage("chromium", page_port) as page:   # serves a page on 127.0.0.1:page_port
        page.origin                                     # http://127.0.0.1:<port>, once loaded
        page.evaluate("1 + 1")                          # -> the value (awaits promises)

ChromiumPage raises PageError when chromium does not start or the page does not load.
"""
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

import websocket


class PageError(Exception):
    pass


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>parley</title><p>parley test page</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ChromiumPage:
    """Serves a page on 127.0.0.1:`page_port` (0: any free port), opens it in headless chromium
    and connects to it over the DevTools protocol (timeouts of `timeout` seconds)."""

    def __init__(self, chromium, page_port=0, timeout=60):
        self._chromium = chromium
        self._page_port = page_port
        self._timeout = timeout
        self._server = None
        self._browser = None
        self._profile = None
        self._cdp = None
        self._message_id = 0
        self.origin = None

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self._page_port), _Page)
        port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._profile = tempfile.mkdtemp(prefix="parley-chromium-")
        self._browser = subprocess.Popen(
            [self._chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             "--remote-allow-origins=*", f"--user-data-dir={self._profile}", f"http://127.0.0.1:{port}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        devtools = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self._browser.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                devtools = int(m.group(1))
                break
        if devtools is None:
            raise PageError("chromium started without a 'DevTools listening' line")
        threading.Thread(target=lambda: [None for _ in self._browser.stderr], daemon=True).start()
        target = None
        while time.time() < deadline and target is None:
            with urllib.request.urlopen(f"http://127.0.0.1:{devtools}/json/list", timeout=5) as r:
                for t in json.load(r):
                    if t.get("type") == "page" and t.get("url", "").startswith(f"http://127.0.0.1:{port}"):
                        target = t
            if target is None:
                time.sleep(0.2)
        if target is None:
            raise PageError("chromium did not open the page")
        self._cdp = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=self._timeout,
                                                suppress_origin=True)
        # Wait until the page has loaded (its origin is what the sockets carry).
        expected = f"complete http://127.0.0.1:{port}"
        value = ""
        for _ in range(300):
            value = self.evaluate("document.readyState + ' ' + location.origin")
            if value == expected:
                self.origin = f"http://127.0.0.1:{port}"
                return
            time.sleep(0.1)
        raise PageError(f"the page did not load: {value}")

    def call(self, method, params):
        """One DevTools command; returns its answer (the whole message)."""
        self._message_id += 1
        self._cdp.send(json.dumps({"id": self._message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._cdp.recv())
            if reply.get("id") == self._message_id:
                return reply

    def evaluate(self, expression):
        """Runs `expression` in the page (awaiting a promise); returns its value by value, or
        raises PageError with the exception or answer if there is none."""
        reply = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        result = reply.get("result", {})
        if "exceptionDetails" in result or "value" not in result.get("result", {}):
            raise PageError("the page script failed: " + json.dumps(reply)[:600])
        return result["result"]["value"]

    def __exit__(self, *exc):
        if self._cdp is not None:
            self._cdp.close()
        if self._browser is not None:
            self._browser.terminate()
            try:
                self._browser.wait(10)
            except subprocess.TimeoutExpired:
                self._browser.kill()
        if self._server is not None:
            self._server.shutdown()
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
        return False
