"""Collecting in batches stays each file's own business: a number too large for any integer, a
file that cannot be read, a backup that hard-links landing files, workbooks that unpack to many
rows, and progress that moves file by file. (Found by a hostile trial of the fast path.)"""

import io
import os
import threading
from datetime import datetime

import duckdb
import pytest
from openpyxl import Workbook

from dagster_project.collect import load
from dagster_project.collect.contract import COLUMN_NAMES
from dagster_project.collect.load import ROW_BYTES, collect_submissions
from tests.conftest import CARDIFF, SWANSEA, TAX, row, submission, write_landing

NOW = datetime(2026, 11, 2, 9, 0)


def query(paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_count_too_large_for_any_integer_fails_only_its_file(data_paths, reference):
    huge = "9" * 45  # beyond even a 128-bit integer
    files = {
        f"{CARDIFF}/huge.csv": submission(row(CARDIFF, "2026-10", TAX, huge, 5, "yes", "no", 1, 1)),
        f"{SWANSEA}/oct.csv": submission(row(SWANSEA, "2026-10", TAX, 10, 5, "yes", "no", 1, 1)),
    }
    write_landing(data_paths, files)
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/oct.csv"]
    rules = {p.rule for p in result.rejected[f"{CARDIFF}/huge.csv"]}
    assert rules == {"too_large"}  # its own rule, not an internal error of a failed batch


def test_a_body_s_later_file_waits_behind_one_that_could_not_be_read(
    data_paths, reference, monkeypatch
):
    # jan.csv (online 50) was received before jan_v2.csv (online 90). If jan.csv cannot be read
    # this run, jan_v2.csv waits too: loaded first, it would be superseded next run by the
    # older version, and 50 would be published.
    old = submission(row(CARDIFF, "2025-01", TAX, 100, 50, "yes", "no", 1, 1))
    new = submission(row(CARDIFF, "2025-01", TAX, 100, 90, "yes", "no", 1, 1))
    other = submission(row(SWANSEA, "2025-01", TAX, 10, 5, "yes", "no", 1, 1))
    write_landing(
        data_paths,
        {f"{CARDIFF}/jan.csv": old, f"{CARDIFF}/jan_v2.csv": new, f"{SWANSEA}/jan.csv": other},
    )
    for age, name in enumerate([f"{CARDIFF}/jan_v2.csv", f"{CARDIFF}/jan.csv"]):
        moment = 1_700_000_000 - 3600 * age  # jan.csv an hour older than jan_v2.csv
        os.utime(data_paths.landing / name, (moment, moment))
    real = load.read_landing_file

    def unreadable_once(landing, name, *args):
        if name == f"{CARDIFF}/jan.csv":
            raise PermissionError(13, "Permission denied")
        return real(landing, name, *args)

    monkeypatch.setattr(load, "read_landing_file", unreadable_once)
    first = collect_submissions(data_paths, reference, NOW)
    assert first.accepted == [f"{SWANSEA}/jan.csv"]  # another body is not held up
    assert first.deferred == {
        f"{CARDIFF}/jan.csv": "could not be read (PermissionError)",
        f"{CARDIFF}/jan_v2.csv": load.WAITS_BEHIND,
    }
    monkeypatch.setattr(load, "read_landing_file", real)
    second = collect_submissions(data_paths, reference, NOW)
    assert second.accepted == [f"{CARDIFF}/jan.csv", f"{CARDIFF}/jan_v2.csv"]
    [(online,)] = query(
        data_paths,
        "select transactions_online from raw.submissions where body_code = 'W06000015' "
        "order by load_sequence desc limit 1",
    )
    assert online == 90


def test_a_hard_link_made_by_a_backup_leaves_an_accepted_file_accepted(
    data_paths, reference, tmp_path
):
    name = f"{SWANSEA}/oct.csv"
    write_landing(
        data_paths, {name: submission(row(SWANSEA, "2026-10", TAX, 10, 5, "yes", "no", 1, 1))}
    )
    assert collect_submissions(data_paths, reference, NOW).accepted == [name]
    os.link(data_paths.landing / name, tmp_path / "backup-oct.csv")  # as `cp -al` does
    again = collect_submissions(data_paths, reference, NOW)
    assert again.skipped == [name] and not again.rejected
    assert (data_paths.landing / name).exists()
    assert not any(data_paths.quarantine.iterdir())
    assert query(data_paths, "select status, count(*) from raw.submission_files group by 1") == [
        ("accepted", 1)
    ]


def workbook(rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMN_NAMES)
    for cells in rows:
        sheet.append([str(cells.get(c, "")) for c in COLUMN_NAMES])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_batch_closes_on_rows_read_not_only_bytes_on_disk(data_paths, reference, monkeypatch):
    # Two workbooks of 48 rows each: a few KB on disk, 48 x ROW_BYTES each once read. With a
    # batch limit of 40 rows' worth, each is its own batch; the files on disk would fit one.
    services = [s["service_code"] for s in reference.services if s["sector"] == "local_authority"]
    books = {
        f"{body}/oct.xlsx": workbook(
            [row(body, f"{year}-{month:02d}", service, 10, 5, "yes", "no", 1, 1)
             for year in (2024, 2025) for month in range(1, 13) for service in services[:2]]
        )
        for body in (CARDIFF, SWANSEA)
    }  # fmt: skip
    assert sum(len(data) for data in books.values()) < 40 * ROW_BYTES
    write_landing(data_paths, books)
    sizes = []
    real = load._load_batch
    monkeypatch.setattr(load, "BATCH_BYTES", 40 * ROW_BYTES)
    monkeypatch.setattr(
        load,
        "_load_batch",
        lambda con, run, batch: sizes.append(len(batch)) or real(con, run, batch),
    )
    result = collect_submissions(data_paths, reference, NOW)
    assert sorted(result.accepted) == sorted(books)
    assert sizes == [1, 1]


def test_progress_moves_file_by_file(data_paths, reference):
    files = {
        f"{body}/{month}.csv": submission(row(body, month, TAX, 10, 5, "yes", "no", 1, 1))
        for body in (CARDIFF, SWANSEA)
        for month in ("2026-09", "2026-10")
    }
    write_landing(data_paths, files)
    seen = []
    collect_submissions(data_paths, reference, NOW, progress=lambda *p: seen.append(p))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_great_expectations_checks_a_sample_of_the_run_not_of_every_batch(
    data_paths, reference, monkeypatch
):
    # Three one-row files, a batch each, and a sample of 2 rows for the run: GX checks the SQL
    # over the first batch's row and the second's, and not at all over the third.
    from dagster_project.collect import cell_rules

    files = {
        f"{body}/{month}.csv": submission(row(body, month, TAX, 10, 5, "yes", "no", 1, 1))
        for body, month in ((CARDIFF, "2026-09"), (CARDIFF, "2026-10"), (SWANSEA, "2026-10"))
    }
    write_landing(data_paths, files)
    checked = []
    real = cell_rules.gx_disagreements
    monkeypatch.setattr(
        cell_rules,
        "gx_disagreements",
        lambda suite, rows: checked.append(rows.num_rows) or real(suite, rows),
    )
    monkeypatch.setattr(load, "GX_SAMPLE_ROWS", 2)
    result = collect_submissions(data_paths, reference, NOW, batch_files=1)
    assert len(result.accepted) == 3
    assert checked == [1, 1]


def test_a_load_that_fails_stops_the_reading_thread(data_paths, reference, monkeypatch):
    # The next batch is read in a thread while one loads; when a load fails, that thread must
    # stop then, not linger (holding a batch, polling) while the failure's traceback keeps the
    # collecting frame, and so an unclosed reader, alive. Fails without contextlib.closing.
    files = {
        f"{CARDIFF}/{month}.csv": submission(row(CARDIFF, month, TAX, 10, 5, "yes", "no", 1, 1))
        for month in ("2026-07", "2026-08", "2026-09", "2026-10")
    }
    write_landing(data_paths, files)

    def failing(*args, **kwargs):
        raise RuntimeError("the warehouse is full")

    monkeypatch.setattr(load, "_load_batch", failing)
    with pytest.raises(RuntimeError, match="warehouse is full") as raised:
        collect_submissions(data_paths, reference, NOW, batch_files=1)
    assert raised.value is not None  # the traceback, and its frames, are still held here
    readers = [t for t in threading.enumerate() if t.name == "collect-read-ahead"]
    assert readers == []
