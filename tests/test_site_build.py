"""The published site as people get it: the Evidence project exported by a real pipeline run over
the demo data, built by the real Evidence CLI, served over HTTP and opened in headless chromium
with axe-core (tests/browser.py). Slow: npm install, then `evidence build` (2–3 minutes, ~3 GB),
once per session.

Where node/npm or the offline patch (/work/shared/tools/evidence-offline, or the folder named by
EVIDENCE_OFFLINE_TOOL) is absent, the tests skip and say which."""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_project.reference import load_reference
from exports.evidence import page_strings
from tests.browser import audit, require_chromium, serve
from tests.conftest import CARDIFF

pytestmark = pytest.mark.slow

OFFLINE_TOOL = Path(
    os.environ.get("EVIDENCE_OFFLINE_TOOL", "/work/shared/tools/evidence-offline")
)
PATCH = "patch-evidence-offline.mjs"


@dataclass(frozen=True)
class Site:
    build: Path
    output: str  # what `evidence sources` and `evidence build` printed


def _run(command: list[str], cwd: Path, timeout: int) -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output[-3000:]}"
    return output


@pytest.fixture(scope="session")
def site(demo_run, tmp_path_factory) -> Site:
    """The demo release's Evidence project, built once."""
    npm, npx = shutil.which("npm"), shutil.which("npx")
    if not (shutil.which("node") and npm and npx):
        pytest.skip("node/npm are not installed: the Evidence site cannot be built")
    if not (OFFLINE_TOOL / PATCH).is_file():
        pytest.skip(
            f"{OFFLINE_TOOL / PATCH} is absent (set EVIDENCE_OFFLINE_TOOL): Evidence's DuckDB "
            "would try to download its parquet extension and hang"
        )
    project = tmp_path_factory.mktemp("site") / "evidence"
    shutil.copytree(demo_run.evidence, project)
    _run([npm, "install", "--no-audit", "--no-fund"], project, 600)
    _run(["node", str(OFFLINE_TOOL / PATCH)], project, 60)
    output = _run([npx, "evidence", "sources", "--strict"], project, 300)
    output += _run([npx, "evidence", "build"], project, 900)
    return Site(project / "build", output)


def built_pages(site: Site) -> dict[str, Path]:
    """Every page of the built site by its URL path ("/", "/cy/cyrff/W06000015", ...)."""
    found = {}
    for page in site.build.rglob("*.html"):
        relative = page.relative_to(site.build).as_posix()
        if relative.startswith(("api/", "_app/", "settings", "explore")):
            continue  # Evidence's own pages and data, not the publication
        path = "/" + relative.removesuffix(".html").removesuffix("index").rstrip("/")
        found[path or "/"] = page
    return found


def is_welsh(path: str) -> bool:
    return (path + "/").startswith(page_strings()["cy"]["links"]["home"] + "/")


# In the browser, Evidence's DuckDB-WASM fetches its parquet extension from
# https://extensions.duckdb.org/v1.4.3/wasm_eh/parquet.duckdb_extension.wasm when a page loads.
# Where that name does not resolve, the worker fails with "RuntimeError: function signature
# mismatch" and Evidence logs "Error encountered while updating Parquet URLs". Pages still show
# their figures: they come prerendered. Only there are these two errors let through.
OFFLINE_ONLY_ERRORS = (
    "Error encountered while updating Parquet URLs",
    "function signature mismatch",
)


def duckdb_extensions_reachable() -> bool:
    try:
        socket.getaddrinfo("extensions.duckdb.org", 443)
    except OSError:
        return False
    return True


def console_errors(page) -> list[str]:
    """The page's console errors, less those that only a machine without internet shows."""
    if duckdb_extensions_reachable():
        return page.console_errors
    return [e for e in page.console_errors if not any(o in e for o in OFFLINE_ONLY_ERRORS)]


def visible_text(markup: str) -> str:
    """The words a reader sees: no scripts, styles or tags (attributes such as links go)."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


SECTOR_CODES = sorted(load_reference().sector_names("en"))
SECTOR_CODE = re.compile(r"\b(" + "|".join(map(re.escape, SECTOR_CODES)) + r")\b")

# English and Welsh: home, a sector, a body, the bodies index, data quality and methodology.
AUDITED = [
    "/",
    "/cy",
    "/sectors/local_authority",
    "/cy/sectorau/fire_rescue",
    f"/bodies/{CARDIFF}",
    f"/cy/cyrff/{CARDIFF}",
    "/bodies",
    "/cy/cyrff",
    "/data-quality",
    "/cy/ansawdd-data",
    "/methodology",
    "/cy/methodoleg",
]


def test_the_site_builds_every_page_without_a_query_error(site):
    assert "Error in Query" not in site.output
    pages = built_pages(site)
    for path in AUDITED:
        assert path in pages, f"{path} was not built"
    bodies = {p.rsplit("/", 1)[1] for p in pages if p.startswith("/bodies/")}
    welsh_bodies = {p.rsplit("/", 1)[1] for p in pages if p.startswith("/cy/cyrff/")}
    assert CARDIFF in bodies and bodies == welsh_bodies


def test_every_built_page_declares_its_language(site):
    """lang="cy" on every Welsh page and "en" on every English one, in the HTML as built."""
    pages = built_pages(site)
    assert len(pages) > 20
    for path, page in pages.items():
        opening = re.search(r"<html[^>]*\blang=\"([^\"]*)\"", page.read_text(encoding="utf-8"))
        assert opening, path
        assert opening.group(1) == ("cy" if is_welsh(path) else "en"), path


def test_no_built_page_shows_a_sector_code(site):
    for path, page in built_pages(site).items():
        shown = SECTOR_CODE.findall(visible_text(page.read_text(encoding="utf-8")))
        assert not shown, (path, shown)


@pytest.fixture(scope="session")
def audits(site) -> dict:
    """Each audited page as chromium shows it once its scripts have run, with axe's findings."""
    require_chromium()
    with serve(site.build) as base:
        return {path: audit(base + path) for path in AUDITED}


@pytest.mark.parametrize("path", AUDITED)
def test_page_passes_axe_in_its_language_without_console_errors(audits, path):
    page = audits[path]
    assert page.violations == [], f"{path}:\n{page.describe()}"
    assert page.lang == ("cy" if is_welsh(path) else "en")
    assert console_errors(page) == [], path
    assert not SECTOR_CODE.findall(visible_text(page.html)), path


LEAGUE_PAGES = ["/", "/cy", "/sectors/local_authority", "/cy/sectorau/fire_rescue"]


@pytest.mark.parametrize("path", LEAGUE_PAGES)
def test_league_pages_fit_a_1280_px_window(audits, path):
    """Who leads, who improves, who is off track: readable without scrolling sideways."""
    assert audits[path].scroll_width <= 1280, (path, audits[path].scroll_width)


def test_pages_read_in_the_page_s_language(audits):
    """The frame and the tables speak the page's language: the Welsh home page shows the Welsh
    navigation and column titles and no English ones; a body page is titled with its name."""
    english, welsh = page_strings()["en"], page_strings()["cy"]
    home = visible_text(audits["/cy"].html)
    for word in (welsh["home"], welsh["bodies_title"], welsh["rank"], welsh["score_change"]):
        assert word in home, word
    for word in (english["bodies_title"], english["rank"], english["score_change"]):
        assert word not in home, word
    cardiff = next(b for b in load_reference().bodies if b["body_code"] == CARDIFF)
    body_page = audits[f"/cy/cyrff/{CARDIFF}"].html
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", body_page, re.S)
    assert heading and visible_text(heading.group(1)).strip() == cardiff["name_cy"]
    assert re.search(r"<title>\s*" + re.escape(cardiff["name_cy"]), body_page)


def test_the_frame_links_each_page_to_its_twin_and_marks_where_the_reader_is(audits):
    sector = audits["/cy/sectorau/fire_rescue"].html
    assert re.search(r'<a href="/sectors/fire_rescue"[^>]*\blang="en"', sector)
    bodies = audits["/cy/cyrff"].html
    assert re.search(r'<a href="/cy/cyrff"[^>]*aria-current="page"', bodies)
    body = audits[f"/bodies/{CARDIFF}"].html
    assert re.search(rf'<a href="/cy/cyrff/{CARDIFF}"[^>]*\blang="cy"', body)


# Words of Evidence's own controls (download and full-screen buttons, the full-screen copy of a
# table with its pager, the hidden "No Results", the charts' image and data buttons): English
# whatever the page's language, so the pages turn those controls off.
EVIDENCE_ENGLISH = (
    "Download",
    "Fullscreen",
    "records",
    "No Results",
    "Save Image",
    "Page 1",
    "first-page",
    "previous-page",
)
WELSH_AUDITED = [path for path in AUDITED if is_welsh(path)]


@pytest.mark.parametrize("path", WELSH_AUDITED)
def test_welsh_pages_carry_none_of_evidence_s_english_controls(audits, path):
    markup = audits[path].html
    found = [word for word in EVIDENCE_ENGLISH if word in markup]
    assert found == [], (path, found)
    assert "<dialog" not in markup, path  # no hidden full-screen copy of a table


def _titles(markup: str) -> list[str]:
    return [visible_text(t).strip() for t in re.findall(r"<title>(.*?)</title>", markup, re.S)]


def test_a_body_page_is_titled_with_the_body_s_name_in_the_html_as_built(site):
    """The prerendered <title>, before any script runs, is the body's name (the first <title>
    is the one browsers, search engines and screen readers take)."""
    cardiff = next(b for b in load_reference().bodies if b["body_code"] == CARDIFF)
    pages = built_pages(site)
    for path, name, generic in (
        (f"/bodies/{CARDIFF}", cardiff["name_en"], page_strings()["en"]["bodies_title"]),
        (f"/cy/cyrff/{CARDIFF}", cardiff["name_cy"], page_strings()["cy"]["bodies_title"]),
    ):
        titles = _titles(pages[path].read_text(encoding="utf-8"))
        assert titles and titles[0].startswith(name), (path, titles)
        assert generic not in titles, (path, titles)
    index = _titles(pages["/cy/cyrff"].read_text(encoding="utf-8"))
    assert index and index[0] == page_strings()["cy"]["bodies_title"]


def test_a_body_page_does_not_ask_the_reader_to_choose_a_body(audits):
    for path, language in ((f"/bodies/{CARDIFF}", "en"), (f"/cy/cyrff/{CARDIFF}", "cy")):
        assert page_strings()[language]["choose_body"] not in visible_text(audits[path].html)
    assert page_strings()["cy"]["choose_body"] in visible_text(audits["/cy"].html)


@pytest.mark.parametrize("path", [p for p in AUDITED if "method" not in p])
def test_table_scroll_boxes_are_named_regions_in_the_page_s_language(audits, path):
    markup = audits[path].html
    boxes = re.findall(r"<div\b[^>]*\bclass=\"[^\"]*\bscrollbox\b[^>]*>", markup)
    assert boxes, path
    table = page_strings()["cy" if is_welsh(path) else "en"]["table_label"]
    names = []
    for box in boxes:
        assert 'role="region"' in box and 'tabindex="0"' in box, (path, box)
        name = re.search(r'\baria-label="([^"]*)"', box)
        assert name and html.unescape(name.group(1)).startswith(table), (path, box)
        names.append(name.group(1))
    assert len(set(names)) == len(names), (path, names)  # each region its own name
