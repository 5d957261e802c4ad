"""The fast path for plain files: a batch of CSV files in the standard layout is parsed by DuckDB
in one query instead of file by file in Python. The bytes of every plain file of the batch go in
as one Arrow column; DuckDB splits them into lines and cells, drops blank lines and normalises
cells as `validate.normalise_cells` does.

A file takes the fast path only when the Python reader (`validate.parse_submission`) would read it
the same way for certain, so the two give the same rows and problems (tests/collect/
test_fast_path.py proves it on generated files): UTF-8 without a byte-order mark, the contract's
header exactly as the first line, no quotes, no carriage returns, no whitespace but spaces and
line feeds, no word that could make a totals row, no row wider than the contract, no line longer
than a cell may be, at least one row, and within the row limit. Anything else (title rows,
Windows-1252, workbooks, quoting, CRLF, odd layouts) is read by the Python reader, as before."""

from __future__ import annotations

import re

import duckdb
import numpy
import pyarrow as pa

from dagster_project.collect.contract import (
    COLUMN_NAMES,
    FLAG_COLUMNS,
    NOT_GIVEN,
    REQUIRED_COLUMNS,
)
from dagster_project.collect.read import MAX_CELL_CHARS, MAX_FILE_BYTES, MAX_ROWS
from dagster_project.collect.validate import FLAG_WORDS

HEADER_LINE = (",".join(COLUMN_NAMES) + "\n").encode("ascii")
# Whitespace Python's str.strip() would remove but DuckDB's trim() would not; a carriage return
# or a quote changes how the csv module cuts lines and cells.
_NOT_PLAIN = re.compile(r'[^\S \n]|"')
# A totals row ("Total", "Grand total", "Cyfanswm") is dropped by the Python reader with a
# warning; a file with any of these letters anywhere in its rows is left to it.
_MAYBE_TOTALS = re.compile(r"tota|cyfan", re.IGNORECASE)
# The same two questions of ASCII bytes, about 20 times faster than of text (most returns): the
# ASCII characters str.isspace() counts, but for space and line feed, or a quote; and the words
# in bytes lowered (no ASCII character but T, O, A, C, Y, F or N folds to those letters).
_NOT_PLAIN_ASCII = re.compile(rb'[\t\x0b\x0c\r\x1c-\x1f"]')
_TOTALS_ASCII = (b"tota", b"cyfan")

ROWS_SCHEMA = pa.schema([("row_number", pa.int32())] + [(c, pa.string()) for c in COLUMN_NAMES])


def plain_rows_text(name: str, data: bytes) -> str | None:
    """The text below the header of a file the fast path reads exactly as the Python reader
    does; None when the file must go to the Python reader."""
    if (
        not name.lower().endswith(".csv")
        or len(data) > MAX_FILE_BYTES
        or not data.startswith(HEADER_LINE)
        or data.count(b"\n") + 1 > MAX_ROWS
        or b"\x00" in data
    ):
        return None
    rows = data[len(HEADER_LINE) :]
    if rows.isascii():
        lowered = rows.lower()
        if _NOT_PLAIN_ASCII.search(rows) or any(word in lowered for word in _TOTALS_ASCII):
            return None
        return rows.decode("ascii")
    try:
        text = rows.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _NOT_PLAIN.search(text) or _MAYBE_TOTALS.search(text):
        return None
    return text


def _cell(position: int, column: str) -> str:
    value = f"trim(coalesce(cells[{position}], ''))"
    if column in FLAG_COLUMNS:
        words = " ".join(
            f"when '{word}' then '{meaning}'" for word, meaning in sorted(FLAG_WORDS.items())
        )
        return f"case lower({value}) {words} else {value} end"
    if column not in REQUIRED_COLUMNS:
        given = ", ".join(f"'{word}'" for word in sorted(NOT_GIVEN))
        return f"case when lower({value}) in ({given}) then '' else {value} end"
    return value


# Row n of a file is line n + 1 (the header is line 1). A line of spaces and commas is blank. A
# file with a row wider than the contract, a line longer than a cell may be (in bytes, so never
# fewer than its characters), or no row at all is sent back to the Python reader, which reports
# it exactly.
PARSE_SQL = f"""
with lines as (
    select file_id,
           unnest(string_split(text, chr(10))) as line,
           unnest(range(2, len(string_split(text, chr(10))) + 2)) as row_number
    from plain
), cut as (
    select file_id, row_number::integer as row_number, strlen(line) as bytes,
           regexp_full_match(line, '[ ,]*') as blank, string_split(line, ',') as cells
    from lines
), refused as (
    select file_id from cut
    group by file_id
    having bool_or(bytes > {MAX_CELL_CHARS} or (not blank and len(cells) > {len(COLUMN_NAMES)}))
)
select file_id, row_number,
       {", ".join(f"{_cell(i, c)} as {c}" for i, c in enumerate(COLUMN_NAMES, start=1))}
from cut
where not blank and file_id not in (select file_id from refused)
order by file_id, row_number
"""


def parse_plain(texts: dict[int, str]) -> dict[int, pa.Table]:
    """Each plain file's rows (ROWS_SCHEMA, in row order) by its key in `texts`; a file left
    out must be read by the Python reader."""
    if not texts:
        return {}
    plain = pa.table(
        {
            "file_id": pa.array(list(texts), pa.int32()),
            "text": pa.array(list(texts.values()), pa.string()),
        }
    )
    with duckdb.connect() as con:
        con.register("plain", plain)
        rows = con.sql(PARSE_SQL).to_arrow_table()
    if rows.num_rows == 0:
        return {}
    file_ids = rows.column("file_id").to_numpy()
    rows = rows.drop_columns(["file_id"]).cast(ROWS_SCHEMA)
    # Rows come grouped by file: each file's rows are one slice of the table.
    starts = [0, *(numpy.flatnonzero(numpy.diff(file_ids)) + 1).tolist()]
    ends = [*starts[1:], len(file_ids)]
    return {int(file_ids[s]): rows.slice(s, e - s) for s, e in zip(starts, ends, strict=True)}
