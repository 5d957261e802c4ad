"""Extracts rendered the fast way are the extracts rendered the plain way, byte for byte: each
workbook is the one xlsxwriter writes through its own writers cell by cell, each page the one
the template gives when it words every cell itself, and a publication rendered by worker
processes is the one rendered in this process."""

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.catalogue import LANGUAGES
from dagster_project.reference import load_reference
from exports.cells import FORMULA_PREFIXES, Cell, Sheet, workbook_bytes
from exports.extracts import (
    QUERIES,
    BodyExtract,
    ExtractError,
    _by_body,
    extract_files,
    extract_sheets,
    page_context,
    publish_extracts,
)
from exports.templating import TEMPLATES_DIR, template_environment

# The page's long tables as the template wrote them before they came already in words: each
# cell worded by a call from the template. (new loop, loop it replaced)
WORDED_BY_THE_TEMPLATE = [
    (
        "[%- for month, figures, status in trend_rows %]\n"
        '<tr><th scope="row">[[ month ]]</th>[% for figure in figures %]<td class="number">'
        "[[ figure ]]</td>[% endfor %]<td>[[ status ]]</td></tr>",
        "[%- for r in trend %]\n"
        '<tr><th scope="row">[[ w.month(r.period) ]]</th>[% for code, label, unit in '
        'trend_columns %]<td class="number">[[ w.measure(r[code], unit) ]]</td>[% endfor %]'
        "<td>[[ r.status or t.final ]]</td></tr>",
    ),
    (
        "[%- for month, service, total, online, take_up, available, by_default, letters, "
        "notifications, revised in service_rows %]\n"
        '<tr><td>[[ month ]]</td><th scope="row">[[ service ]]</th><td class="number">'
        '[[ total ]]</td><td class="number">[[ online ]]</td><td class="number">[[ take_up ]]'
        '</td><td>[[ available ]]</td><td>[[ by_default ]]</td><td class="number">'
        '[[ letters ]]</td><td class="number">[[ notifications ]]</td><td>[[ revised ]]</td>'
        "</tr>",
        "[%- for s in services %]\n"
        '<tr><td>[[ w.month(s.period) ]]</td><th scope="row">[[ s["service_name_" + lang] ]]'
        '</th><td class="number">[[ w.count(s.transactions_total) ]]</td><td class="number">'
        '[[ w.count(s.transactions_online) ]]</td><td class="number">'
        '[[ w.measure(s.online_take_up, "fraction") ]]</td><td>[[ w.flag(s.available_online) ]]'
        '</td><td>[[ w.flag(s.digital_by_default) ]]</td><td class="number">'
        '[[ w.count(s.letters_posted) ]]</td><td class="number">'
        "[[ w.count(s.digital_notifications) ]]</td><td>[[ w.flag(s.revised) ]]</td></tr>",
    ),
    (
        "[%- for month, due, status, received, versions, rejected in return_rows %]\n"
        '<tr><th scope="row">[[ month ]]</th><td>[[ due ]]</td><td>[[ status ]]</td><td>'
        '[[ received ]]</td><td class="number">[[ versions ]]</td><td class="number">'
        "[[ rejected ]]</td></tr>",
        "[%- for r in returns %]\n"
        '<tr><th scope="row">[[ w.month(r.period) ]]</th><td>[[ w.day(r.due_date) ]]</td><td>'
        "[[ w.value(r.status) ]]</td><td>[[ w.timestamp(r.first_received_at) ]]</td>"
        '<td class="number">[[ r.versions ]]</td><td class="number">[[ r.rejected_files ]]'
        "</td></tr>",
    ),
    ("[% if return_rows %]", "[% if returns %]"),
    ("[% if trend_rows %]", "[% if trend %]"),
]


def read_extracts(warehouse: Path) -> list[BodyExtract]:
    """Every body's extract, read as the publication reads it."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        bodies = [c for (c,) in con.execute("select body_code from marts.league_table").fetchall()]
        data = {name: _by_body(con, sql, order, bodies) for name, (sql, order) in QUERIES.items()}
    return [
        BodyExtract(
            data["summary"][code][0],
            *(data[name].get(code, []) for name in ("indicators", "services", "trend", "returns")),
        )
        for code in sorted(bodies)
    ]


def first_difference(fast: str | bytes, plain: str | bytes) -> str | None:
    """Where two renderings first differ (a short message, not a diff of whole files)."""
    if fast == plain:
        return None
    at = next((i for i, (a, b) in enumerate(zip(fast, plain, strict=False)) if a != b), None)
    at = min(len(fast), len(plain)) if at is None else at
    start = max(0, at - 40)
    return f"at {at}: {fast[start : at + 40]!r} != {plain[start : at + 40]!r}"


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_every_demo_workbook_is_the_one_xlsxwriter_writes_cell_by_cell(demo_run):
    reference = load_reference()
    indicators = {i["indicator_code"]: i for i in reference.indicators}
    extracts = read_extracts(demo_run.warehouse)
    assert len(extracts) > 20
    for extract in extracts:
        for language in LANGUAGES:
            sheets = extract_sheets(extract, language, indicators, reference.sector_names(language))
            fast, plain = workbook_bytes(sheets), workbook_bytes(sheets, fast=False)
            assert first_difference(fast, plain) is None, (extract.code, language)


def test_every_demo_page_is_the_one_the_template_words_cell_by_cell(demo_run):
    source = (TEMPLATES_DIR / "extract.html.j2").read_text(encoding="utf-8")
    for new, old in WORDED_BY_THE_TEMPLATE:
        assert source.count(new) == 1, new[:40]
        source = source.replace(new, old)
    worded_by_the_template = template_environment(html=True).from_string(source)
    fast = template_environment(html=True).get_template("extract.html.j2")
    reference = load_reference()
    indicators = {i["indicator_code"]: i for i in reference.indicators}
    extracts = read_extracts(demo_run.warehouse)
    # and a body with nothing in its long tables (every demo body has a late return)
    extracts.append(replace(extracts[0], services=[], trend=[], returns=[]))
    for extract in extracts:
        for language in LANGUAGES:
            context = page_context(
                extract,
                language,
                indicators,
                reference.sector_names(language),
                extract_files(extract.code),
            )
            plain = worded_by_the_template.render(
                context, trend=extract.trend, services=extract.services, returns=extract.returns
            )
            assert first_difference(fast.render(context), plain) is None, extract.code


def test_worker_processes_publish_the_files_this_process_publishes(demo_run, tmp_path):
    progress: list[tuple[int, int]] = []
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        here = publish_extracts(con, tmp_path / "here", workers=1)
        pooled = publish_extracts(
            con, tmp_path / "pooled", workers=2, progress=lambda d, t: progress.append((d, t))
        )
    assert pooled.rendered == here.rendered and len(here.rendered) > 20
    pooled_files, files = files_under(tmp_path / "pooled"), files_under(tmp_path / "here")
    assert sorted(pooled_files) == sorted(files)
    for name, data in files.items():
        assert first_difference(pooled_files[name], data) is None, name
    total = len(here.rendered)
    assert progress[0] == (0, total) and progress[-1] == (total, total)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_body_that_cannot_be_rendered_is_named_in_the_error(demo_run, tmp_path, workers):
    target = tmp_path / "extracts"
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        (code,) = con.execute("select max(body_code) from marts.league_table").fetchone()
        target.mkdir()
        (target / code).write_text("a file where the body's folder goes")
        with pytest.raises(ExtractError, match=f"^{code}: FileExistsError"):
            publish_extracts(con, target, workers=workers)


# Values of every kind a sheet is given; text that starts like a formula, and control
# characters and XML's own, among them.
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(
    [f"{prefix}1+1" for prefix in FORMULA_PREFIXES] + ["<&>\"'", "_x0000_", " padded "]
)
FORMATS = st.sampled_from([None, "0.0%", "#,##0", "yyyy-mm", "+0.0;-0.0;0.0"])
VALUES = st.one_of(
    st.none(),
    TEXT,
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(date(1900, 3, 1), date(2100, 1, 1)),
    st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)),
    st.datetimes(datetime(1900, 3, 2), datetime(2100, 1, 1), timezones=st.just(UTC)),
)
CELLS = VALUES | st.builds(Cell, VALUES, FORMATS)
SHEETS = st.builds(
    Sheet,
    st.text(st.characters(categories=("L", "N")), min_size=1, max_size=10).filter(
        lambda title: title.lower() != "history"  # a name Excel keeps for itself
    ),
    st.lists(TEXT, max_size=5),
    st.lists(st.lists(CELLS, max_size=7), max_size=40),
    st.lists(FORMATS, max_size=7),
    st.lists(st.none() | st.integers(1, 40), max_size=7),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SHEETS, min_size=1, max_size=3, unique_by=lambda s: s.title.lower()))
def test_any_sheets_give_the_bytes_xlsxwriter_writes_cell_by_cell(sheets):
    assert workbook_bytes(sheets) == workbook_bytes(sheets, fast=False)


def test_a_text_longer_than_a_cell_holds_is_cut_as_xlsxwriter_cuts_it():
    sheets = [Sheet("Long", ["h", "=x" * 20000], [["a" * 40000, 1], ["b" * 16000]])]
    assert workbook_bytes(sheets) == workbook_bytes(sheets, fast=False)
