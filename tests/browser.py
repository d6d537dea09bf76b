"""Open the HTML report in real headless Chromium and look at the rendered page.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands
on its fd 3, answers on its fd 4, one JSON message per NUL-terminated chunk), so nothing beyond
the standard library and the ``chromium`` program is needed, and no port is opened.

Regenerate the README's screenshot (``docs/report_screenshot.png``) with::

    python -m tests.browser

which builds the report for the default problem, opens it, clicks node (3), then saves a
screenshot of the page opened at step 9 of the backward pass (``#step=9``, node (3));
``python -m tests.browser REPORT.html -o shot.png`` does the same for a given file.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "report_screenshot.png"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VIEWPORT = (1280, 900)
"""A laptop's browser window, in CSS pixels."""


def require_chromium() -> None:
    """For a test module that needs Chromium: skip it where Chromium is missing, fail under CI
    (where .ci/run installs it)."""
    import pytest

    if find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI (apt-get install chromium; see .ci/run)",
                        pytrace=False)
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)",
                    allow_module_level=True)


def find_chromium() -> str | None:
    """The Chromium program: ``$CHROMIUM`` if set, else the first of `NAMES` on PATH."""
    given = os.environ.get("CHROMIUM")
    if given:
        return shutil.which(given)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    """Chromium could not be started, or did not answer in time."""


class Chromium:
    """A headless Chromium and one page in it, driven with DevTools commands over a pipe.

    ``with Chromium() as browser: browser.open(path); browser.evaluate("1 + 1")``. Every event
    the page sends is kept in ``events``.
    """

    def __init__(self, program: str | None = None, timeout: float = 20.0) -> None:
        self.program = program or find_chromium()
        if self.program is None:
            raise BrowserError(f"Chromium not found (tried $CHROMIUM, {', '.join(NAMES)})")
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._session: str | None = None

    # ---- starting and stopping ---------------------------------------------------------------

    def __enter__(self) -> Chromium:
        self._profile = tempfile.TemporaryDirectory(prefix="autograd-bn-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Move the child's ends to high numbers first, so putting them on 3 and 4 cannot clash.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 20)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 20)
        for fd in (to_child_r, from_child_w):
            os.close(fd)

        def onto_3_and_4() -> None:  # runs in the child, before exec
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        flags = [
            "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
            "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
        ]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")
        self._log = tempfile.TemporaryFile()
        try:
            # close_fds=False: the fds put on 3 and 4 must survive; Python's own are
            # close-on-exec anyway.
            self._process = subprocess.Popen(
                [self.program, *flags, "about:blank"], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._log, close_fds=False,
                preexec_fn=onto_3_and_4,
            )
        finally:
            os.close(high_r)
            os.close(high_w)
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.send("Target.attachToTarget",
                                      {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
            width, height = VIEWPORT
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": False})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._session = None
            self.send("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

    # ---- the protocol ------------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send one command (to the page once attached) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if self._session is not None:
            message["sessionId"] = self._session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next_id, timeout, method)
        if "error" in reply:
            raise BrowserError(f"{method} failed: {reply['error'].get('message')}")
        return reply.get("result", {})

    def log(self) -> str:
        """The end of what Chromium wrote to stderr."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-800:].strip()

    def wait_for(self, event: str, since: int = 0, timeout: float | None = None
                 ) -> dict[str, Any]:
        """The parameters of the first ``event`` after ``events[since]``, waiting for it."""
        for message in self.events[since:]:
            if message.get("method") == event:
                return message.get("params", {})
        return self._read_until(lambda m: m.get("method") == event, timeout, event)["params"]

    def _read_until(self, wanted: Any, timeout: float | None, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                raise BrowserError(f"no answer from Chromium for {what}: {self.log()}")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium closed the pipe while waiting for {what}")
                self._buffer += chunk

    # ---- conveniences ------------------------------------------------------------------------

    def open(self, path: str | os.PathLike[str], fragment: str = "") -> None:
        """Load a local file (at ``#fragment`` if given) and wait until it, scripts included,
        has loaded."""
        if fragment:  # (a new fragment of the page already open would not load it again)
            since = len(self.events)
            self.send("Page.navigate", {"url": "about:blank"})
            self.wait_for("Page.loadEventFired", since)
        since = len(self.events)
        url = Path(path).resolve().as_uri() + (f"#{fragment}" if fragment else "")
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired", since)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page; a thrown error raises."""
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:60]}… threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        """A real mouse click at viewport coordinates (moves there first, so hover fires)."""
        base = {"x": x, "y": y, "button": "left", "clickCount": 1}
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", **base})
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", **base})

    def wheel(self, x: float, y: float, delta_y: float) -> None:
        """A mouse wheel turn at viewport coordinates (negative ``delta_y``: away from you)."""
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        self.send("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y,
                                               "deltaX": 0, "deltaY": delta_y})

    def drag(self, start: tuple[float, float], end: tuple[float, float], moves: int = 5
             ) -> None:
        """Press the left button at ``start``, move to ``end`` in ``moves`` steps, release."""
        (x0, y0), (x1, y1) = start, end
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x0, "y": y0})
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x0, "y": y0,
                                               "button": "left", "clickCount": 1})
        for k in range(1, moves + 1):
            x, y = x0 + (x1 - x0) * k / moves, y0 + (y1 - y0) * k / moves
            self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y,
                                                   "button": "left", "buttons": 1})
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y1,
                                               "button": "left", "clickCount": 1})

    KEY_CODES = {"ArrowLeft": 37, "ArrowRight": 39, "ArrowUp": 38, "ArrowDown": 40,
                 "Home": 36, "End": 35, " ": 32, "Enter": 13, "Escape": 27}

    def key(self, key: str) -> None:
        """Press and release one key (``"+"``, ``"0"``, ``"ArrowRight"``…) on the page."""
        code = self.KEY_CODES.get(key, ord(key.upper()[0]))
        down: dict[str, Any] = {"type": "keyDown" if len(key) == 1 else "rawKeyDown",
                                "key": key, "windowsVirtualKeyCode": code}
        if len(key) == 1:
            down["text"] = key
        self.send("Input.dispatchKeyEvent", down)
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key,
                                             "windowsVirtualKeyCode": code})

    def screenshot(self) -> bytes:
        """The viewport as PNG bytes."""
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF (print stylesheet applied), A4."""
        data = self.send("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                             "printBackground": False})["data"]
        return base64.b64decode(data)

    def errors(self) -> list[str]:
        """Script errors and console/log errors seen so far."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(details.get("exception", {}).get("description")
                             or details.get("text", "exception"))
            elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append(" ".join(str(a.get("value", a.get("description")))
                                      for a in params.get("args", [])))
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"].get("text", "log error"))
        return found

    def requests(self) -> list[str]:
        """Every URL the page asked for."""
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]


# ---- what the tests and the screenshot look at ------------------------------------------------

PAGE_STATE = """(() => {
  const svg = document.querySelector('#graph svg');
  const nodes = [...document.querySelectorAll('#graph svg g.node')].map(g => {
    const r = g.getBoundingClientRect();
    return {id: g.id, label: g.querySelector('title')?.textContent, width: r.width,
            height: r.height, wired: g.getAttribute('data-node') !== null,
            text: g.textContent.trim()};
  });
  const box = svg ? svg.getBoundingClientRect() : null;
  const tables = [...document.querySelectorAll('table.data')].map(t => ({
    id: t.id, rows: t.tBodies[0] ? t.tBodies[0].rows.length : 0,
    visible: t.getBoundingClientRect().height > 0,
    header: [...t.tHead.rows[0].cells].map(c => c.textContent.trim())}));
  return {
    title: document.title,
    svg: box && {width: box.width, height: box.height},
    nodes, tables,
    sections: [...document.querySelectorAll('main > section')].map(s => s.id),
    explain: (document.querySelector('#explain pre')?.innerText || '').length,
    wired: Number(document.documentElement.getAttribute('data-nodes-wired') || 0),
    pageErrors: document.documentElement.getAttribute('data-js-errors'),
    scrollWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
  };
})()"""

NODE_CENTER = """((label) => {
  const g = [...document.querySelectorAll('#graph svg g.node')]
    .find(n => n.querySelector('title').textContent === label);
  g.scrollIntoView({block: 'center'});
  const r = g.getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2};
})"""

ROW_CENTER = """((key) => {
  const row = document.querySelector(`#trace-table tr[data-key="${key}"]`);
  row.scrollIntoView({block: 'center'});
  const r = row.cells[1].getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2};
})"""

INSPECTOR = """(() => {
  const p = document.getElementById('inspector');
  return {showing: p.getAttribute('data-showing'), text: p.innerText,
          matrices: p.querySelectorAll('table.matrix').length,
          picked: [...document.querySelectorAll('#graph g.node.picked')].map(g => g.id)};
})()"""


def inspect(path: str | os.PathLike[str], *, click: str = "(3) x − mean", row_key: str = "(7)",
            screenshot: str | os.PathLike[str] | None = None, step: int = 9) -> dict[str, Any]:
    """Open a report, click the node labelled ``click``, and return what the browser saw.

    Keys: ``page`` (the graph's nodes with their drawn sizes, the tables, sections…),
    ``hovered`` and ``clicked`` (the inspector panel after hovering and after clicking),
    ``row_clicked`` (the panel after clicking the trace row of node ``row_key``),
    ``print`` (whether the print stylesheet hides the panel and keeps the graph, and the PDF's
    page count), ``errors`` (script and console errors), ``requests`` (URLs the page fetched).
    Saves a PNG of the viewport to ``screenshot`` when given: the graph with the page opened
    at ``#step=<step>`` (step 9 of BN is node (3), whose gradient adds up two users' parts).
    """
    with Chromium() as browser:
        browser.open(path)
        page = browser.evaluate(PAGE_STATE)
        center = browser.evaluate(f"{NODE_CENTER}({json.dumps(click)})")
        browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", **center})
        hovered = browser.evaluate(INSPECTOR)
        browser.click(center["x"], center["y"])
        clicked = browser.evaluate(INSPECTOR)
        row = browser.evaluate(f"{ROW_CENTER}({json.dumps(row_key)})")
        browser.click(row["x"], row["y"])
        row_clicked = browser.evaluate(INSPECTOR)
        if screenshot is not None:  # the page opened at a step of the backward pass
            browser.open(path, f"step={step}")
            browser.evaluate("window.scrollTo(0, document.getElementById('graph').offsetTop)")
            Path(screenshot).write_bytes(browser.screenshot())
            browser.open(path)
        browser.send("Emulation.setEmulatedMedia", {"media": "print"})
        printed = browser.evaluate("""(() => ({
          inspector: getComputedStyle(document.getElementById('inspector')).display,
          nav: getComputedStyle(document.querySelector('nav')).display,
          graphHeight: document.querySelector('#graph svg').getBoundingClientRect().height,
          tables: [...document.querySelectorAll('table.data')]
            .filter(t => t.getBoundingClientRect().height > 0).length}))()""")
        browser.send("Emulation.setEmulatedMedia", {"media": ""})
        pdf = browser.pdf()
        printed["pdf_pages"] = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        return {"page": page, "hovered": hovered, "clicked": clicked,
                "row_clicked": row_clicked, "print": printed,
                "errors": browser.errors(), "requests": browser.requests()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.browser",
        description="Open the HTML report in headless Chromium, click a node, save a "
        "screenshot and print what the browser saw.")
    parser.add_argument("report", nargs="?",
                        help="report to open; default: build one for the default problem")
    parser.add_argument("-o", "--output", default=str(SCREENSHOT),
                        help=f"screenshot to write; default {SCREENSHOT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.report
        if path is None:
            from autograd_bn.bn.problem import make_problem
            from autograd_bn.text.report import write_report

            path = write_report(make_problem(), Path(tmp) / "bn_report.html")
        seen = inspect(path, screenshot=args.output)
    page = seen["page"]
    print(f"{len(page['nodes'])} graph nodes drawn, {page['wired']} interactive; tables "
          + ", ".join(f"{t['id']} ({t['rows']} rows)" for t in page["tables"])
          + f"; errors: {seen['errors'] or 'none'}; screenshot: {args.output}")
    return 1 if seen["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
