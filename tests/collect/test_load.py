"""Collecting the landing zone against a real DuckDB file: all-or-nothing, nothing lost."""

import json
from datetime import datetime

import duckdb
import pytest

from dagster_project.collect import load
from dagster_project.collect.load import collect_submissions
from dagster_project.collect.validate import content_hash
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
    result = collect_submissions(data_paths, reference, NOW)
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
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{CARDIFF}/jan.csv"]
    assert list(result.rejected) == [f"{SWANSEA}/jan.csv"]
    assert counts(data_paths) == (1, 2)
    quarantined = data_paths.quarantine / f"{SWANSEA}__jan.csv"
    assert quarantined.read_bytes() == BAD[f"{SWANSEA}/jan.csv"]  # the original bytes, kept
    assert (data_paths.quarantine / f"{SWANSEA}__jan.csv.report.txt").exists()
    assert not (data_paths.landing / SWANSEA / "jan.csv").exists()


def test_the_same_file_twice_changes_nothing(data_paths, reference):
    write_landing(data_paths, GOOD)
    collect_submissions(data_paths, reference, NOW)
    write_landing(data_paths, {f"{CARDIFF}/jan-copy.csv": GOOD[f"{CARDIFF}/jan.csv"]})
    again = collect_submissions(data_paths, reference, NOW)
    assert again.accepted == [] and sorted(again.skipped) == [
        f"{CARDIFF}/jan-copy.csv",
        f"{CARDIFF}/jan.csv",
    ]
    assert counts(data_paths) == (1, 1)


def test_a_file_that_is_not_a_spreadsheet_is_rejected_not_ignored(data_paths, reference):
    write_landing(data_paths, {f"{CARDIFF}/return.pdf": b"%PDF-1.4"})
    result = collect_submissions(data_paths, reference, NOW)
    [problem] = result.rejected[f"{CARDIFF}/return.pdf"]
    assert (problem.rule, problem.value) == ("not_a_spreadsheet", "pdf")


def test_a_crash_mid_load_leaves_the_warehouse_as_it_was(data_paths, reference, monkeypatch):
    write_landing(data_paths, GOOD)
    collect_submissions(data_paths, reference, NOW)
    write_landing(
        data_paths,
        {f"{SWANSEA}/jan.csv": submission(row(SWANSEA, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))},
    )
    # The file log is written, then inserting the rows fails: both must roll back.
    monkeypatch.setattr(load, "INSERT_ACCEPTED_SQL", "insert into raw.no_such_table values (1)")
    with pytest.raises(duckdb.CatalogException):
        collect_submissions(data_paths, reference, NOW)
    assert counts(data_paths) == (1, 1)
    assert (data_paths.landing / SWANSEA / "jan.csv").exists()
    monkeypatch.undo()
    assert collect_submissions(data_paths, reference, NOW).accepted == [f"{SWANSEA}/jan.csv"]
    assert counts(data_paths) == (2, 2)


def test_every_received_file_is_archived_byte_for_byte(data_paths, reference):
    write_landing(data_paths, {**GOOD, **BAD})
    collect_submissions(data_paths, reference, NOW)
    for data in (GOOD[f"{CARDIFF}/jan.csv"], BAD[f"{SWANSEA}/jan.csv"]):
        digest = content_hash(data)
        assert (data_paths.archive / digest[:2] / digest).read_bytes() == data


def test_a_file_outside_a_body_folder_or_about_another_body_is_rejected(data_paths, reference):
    cardiff_rows = GOOD[f"{CARDIFF}/jan.csv"]
    write_landing(data_paths, {"loose.csv": cardiff_rows, f"{SWANSEA}/cardiff.csv": cardiff_rows})
    result = collect_submissions(data_paths, reference, NOW)
    assert [(p.rule, p.value) for p in result.rejected["loose.csv"]] == [
        ("unknown_sender", "(landing/ itself)")
    ]
    [problem] = result.rejected[f"{SWANSEA}/cardiff.csv"]
    assert (problem.row, problem.rule, problem.value) == (2, "wrong_body", CARDIFF)
    assert counts(data_paths) == (0, 2)  # both logged as rejected, nothing loaded


def test_warnings_load_the_file_and_are_recorded_with_a_report(data_paths, reference):
    partial = submission(
        row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1, transactions_phone=9)
    )
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": partial})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{CARDIFF}/jan.csv"]
    assert [p.rule for p in result.warned[f"{CARDIFF}/jan.csv"]] == ["channels_exceed_total"]
    with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
        recorded = con.execute(
            "select row_number, column_name, rule, severity, detail from raw.submission_problems"
        ).fetchall()
    assert recorded == [(2, "transactions_total", "channels_exceed_total", "warning", "14")]
    report = data_paths.feedback / f"{CARDIFF}__jan.csv.report.html"  # flat, like quarantine/
    assert "loaded with warnings" in report.read_text()


def test_rejected_file_gets_bilingual_json_html_and_text_reports(data_paths, reference):
    write_landing(data_paths, BAD)
    collect_submissions(data_paths, reference, NOW)
    base = data_paths.quarantine / f"{SWANSEA}__jan.csv"
    report = json.loads(base.with_name(base.name + ".report.json").read_text())
    assert report["status"] == "rejected" and report["errors"] == 1
    assert report["problems"] == [
        {
            "row": 2,
            "column": "transactions_online",
            "service_code": TAX,
            "value": "50",
            "rule": "online_not_above_total",
            "severity": "error",
            "expected_en": "no more than transactions_total (10)",
            "expected_cy": "dim mwy na transactions_total (10)",
            "fix_en": "Online transactions are part of the total: check both figures.",
            "fix_cy": "Mae trafodion ar-lein yn rhan o'r cyfanswm: gwiriwch y ddau ffigur.",
        }
    ]
    html = base.with_name(base.name + ".report.html").read_text()
    assert "heb ei llwytho" in html and "not loaded" in html
    text = base.with_name(base.name + ".report.txt").read_text()
    assert "rhes 2, colofn 'transactions_online'" in text


def test_markup_in_a_submission_is_escaped_in_the_html_report(data_paths, reference):
    evil = submission(row(CARDIFF, "<script>alert(1)</script>", TAX, 10, 5, "yes", "no", 1, 1))
    write_landing(data_paths, {f"{CARDIFF}/evil.csv": evil})
    collect_submissions(data_paths, reference, NOW)
    html = (data_paths.quarantine / f"{CARDIFF}__evil.csv.report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
