"""A real browser for page checks: Debian's `chromium`, headless, over a real HTTP server on
127.0.0.1, with axe-core (the accessibility engine, from the npm registry) run inside each page.

    with serve(folder) as base:
        page = audit(f"{base}/cy/")
        page.violations      # axe-core WCAG 2.0/2.1/2.2 A and AA violations
        page.console_errors  # console.error calls, uncaught errors and rejections
        page.lang            # <html lang> once the page's own scripts have run
        page.html            # the DOM at that moment
        page.scroll_width    # the document's width at a 1280 px wide window

The server injects two scripts into every HTML page it serves: one at the top of <head> that
records console errors from the first moment, one at the end of <body> that waits for the page
to settle, runs axe and writes the result into the DOM, which `chromium --dump-dom` prints.
Nothing is downloaded but axe-core itself, from the package registry, once per machine."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

AXE_VERSION = "4.14.1"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WINDOW = "1280,900"
RESULT_ID = "__axe_result__"

CAPTURE_JS = """(() => {
  const errors = (window.__consoleErrors = []);
  const text = (v) => (v instanceof Error ? `${v.name}: ${v.message}` : String(v));
  const original = console.error.bind(console);
  console.error = (...args) => { errors.push(args.map(text).join(" ")); original(...args); };
  addEventListener("error", (e) => errors.push(text(e.error || e.message)));
  addEventListener("unhandledrejection", (e) => errors.push(text(e.reason)));
})();
"""

RUN_JS = """(() => {
  const settle = %(settle_ms)d;
  const finish = (result) => {
    const pre = document.createElement("pre");
    pre.id = "%(result_id)s";
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  };
  const run = () => {
    const html = document.documentElement.outerHTML;
    const shape = {
      lang: document.documentElement.lang,
      scroll_width: document.documentElement.scrollWidth,
      console_errors: window.__consoleErrors || [],
      html,
    };
    axe.run(document, { runOnly: { type: "tag", values: %(tags)s }, resultTypes: ["violations"] })
      .then((r) => finish({ ...shape, violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
      })) }))
      .catch((e) => finish({ ...shape, violations: [], axe_error: String(e) }));
  };
  if (document.readyState === "complete") setTimeout(run, settle);
  else addEventListener("load", () => setTimeout(run, settle));
})();
"""


def require_chromium() -> str:
    """The chromium executable, or skip the test saying what is missing."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium): page checks skipped"
        )
    return found


@cache
def axe_script() -> Path:
    """axe.min.js from the npm registry, installed once under ~/.cache; skips where npm is absent
    or the registry cannot be reached."""
    cache_dir = Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")
    ) / "digital-progress" / f"axe-core-{AXE_VERSION}"
    script = cache_dir / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is not installed: axe-core cannot be fetched, page checks skipped")
    cache_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache_dir),
         f"axe-core@{AXE_VERSION}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not script.is_file():
        pytest.skip(f"axe-core {AXE_VERSION} could not be installed from npm: {done.stderr[-500:]}")
    return script


def _handler(folder: Path, settle_ms: int) -> type[SimpleHTTPRequestHandler]:
    axe = axe_script().read_bytes()
    scripts = {
        "/__axe__/capture.js": CAPTURE_JS.encode(),
        "/__axe__/axe.min.js": axe,
        "/__axe__/run.js": (
            RUN_JS % {"settle_ms": settle_ms, "result_id": RESULT_ID, "tags": json.dumps(AXE_TAGS)}
        ).encode(),
    }

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 - quiet test server
            pass

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if path in scripts:
                return self._send(scripts[path], "text/javascript")
            page = self._html_file(path)
            if page is None:
                return super().do_GET()
            text = page.read_text(encoding="utf-8")
            head = text.find("<head>")
            text = (
                text[: head + 6] + '<script src="/__axe__/capture.js"></script>' + text[head + 6 :]
                if head >= 0
                else '<script src="/__axe__/capture.js"></script>' + text
            )
            tail = text.rfind("</body>")
            tail = tail if tail >= 0 else len(text)
            injected = (
                '<script src="/__axe__/axe.min.js"></script>'
                '<script src="/__axe__/run.js"></script>'
            )
            text = text[:tail] + injected + text[tail:]
            return self._send(text.encode("utf-8"), "text/html; charset=utf-8")

        def _html_file(self, path: str) -> Path | None:
            relative = path.strip("/")
            candidates = (
                [relative]
                if relative.endswith((".html", ".htm"))
                else [f"{relative}.html", f"{relative}/index.html".lstrip("/")]
            )
            for candidate in candidates:
                found = (folder / candidate).resolve()
                if found.is_file() and found.is_relative_to(folder.resolve()):
                    return found
            return None

    return Handler


@contextmanager
def serve(folder: Path, *, settle_ms: int = 1500) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) with the audit scripts injected into its HTML
    pages; `/a/b` is `a/b.html` or `a/b/index.html`. Yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Path(folder), settle_ms))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Audit:
    url: str
    violations: list[dict]
    console_errors: list[str]
    lang: str
    html: str
    scroll_width: int

    def describe(self) -> str:
        """The violations in a form a test failure message can show."""
        return "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                        for n in v["nodes"][:5])
            for v in self.violations
        )


def audit(url: str, *, budget_ms: int = 30000) -> Audit:
    """Load `url` (served by `serve`) in headless chromium at 1280 px wide, let its scripts and
    axe run, and return what axe and the page reported."""
    chromium = require_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", f"--user-data-dir={profile}",
                f"--window-size={WINDOW}", f"--virtual-time-budget={budget_ms}",
                "--dump-dom", url,
            ],
            capture_output=True,
            text=True,
            timeout=budget_ms / 1000 + 120,
        )
    dom = done.stdout
    start = dom.find(f'<pre id="{RESULT_ID}">')
    if start < 0:
        raise AssertionError(
            f"{url}: axe did not report (the page never finished loading?); chromium said: "
            f"{done.stderr[-1000:]}"
        )
    start += len(f'<pre id="{RESULT_ID}">')
    result = json.loads(html.unescape(dom[start : dom.index("</pre>", start)]))
    if "axe_error" in result:
        raise AssertionError(f"{url}: axe failed: {result['axe_error']}")
    return Audit(
        url=url,
        violations=result["violations"],
        console_errors=result["console_errors"],
        lang=result["lang"],
        html=result["html"],
        scroll_width=result["scroll_width"],
    )
