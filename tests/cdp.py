"""Headless Chromium driven over the DevTools protocol, standard library only.

``--remote-debugging-pipe``: Chromium reads JSON commands, each ending in a NUL byte, from its file
descriptor 3 and writes answers and events to descriptor 4. No port is opened. Used by
tests/test_web.py and bench/bench_web.py; the flags are those that give WebGL (SwiftShader) on a
machine without a GPU, as root (docs/web.md).

    with Browser(800, 600) as b:
        page = b.open("file:///.../index.html")
        page.wait_for("window.nna && nna.ready")
        page.evaluate("nna.seek(100)")
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import zlib

CHROMIUM = os.environ.get("NNA_CHROMIUM") or "/usr/lib/chromium/chromium"

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--disable-extensions",
    "--mute-audio",
    "--no-default-browser-check",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


class CDPError(RuntimeError):
    pass


def available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


class Browser:
    """One headless Chromium; :meth:`open` gives a :class:`Page`. Close it (or use ``with``)."""

    def __init__(self, width: int = 800, height: int = 600, timeout: float = 60.0, extra_flags=()) -> None:
        if not available():
            raise CDPError(f"no Chromium at {CHROMIUM} (run: make setup, or set NNA_CHROMIUM)")
        self.timeout = timeout
        self.width, self.height = width, height
        self._profile = tempfile.mkdtemp(prefix="nna-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():  # runs in the child before exec: its fds 3 and 4 become the pipe's ends
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)  # above 4, so neither dup2 clobbers the other
            os.dup2(a, 3)  # dup2 makes them inheritable (os.pipe's are close-on-exec)
            os.dup2(b, 4)
            os.close(a)
            os.close(b)

        args = [
            CHROMIUM,
            *FLAGS,
            *extra_flags,
            f"--user-data-dir={self._profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            preexec_fn=child_fds,  # noqa: PLW1509  (no threads of ours touch the pipes yet)
            close_fds=False,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._cv = threading.Condition()
        self._answers: dict[int, dict] = {}
        self.events: list[dict] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.send("Target.setDiscoverTargets", {"discover": False})

    # -- the pipe ----------------------------------------------------------------------------
    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cv:
                    self._closed = True
                    self._cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                with self._cv:
                    if "id" in msg:
                        self._answers[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self._cv.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout=None) -> dict:
        with self._lock:
            self._next_id += 1
            mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        with self._lock:
            os.write(self._to_chrome, data)
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cv:
            while mid not in self._answers:
                if self._closed:
                    raise CDPError(f"{method}: Chromium exited\n{self.stderr()[-2000:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CDPError(f"{method}: no answer in {timeout or self.timeout:.0f} s")
                self._cv.wait(left)
            answer = self._answers.pop(mid)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error'].get('message')} {answer['error'].get('data', '')}")
        return answer.get("result", {})

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    # -- pages -------------------------------------------------------------------------------
    def open(self, url: str = "about:blank") -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        if url != "about:blank":
            page.navigate(url)
        return page

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("Browser.close", timeout=10)
            except CDPError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Page:
    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target

    def send(self, method: str, params: dict | None = None, timeout=None) -> dict:
        return self.browser.send(method, params, self.session, timeout)

    def navigate(self, url: str) -> None:
        res = self.send("Page.navigate", {"url": url})
        if res.get("errorText"):
            raise CDPError(f"navigate {url}: {res['errorText']}")

    def evaluate(self, expression: str, timeout=None):
        """The value of a JavaScript expression (awaited if it is a promise); JS exceptions raise."""
        res = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout,
        )
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise CDPError(f"{expression}: {d.get('exception', {}).get('description') or d.get('text')}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.05):
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f"waited {timeout:.0f} s for {expression}")
            time.sleep(interval)

    def screenshot(self, clip: tuple[float, float, float, float] | None = None) -> bytes:
        """PNG bytes of the viewport, or of the CSS-pixel rectangle (x, y, width, height)."""
        params: dict = {"format": "png"}
        if clip is not None:
            x, y, w, h = clip
            params["clip"] = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])

    def pixels(self, x: float, y: float, radius: int = 2) -> list[tuple[int, int, int]]:
        """The RGB pixels of the (2r+1)-square around CSS pixel (x, y), from a real screenshot."""
        x0, y0 = round(x) - radius, round(y) - radius
        size = 2 * radius + 1
        return decode_png(self.screenshot((x0, y0, size, size)))[2]

    def messages(self) -> list[dict]:
        """Console messages, log entries and uncaught exceptions of this page so far."""
        out = []
        for ev in self.browser.events:
            if ev.get("sessionId") != self.session:
                continue
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                out.append({"level": p.get("type"), "text": text})
            elif m == "Log.entryAdded":
                e = p.get("entry", {})
                out.append({"level": e.get("level"), "text": e.get("text", ""), "url": e.get("url", "")})
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append({"level": "exception", "text": d.get("exception", {}).get("description") or d.get("text")})
        return out


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(width, height, RGB pixels row by row) of an 8-bit RGB or RGBA PNG (small ones: pure Python)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, []
    width = height = channels = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    prev = bytearray(stride)
    pixels = []
    for r in range(height):
        f = raw[r * (stride + 1)]
        line = bytearray(raw[r * (stride + 1) + 1 : (r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        prev = line
    return width, height, pixels
