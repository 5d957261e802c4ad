"""The page checker itself can fail: a page with known faults is reported with exactly those
faults, and a clean page with none (so a 0 elsewhere means something)."""

from __future__ import annotations

from tests.browser import audit, require_chromium, serve

GOOD = """<!doctype html><html lang="cy"><head><meta charset="utf-8"><title>Prawf</title></head>
<body><main><h1>Helo</h1><p>Testun.</p></main></body></html>"""

# No lang, an image without alternative text, an error logged while loading.
BAD = """<!doctype html><html><head><meta charset="utf-8"><title>Bad</title></head>
<body><main><h1>Hi</h1><img src="x.png"><div style="width:2000px">wide</div>
<script>console.error("boom", new Error("kaput"))</script></main></body></html>"""


def test_the_checker_finds_known_faults_and_passes_a_clean_page(tmp_path):
    require_chromium()
    (tmp_path / "good.html").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.html").write_text(BAD, encoding="utf-8")
    with serve(tmp_path) as base:
        good, bad = audit(f"{base}/good"), audit(f"{base}/bad/")
    assert (good.violations, good.console_errors, good.lang) == ([], [], "cy")
    assert good.scroll_width == 1280
    assert sorted(v["id"] for v in bad.violations) == ["html-has-lang", "image-alt"]
    assert bad.console_errors == ["boom Error: kaput"]
    assert bad.lang == ""
    assert bad.scroll_width > 2000
