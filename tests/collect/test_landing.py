"""Collecting the landing zone against a real DuckDB file: all-or-nothing, nothing lost."""

from datetime import datetime

import duckdb
import pytest

from dagster_project.collect import landing
from dagster_project.collect.landing import collect_landing_zone
from tests.conftest import CARDIFF, SWANSEA, TAX, row, submission, write_landing

NOW = datetime(2026, 3, 1, 9, 0)
GOOD = {f"{CARDIFF}/jan.csv": submission(row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))}
BAD = {f"{SWANSEA}/jan.csv": submission(row(SWANSEA, "2026-01", TAX, 10, 50, "yes", "no", 1, 1))}


def counts(paths) -> tuple[int, int]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute("select count(*) from raw.submissions").fetchone()[0]
        files = con.execute("select count(*) from raw.submission_files").fetchone()[0]
    return rows, files


def test_good_file_loads_with_its_provenance(data_paths, reference):
    write_landing(data_paths, GOOD)
    result = collect_landing_zone(data_paths, reference, NOW)
    assert result.accepted == [f"{CARDIFF}/jan.csv"] and result.rows_loaded == 1
    with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
        loaded = con.execute(
            "select file_name, content_hash, loaded_at, row_number, transactions_online, "
            "available_online from raw.submissions"
        ).fetchall()
    from dagster_project.collect.validate import content_hash

    assert loaded == [
        (f"{CARDIFF}/jan.csv", content_hash(GOOD[f"{CARDIFF}/jan.csv"]), NOW, 2, 5, True)
    ]


def test_bad_file_goes_to_quarantine_and_other_bodies_load(data_paths, reference):
    write_landing(data_paths, {**GOOD, **BAD})
    result = collect_landing_zone(data_paths, reference, NOW)
    assert result.accepted == [f"{CARDIFF}/jan.csv"]
    assert list(result.rejected) == [f"{SWANSEA}/jan.csv"]
    assert counts(data_paths) == (1, 2)
    quarantined = data_paths.quarantine / f"{SWANSEA}__jan.csv"
    assert quarantined.read_bytes() == BAD[f"{SWANSEA}/jan.csv"]  # the original bytes, kept
    assert (data_paths.quarantine / f"{SWANSEA}__jan.csv.report.txt").exists()
    assert not (data_paths.landing / SWANSEA / "jan.csv").exists()


def test_the_same_file_twice_changes_nothing(data_paths, reference):
    write_landing(data_paths, GOOD)
    collect_landing_zone(data_paths, reference, NOW)
    write_landing(data_paths, {f"{CARDIFF}/jan-copy.csv": GOOD[f"{CARDIFF}/jan.csv"]})
    again = collect_landing_zone(data_paths, reference, NOW)
    assert again.accepted == [] and sorted(again.skipped) == [
        f"{CARDIFF}/jan-copy.csv",
        f"{CARDIFF}/jan.csv",
    ]
    assert counts(data_paths) == (1, 1)


def test_a_file_that_is_not_csv_is_rejected_not_ignored(data_paths, reference):
    write_landing(data_paths, {f"{CARDIFF}/return.pdf": b"%PDF-1.4"})
    result = collect_landing_zone(data_paths, reference, NOW)
    [problem] = result.rejected[f"{CARDIFF}/return.pdf"]
    assert (problem.rule, problem.value) == ("file_type", ".pdf")


def test_a_crash_mid_load_leaves_the_warehouse_as_it_was(data_paths, reference, monkeypatch):
    write_landing(data_paths, GOOD)
    collect_landing_zone(data_paths, reference, NOW)
    write_landing(
        data_paths,
        {f"{SWANSEA}/jan.csv": submission(row(SWANSEA, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))},
    )
    # The file log is written, then inserting the rows fails: both must roll back.
    monkeypatch.setattr(landing, "INSERT_ACCEPTED_SQL", "insert into raw.no_such_table values (1)")
    with pytest.raises(duckdb.CatalogException):
        collect_landing_zone(data_paths, reference, NOW)
    assert counts(data_paths) == (1, 1)
    assert (data_paths.landing / SWANSEA / "jan.csv").exists()
    monkeypatch.undo()
    assert collect_landing_zone(data_paths, reference, NOW).accepted == [f"{SWANSEA}/jan.csv"]
    assert counts(data_paths) == (2, 2)
