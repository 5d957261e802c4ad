"""The fast path for plain files: a batch of CSV files in the standard layout is parsed by DuckDB
in one query instead of file by file in Python. The bytes of every plain file of the batch go in
as one Arrow column; DuckDB splits them into lines and cells, drops blank lines and normalises
cells as `validate.normalise_cells` does.

A file takes the fast path only when the Python reader (`validate.parse_submission`) would read it
the same way for certain, so the two give the same rows and problems (tests/collect/
test_fast_path.py proves it on generated files): UTF-8 without a byte-order mark, a header of
contract column names as the first line (every required one, each once, in any order: a v1
file, the v2 template, or v1 with some of v2's optional measures), no quotes, no carriage
returns, no whitespace but spaces and line feeds, no word that could make a totals row, no row
wider than its header, no line longer than a cell may be, at least one row, and within the row
limit. Anything else (title rows, Windows-1252, workbooks, quoting, CRLF, headers in other
spellings) is read by the Python reader, as before."""

from __future__ import annotations

import re
from functools import lru_cache

import duckdb
import numpy
import pyarrow as pa

from dagster_project.collect.contract import (
    COLUMN_NAMES,
    FLAG_COLUMNS,
    MONEY_COLUMNS,
    MONEY_WRITTEN,
    NOT_GIVEN,
    REQUIRED_COLUMNS,
)
from dagster_project.collect.read import MAX_CELL_CHARS, MAX_FILE_BYTES, MAX_ROWS
from dagster_project.collect.validate import FLAG_WORDS

# The template's header (every column of the contract, in its order).
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


@lru_cache(maxsize=64)
def plain_header(line: bytes) -> bool:
    """Whether a first line is a header the Python reader reads as it stands: contract column
    names only, each once, every required one among them (so the same few layouts, v1 and v2,
    are judged once a process)."""
    names = line.split(b",")
    return (
        len(set(names)) == len(names)
        and all(name.decode("ascii", "replace") in COLUMN_NAMES for name in names)
        and set(REQUIRED_COLUMNS) <= {name.decode("ascii") for name in names}
    )


def plain_rows_text(name: str, data: bytes) -> str | None:
    """The text (header line and rows) of a file the fast path reads exactly as the Python
    reader does; None when the file must go to the Python reader."""
    end_of_header = data.find(b"\n")
    if (
        not name.lower().endswith(".csv")
        or len(data) > MAX_FILE_BYTES
        or not 0 < end_of_header < len(HEADER_LINE)  # no header is longer than the template's
        or not plain_header(data[:end_of_header])
        or data.count(b"\n") + 1 > MAX_ROWS
        or b"\x00" in data
    ):
        return None
    header = data[: end_of_header + 1].decode("ascii")
    rows = data[end_of_header + 1 :]
    if rows.isascii():
        lowered = rows.lower()
        if _NOT_PLAIN_ASCII.search(rows) or any(word in lowered for word in _TOTALS_ASCII):
            return None
        return header + rows.decode("ascii")
    try:
        text = rows.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _NOT_PLAIN.search(text) or _MAYBE_TOTALS.search(text):
        return None
    return header + text


def _cell(column: str, at: str) -> str:
    """The cell of `column` in a row, as `validate.normalise_cells` reads it, from its position
    `at` in the row (NULL or out of range: the file's header does not have it, so '')."""
    value = f"trim(coalesce(cells[{at}], ''))"
    if column in FLAG_COLUMNS:
        words = " ".join(
            f"when '{word}' then '{meaning}'" for word, meaning in sorted(FLAG_WORDS.items())
        )
        return f"case lower({value}) {words} else {value} end"
    if column not in REQUIRED_COLUMNS:
        given = ", ".join(f"'{word}'" for word in sorted(NOT_GIVEN))
        # A cell cannot hold a comma here: of a sum of money, only the pound sign goes.
        written = (
            f"when regexp_full_match({value}, '{MONEY_WRITTEN}') "
            f"then replace(replace({value}, '£', ''), ' ', '') "
            if column in MONEY_COLUMNS
            else ""
        )
        return f"case when lower({value}) in ({given}) then '' {written}else {value} end"
    return value


# The few layouts most files share are parsed with their columns' positions written into the
# query (the template's alone costs half the time of looking them up file by file); any other
# plain header by a query that reads each file's positions from its first line.
LAYOUTS_BY_POSITION = 4


@lru_cache(maxsize=16)
def parse_sql(columns: tuple[str, ...] | None) -> str:
    """The query reading plain files whose header is `columns`, or (None) any plain header.

    Line 1 of a file is its header; row n is line n. A line of spaces and commas is blank. A
    file with a row wider than its header, a line longer than a cell may be (in bytes, so never
    fewer than its characters), or no row at all is sent back to the Python reader, which
    reports it exactly."""
    if columns is None:
        positions = ", ".join(
            f"list_position(string_split(lines[1], ','), '{c}') as at_{c}" for c in COLUMN_NAMES
        )
        headers = f"""
    , headers as (
    select file_id, len(string_split(lines[1], ',')) as width, {positions} from files
)"""
        with_header, width = "cut join headers using (file_id)", "width"
        at = {c: f"at_{c}" for c in COLUMN_NAMES}
    else:  # one layout: its width and positions are constants, no join
        headers, with_header, width = "", "cut", str(len(columns))
        at = {c: str(columns.index(c) + 1) if c in columns else "0" for c in COLUMN_NAMES}
    return f"""
with files as (
    select file_id, string_split(text, chr(10)) as lines from plain
){headers}, numbered as (
    select file_id, unnest(lines[2:]) as line, unnest(range(2, len(lines) + 1)) as row_number
    from files
), cut as (
    select file_id, row_number::integer as row_number, strlen(line) as bytes,
           regexp_full_match(line, '[ ,]*') as blank, string_split(line, ',') as cells
    from numbered
), refused as (
    select file_id, {width} from {with_header}
    group by all
    having bool_or(bytes > {MAX_CELL_CHARS} or (not blank and len(cells) > {width}))
)
select file_id, row_number,
       {", ".join(f"{_cell(c, at[c])} as {c}" for c in COLUMN_NAMES)}
from {with_header}
where not blank and file_id not in (select file_id from refused)
order by file_id, row_number
"""


def parse_plain(texts: dict[int, str]) -> dict[int, pa.Table]:
    """Each plain file's rows (ROWS_SCHEMA, in row order) by its key in `texts`; a file left
    out must be read by the Python reader."""
    if not texts:
        return {}
    layouts: dict[str, list[int]] = {}
    for key, text in texts.items():
        layouts.setdefault(text[: text.find("\n")], []).append(key)
    common = sorted(layouts, key=lambda h: (-len(layouts[h]), h))[:LAYOUTS_BY_POSITION]
    groups = [(tuple(h.split(",")), layouts.pop(h)) for h in common]
    if layouts:
        groups.append((None, [key for keys in layouts.values() for key in keys]))
    parts = []
    with duckdb.connect() as con:
        for columns, keys in groups:
            plain = pa.table(
                {
                    "file_id": pa.array(keys, pa.int32()),
                    "text": pa.array([texts[k] for k in keys], pa.string()),
                }
            )
            con.register("plain", plain)
            parts.append(con.sql(parse_sql(columns)).to_arrow_table())
            con.unregister("plain")
    rows = pa.concat_tables(parts)
    if rows.num_rows == 0:
        return {}
    file_ids = rows.column("file_id").to_numpy()
    rows = rows.drop_columns(["file_id"]).cast(ROWS_SCHEMA)
    # Rows come grouped by file: each file's rows are one slice of the table.
    starts = [0, *(numpy.flatnonzero(numpy.diff(file_ids)) + 1).tolist()]
    ends = [*starts[1:], len(file_ids)]
    return {int(file_ids[s]): rows.slice(s, e - s) for s, e in zip(starts, ends, strict=True)}
