"""Collect on the fast path: a run costs what its new files cost. A landing file already loaded
(same name, size and modification time) is not read again; landing/ is worked through in batches,
and how it is cut into batches never changes what the warehouse, the reports or landing/ hold."""

import os
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.collect import load
from dagster_project.collect.contract import COLUMN_NAMES, V1_COLUMN_NAMES
from dagster_project.collect.fast import parse_plain, plain_rows_text
from dagster_project.collect.load import collect_submissions
from dagster_project.collect.validate import ParsedFile, parse_submission
from dagster_project.settings import DataPaths
from tests.conftest import CARDIFF, PARKING, SWANSEA, TAX, row, submission, write_landing

NOW = datetime(2026, 3, 1, 9, 0)
JAN = submission(row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))


def _set_times(paths: DataPaths, times: dict[str, int]) -> None:
    for name, seconds in times.items():
        os.utime(paths.landing / name, ns=(seconds * 10**9, seconds * 10**9))


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names read from landing/, by the real reader."""
    read: list[str] = []
    real = load.read_landing_file

    def counting(landing: Path, name: str, *args, **kwargs) -> bytes:
        read.append(name)
        return real(landing, name, *args, **kwargs)

    monkeypatch.setattr(load, "read_landing_file", counting)
    return read


def _rows(paths: DataPaths) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            "select file_name, row_number, transactions_total from raw.submissions order by all"
        ).fetchall()


def test_a_second_run_with_nothing_new_reads_no_file(data_paths, reference, monkeypatch):
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": JAN})
    collect_submissions(data_paths, reference, NOW)
    read = _reads(monkeypatch)
    again = collect_submissions(data_paths, reference, NOW)
    assert read == [] and again.skipped == [f"{CARDIFF}/jan.csv"] and again.accepted == []


def test_a_loaded_file_is_known_by_name_size_and_time_not_by_reading_it(data_paths, reference):
    """Other bytes of the same length under the same name and time are not read: were the file
    read again, the 7 would be loaded as a new submission."""
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": JAN})
    _set_times(data_paths, {f"{CARDIFF}/jan.csv": 1_767_225_600})
    collect_submissions(data_paths, reference, NOW)
    same_size = JAN.replace(b",10,5,", b",17,5,")
    assert len(same_size) == len(JAN)
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": same_size})
    _set_times(data_paths, {f"{CARDIFF}/jan.csv": 1_767_225_600})
    assert collect_submissions(data_paths, reference, NOW).accepted == []
    assert _rows(data_paths) == [(f"{CARDIFF}/jan.csv", 2, 10)]


def test_a_file_changed_in_place_is_collected(data_paths, reference, monkeypatch):
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": JAN})
    _set_times(data_paths, {f"{CARDIFF}/jan.csv": 1_767_225_600})
    collect_submissions(data_paths, reference, NOW)
    corrected = submission(row(CARDIFF, "2026-01", TAX, 12, 5, "yes", "no", 1, 1))
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": corrected})
    _set_times(data_paths, {f"{CARDIFF}/jan.csv": 1_767_312_000})  # saved a day later
    read = _reads(monkeypatch)
    result = collect_submissions(data_paths, reference, NOW)
    assert read == [f"{CARDIFF}/jan.csv"] and result.accepted == [f"{CARDIFF}/jan.csv"]
    assert _rows(data_paths) == [(f"{CARDIFF}/jan.csv", 2, 10), (f"{CARDIFF}/jan.csv", 2, 12)]
    assert collect_submissions(data_paths, reference, NOW).skipped == [f"{CARDIFF}/jan.csv"]


def test_a_file_touched_but_not_changed_is_read_and_skipped(data_paths, reference):
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": JAN})
    collect_submissions(data_paths, reference, NOW)
    _set_times(data_paths, {f"{CARDIFF}/jan.csv": 1_800_000_000})
    again = collect_submissions(data_paths, reference, NOW)
    assert again.accepted == [] and again.skipped == [f"{CARDIFF}/jan.csv"]
    assert _rows(data_paths) == [(f"{CARDIFF}/jan.csv", 2, 10)]


# Files that meet every case a batch boundary could split: a later file superseding an earlier
# one, the same bytes twice, a rejected file, a file with a warning, a file read by the slow
# path, and a file that is not a spreadsheet. Times fix the load order.
def _mixed_landing() -> tuple[dict[str, bytes], dict[str, int]]:
    files = {
        f"{CARDIFF}/01-jan.csv": JAN,
        f"{CARDIFF}/02-jan-again.csv": JAN,  # the same bytes: one submission
        f"{CARDIFF}/03-jan-corrected.csv": submission(
            row(CARDIFF, "2026-01", TAX, 11, 5, "yes", "no", 1, 1)
        ),
        f"{SWANSEA}/04-bad.csv": submission(
            row(SWANSEA, "2026-01", TAX, 10, 50, "yes", "no", 1, 1)
        ),
        f"{SWANSEA}/05-dup-rows.csv": submission(
            row(SWANSEA, "2026-02", TAX, 10, 5, "yes", "no", 1, 1),
            row(SWANSEA, "2026-02", TAX, 10, 5, "yes", "no", 1, 1),
        ),
        f"{SWANSEA}/06-windows.csv": "Ffurflen\n".encode("cp1252")
        + submission(row(SWANSEA, "2025-12", TAX, 9, 4, "y", "n", 1, 1)),
        f"{SWANSEA}/07-notes.pdf": b"%PDF-1.4",
        f"{CARDIFF}/08-feb.csv": submission(
            row(CARDIFF, "2026-02", TAX, 20, 15, "Yes", "no", 2, 3, notes="ŵ ŷ â ô")
        ),
    }
    return files, {name: 1_767_225_600 + 60 * i for i, name in enumerate(files)}


def _everything(paths: DataPaths) -> dict[str, object]:
    """The warehouse's raw tables and every file under quarantine/, feedback/ and landing/."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        tables = {
            table: con.execute(f"select * from raw.{table} order by all").fetchall()
            for table in ("submission_files", "submission_problems", "submissions")
        }
    for folder in (paths.quarantine, paths.feedback, paths.landing, paths.archive):
        tables[folder.name] = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
    return tables


def test_batch_boundaries_do_not_change_results(tmp_path, reference):
    files, times = _mixed_landing()
    outcomes, progress = [], {}
    for size in (1, 3, 1000):
        paths = DataPaths(tmp_path / f"batches-of-{size}").ensure()
        write_landing(paths, files)
        _set_times(paths, times)
        progress[size] = []
        told = progress[size]
        result = collect_submissions(
            paths,
            reference,
            NOW,
            batch_files=size,
            progress=lambda done, to_do, told=told: told.append((done, to_do)),
        )
        outcomes.append((result, _everything(paths)))
    (first, warehouse), *others = outcomes
    for result, again in others:
        assert again == warehouse
        assert (result.accepted, result.rejected, result.skipped, result.warned) == (
            first.accepted,
            first.rejected,
            first.skipped,
            first.warned,
        )
    assert first.skipped == [f"{CARDIFF}/02-jan-again.csv"]
    assert sorted(first.rejected) == [
        f"{SWANSEA}/04-bad.csv",
        f"{SWANSEA}/05-dup-rows.csv",
        f"{SWANSEA}/07-notes.pdf",
    ]
    # the corrected January is loaded after the first, so it supersedes it
    january = [r for r in warehouse["submissions"] if r[5] == CARDIFF and r[6] == "2026-01"]
    latest = max(january, key=lambda r: r[0])  # by load sequence
    assert (len(january), latest[1], latest[8]) == (2, f"{CARDIFF}/03-jan-corrected.csv", 11)
    # told after every batch: (files done, files to do)
    # file by file, however the files are cut into batches
    assert progress[3] == progress[1] == progress[1000] == [(n, 8) for n in range(1, 9)]


def test_progress_is_told_once_when_there_is_nothing_to_do(data_paths, reference):
    calls: list[tuple[int, int]] = []
    collect_submissions(data_paths, reference, NOW, progress=lambda *c: calls.append(c))
    assert calls == [(0, 0)]


def test_a_file_record_and_its_problems_go_in_as_one_bulk_insert(data_paths, reference):
    """Recorded by the bulk insert, every field arrives in its column: hand-checked values."""
    write_landing(
        data_paths,
        {f"{SWANSEA}/bad.csv": submission(row(SWANSEA, "2026-01", TAX, 10, 50, "yes", "no", 1, 1))},
    )
    _set_times(data_paths, {f"{SWANSEA}/bad.csv": 1_767_225_600})
    collect_submissions(data_paths, reference, NOW)
    with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
        record = con.execute(
            "select load_sequence, file_name, source, sender, status, received_at, row_count, "
            "error_count, warning_count, periods, landing_mtime_ns, landing_size "
            "from raw.submission_files"
        ).fetchall()
        problems = con.execute("select * from raw.submission_problems").fetchall()
    size = len(submission(row(SWANSEA, "2026-01", TAX, 10, 50, "yes", "no", 1, 1)))
    assert record == [
        (1, f"{SWANSEA}/bad.csv", "landing", SWANSEA, "rejected", NOW, 1, 1, 0, ["2026-01"],
         1_767_225_600 * 10**9, size)
    ]  # fmt: skip
    assert problems == [
        (1, 2, "transactions_online", "50", "online_not_above_total", "error", "10")
    ]


# --- the fast path and the Python reader agree ------------------------------------------------

HEADER = ",".join(COLUMN_NAMES)
V1_HEADER = ",".join(V1_COLUMN_NAMES)
MEASURES = COLUMN_NAMES[len(V1_COLUMN_NAMES) :]
COUNTS = st.sampled_from(["0", "7", "12", " 30 ", "", "n/a", "NA", "-1", "1.5", "x", "0012"])
CELLS = {
    "body_code": st.sampled_from([CARDIFF, CARDIFF, CARDIFF, f" {CARDIFF}", SWANSEA, "W9", ""]),
    "period": st.sampled_from(["2026-01", "2026-02", "2025-12", "2026-13", "2027-01", "", "Jan"]),
    "service_code": st.sampled_from([TAX, TAX, PARKING, "la_council_tax", " " + TAX, ""]),
    "transactions_total": st.sampled_from(["100"] * 8 + ["20", "5", "", "x", "1.5", "Total"]),
    "transactions_online": st.sampled_from(["10", "10", "50", "200", "", "-3"]),
    "available_online": st.sampled_from(["yes", "Yes", "Y", "no", "FALSE", "true", "maybe", ""]),
    "digital_by_default": st.sampled_from(["no", "N", "yes", "TRUE", "n/a", "İ"]),
    "letters_posted": COUNTS,
    "digital_notifications": COUNTS,
    "notes": st.one_of(
        st.text(alphabet="ab ŵŷâôİKſ", max_size=6),
        st.sampled_from(["", "", "", "", "", "", "a\tb", "\xa0", '"q"', "\x1c", "a,b", "Cyfanswm"]),
    ),
    # v2: around the bounds of their rules (online is 10, 50, 200 or blank)
    "online_started": st.sampled_from(["", "", "9", "10", "60", "250", "n/a", "-1", "1.0"]),
    "satisfaction_responses": st.sampled_from(["", "", "40", "0", "N/A", "4O"]),
    "satisfied_responses": st.sampled_from(["", "", "30", "40", "41", "0", "x"]),
    "cost_total": st.sampled_from(
        [
            "",
            "",
            "1250.50",
            "0",
            "12.5",
            "£12.50",
            "£ 7",
            " £3 ",
            "£",
            "12.505",
            "-5",
            "£-5",
            "€12",
            "1e3",
            ".5",
            "12.",
            "£1,250",
            "n/a",
            "£ŵ",
        ]
    ),  # fmt: skip
    "transactions_online_welsh": st.sampled_from(["", "", "0", "5", "10", "11", "250", "na"]),
}
for _optional in ("transactions_phone", "transactions_face_to_face", "transactions_paper"):
    CELLS[_optional] = COUNTS
CELLS["transactions_other"] = COUNTS


@st.composite
def headers(draw) -> list[str]:
    """A header of contract columns: v1, the v2 template, or v1 with some of v2's measures,
    now and then in another order."""
    kind = draw(st.sampled_from(["v1", "v2", "v2", "some", "shuffled"]))
    if kind == "v1":
        return list(V1_COLUMN_NAMES)
    if kind == "v2":
        return list(COLUMN_NAMES)
    columns = [*V1_COLUMN_NAMES, *draw(st.lists(st.sampled_from(MEASURES), unique=True))]
    return draw(st.permutations(columns)) if kind == "shuffled" else columns


@st.composite
def lines(draw, columns: list[str]) -> str:
    """A data line: mostly a row of the header's width, sometimes shorter, wider or blank."""
    kind = draw(st.sampled_from(["row"] * 12 + ["short", "wide", "blank", "spaces"]))
    if kind == "blank":
        return ""
    if kind == "spaces":
        return " , ,  "
    cells = [draw(CELLS[c]) for c in columns]
    if kind == "short":
        cells = cells[: draw(st.integers(1, len(cells) - 1))]
    if kind == "wide":
        cells += draw(st.sampled_from([[""], ["  "], ["extra"]]))
    return ",".join(cells)


@st.composite
def landing_files(draw) -> bytes:
    """A submission as bodies send them: mostly plain, sometimes with a title row, a byte-order
    mark, CRLF, Windows-1252, duplicate rows, or no rows at all."""
    columns = draw(headers())
    body = draw(st.lists(lines(columns), min_size=0, max_size=4))
    if body and draw(st.booleans()):
        body.append(draw(st.sampled_from(body)))  # a duplicate row
    plain = ",".join(columns)
    header, newline, encoding = plain, "\n", "utf-8"
    if draw(st.integers(0, 2)) == 0:  # a third of the files are laid out as plain files are not
        header = draw(st.sampled_from([plain, "Return for January\n" + plain, plain.upper()]))
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    text = newline.join([header, *body]) + draw(st.sampled_from([newline, ""]))
    return text.encode(encoding, errors="replace")


def _fast_rows(name: str, data: bytes) -> list[dict[str, str]] | None:
    """The rows the fast path reads, or None when it leaves the file to the Python reader."""
    text = plain_rows_text(name, data)
    table = parse_plain({0: text}).get(0) if text is not None else None
    if table is None:
        return None
    parsed = ParsedFile(name, "", CARDIFF, table=table)
    parsed.with_row_dicts()
    return parsed.rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=landing_files())
def test_the_fast_path_reads_what_the_python_reader_reads(data):
    slow = parse_submission(f"{CARDIFF}/return.csv", data, sender=CARDIFF)
    fast = _fast_rows(f"{CARDIFF}/return.csv", data)
    if fast is not None:
        assert slow.problems == [] and slow.problems_not_listed == Counter()
        assert fast == slow.rows


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from([*map(chr, range(128)), "ŵ", "\u00a0", "\u2028", "Ŧ"]),
        max_size=40,
    )
    | st.sampled_from(["Total", "GRAND TOTAL", "cYfAnSwM", "tot al", "\tx", "a\x1fb", 'a"b'])
)
def test_the_ascii_shortcut_refuses_what_the_text_checks_refuse(text):
    """plain_rows_text reads ASCII rows as bytes (faster), other rows as text: both refuse the
    same rows. A row of ASCII text gives the same answer with its ŵ added (the text checks)."""
    data = (HEADER + "\n" + text).encode("utf-8")
    if "\x00" in text:
        assert plain_rows_text("a.csv", data) is None
        return
    welsh = (HEADER + "\n" + text + "ŵ").encode("utf-8")
    assert (plain_rows_text("a.csv", data) is None) == (plain_rows_text("a.csv", welsh) is None)
    if plain_rows_text("a.csv", data) is not None:
        assert plain_rows_text("a.csv", data) == HEADER + "\n" + text
        assert plain_rows_text("a.csv", welsh) == HEADER + "\n" + text + "ŵ"


def test_a_plain_file_takes_the_fast_path_and_an_unusual_one_does_not():
    plain = submission(row(CARDIFF, "2026-01", TAX, 10, 5, "Yes", "n", 1, 1, notes=" ŵ "))
    assert _fast_rows("a.csv", plain) == [
        {**dict.fromkeys(COLUMN_NAMES, ""), "body_code": CARDIFF, "period": "2026-01",
         "service_code": TAX, "transactions_total": "10", "transactions_online": "5",
         "available_online": "yes", "digital_by_default": "no", "letters_posted": "1",
         "digital_notifications": "1", "notes": "ŵ", "_row": "2"}
    ]  # fmt: skip
    for unusual in (
        b"\xef\xbb\xbf" + plain,  # a byte-order mark
        plain.replace(b"\n", b"\r\n"),  # Windows line endings
        b"Return for January\n" + plain,  # a title row
        plain.replace("ŵ".encode(), b"\xe2"),  # Windows-1252
        plain + f"{CARDIFF},Total,,1,1,,,,,yes,no,1,1,\n".encode(),  # a totals row
        plain.replace(b" \xc5\xb5 ", b'"a, b"'),  # quoting
        submission(),  # no rows
    ):
        assert _fast_rows("a.csv", unusual) is None
    assert _fast_rows("a.txt", plain) is None  # only .csv files


def _collected(root: Path, reference, files: dict[str, bytes], fast_path: bool) -> dict:
    paths = DataPaths(root).ensure()
    write_landing(paths, files)
    _set_times(paths, {name: 1_767_225_600 + 60 * i for i, name in enumerate(files)})
    result = collect_submissions(paths, reference, NOW, fast_path=fast_path)
    return {
        "result": (result.accepted, result.rejected, result.warned, result.skipped),
        **_everything(paths),
    }


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(landing_files(), min_size=1, max_size=5))
def test_fast_and_slow_collections_give_the_same_warehouse_and_reports(
    tmp_path_factory, reference, files
):
    """Rows, problems, file records and the reports (JSON, HTML, text) byte for byte."""
    named = {f"{CARDIFF}/{i:02d}-return.csv": data for i, data in enumerate(files)}
    root = tmp_path_factory.mktemp("compare")
    fast = _collected(root / "fast", reference, named, fast_path=True)
    slow = _collected(root / "slow", reference, named, fast_path=False)
    assert fast == slow
