"""Open data is data: values as they are, ties machine-readable, and no submitted text in it."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exports.cells import FORMULA_PREFIXES, Sheet, format_cell, workbook_bytes

RANK_LABEL = re.compile(r"=?[1-9][0-9]*")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Every word the league table may hold that is not a number, a code or a name from the register.
LABELS = {
    "", "true", "false", "ranked", "insufficient data", "improving", "worsening", "no change",
    "met", "on_track", "off_track", "x", "u", "r", "p", "not ranked", "not ranked last month",
    "fewer than 4 ranked bodies",
}  # fmt: skip


@given(st.text())
def test_open_data_cells_carry_text_as_it_is(text):
    assert format_cell(text) == text


@given(st.text(min_size=1))
def test_spreadsheet_cells_never_start_a_formula(text):
    assert not format_cell(text, neutralise=True).startswith(FORMULA_PREFIXES)


# Text an XML cell can hold: no surrogates, control characters or non-characters.
CELL_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), min_size=1
)


@settings(max_examples=40, deadline=None)
@given(CELL_TEXT)
def test_workbook_text_is_kept_whole_and_never_a_formula(text):
    """Any text reaches a workbook as a string cell holding exactly that text; text that starts
    like a formula carries Excel's quote prefix, so editing the cell cannot run it either."""
    data = workbook_bytes([Sheet("S", ["h"], [[text]])])
    cell = load_workbook(io.BytesIO(data))["S"]["A2"]
    assert (cell.value, cell.data_type) == (text, "s")
    assert cell.quotePrefix == text.startswith(FORMULA_PREFIXES)


def test_a_tie_label_is_written_plainly_and_flagged_as_data():
    assert format_cell("=7") == "=7" and format_cell(True) == "true"


def test_every_league_table_cell_is_a_number_a_label_or_reference_data(pipeline_run, reference):
    """No cell of the published league table can come from a submission: each is a number, a
    rank label, a fixed label, or a code, name or sector from the register."""
    register = {
        value for body in reference.bodies for value in (
            body["body_code"], body["name_en"], body["name_cy"], body["sector"]
        )
    } | {"2026-02"}  # fmt: skip
    path = pipeline_run.paths.open_data / "league_table.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    odd = {
        cell
        for row in rows
        for cell in row.values()
        if cell not in LABELS
        and cell not in register
        and not NUMBER.fullmatch(cell)
        and not RANK_LABEL.fullmatch(cell)
    }
    assert odd == set()
    records = json.loads((pipeline_run.paths.open_data / "league_table.json").read_text())
    assert not any(
        isinstance(v, str) and v.startswith("'") for record in records for v in record.values()
    )
    tied_column = {row["sector_rank_tied"] for row in rows}
    assert tied_column <= {"true", "false", ""}


def _readable_text(path: Path) -> str:
    """What a file says, whatever its packaging: workbooks unzipped, Parquet read as rows."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as workbook:
            return "".join(workbook.read(n).decode("utf-8", "replace") for n in workbook.namelist())
    if path.suffix == ".parquet":
        return str(duckdb.sql(f"select * from read_parquet('{path}')").fetchall())
    return path.read_bytes().decode("utf-8", "replace")


def test_submitted_notes_reach_no_publication(demo_run):
    """The demo returns carry a note on the month a service first goes online; notes are the
    only free text in the contract, and not one publication holds it."""
    note = "new online service"
    received = [p for p in demo_run.archive.rglob("*") if p.is_file() and note in _readable_text(p)]
    assert received, "the demo data should carry the note"
    published = [
        p.relative_to(demo_run.exports)
        for p in demo_run.exports.rglob("*")
        if p.is_file() and "node_modules" not in p.parts and note in _readable_text(p)
    ]
    assert published == []
