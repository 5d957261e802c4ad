"""The demo generator: deterministic, covers the register, carries exactly its planted errors,
and returns arrive as real ones do: mostly on time, some late, some never."""

from datetime import UTC, date, datetime, timedelta

import duckdb

from dagster_project.collect.demo_data import (
    SILENT_BODY,
    demo_submissions,
    month_list,
    receipt_times,
    write_demo_submissions,
)
from dagster_project.collect.validate import parse_submission, validate_files


def test_month_list_crosses_years():
    assert month_list("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_same_arguments_same_bytes(reference):
    assert demo_submissions(reference, months=12) == demo_submissions(reference, months=12)


def test_every_body_but_one_reports_and_only_planted_errors_fail(reference):
    files = demo_submissions(reference)
    reporting = {name.split("/")[0] for name in files}
    assert reporting == {b["body_code"] for b in reference.bodies} - {SILENT_BODY}
    parsed = [parse_submission(name, data) for name, data in files.items()]
    problems = validate_files(parsed, reference, date(2026, 11, 25))
    rejected = {
        name: {p.rule for p in found}
        for name, found in problems.items()
        if any(p.severity == "error" for p in found)
    }
    warned = {
        name: {p.rule for p in found}
        for name, found in problems.items()
        if found and name not in rejected
    }
    assert warned == {"W06000011/W06000011_2026-09.csv": {"totals_row_ignored"}}
    assert sum(name.endswith(".xlsx") for name in files) == 3
    planted = {"online_not_above_total", "period_format", "known_service"}
    assert len(rejected) == 3
    assert sorted(min(rules & planted) for rules in rejected.values()) == sorted(planted)
    assert sum(name.endswith("_v2.csv") for name in files) == 1


def _due(period: str) -> date:
    """Day 15 of the following month (dbt var return_due_day), worked out here by hand."""
    year, month = int(period[:4]), int(period[5:])
    return date(year + 1, 1, 15) if month == 12 else date(year, month + 1, 15)


def test_receipt_times_spread_like_real_returns(reference):
    files = demo_submissions(reference)
    times = receipt_times(list(files))
    periods = month_list("2026-09", 24)
    firsts = {
        (name.split("/")[0], name.split("_")[1][:7]): times[name]
        for name in files
        if "_v2" not in name
    }
    bodies = {b["body_code"] for b in reference.bodies} - {SILENT_BODY}
    on_time = sum(moment.date() <= _due(period) for (_, period), moment in firsts.items())
    late = len(firsts) - on_time
    missing = len(bodies) * len(periods) - len(firsts)
    # Most returns arrive on time, some late, some never (839, 92 and 53 of the 41 bodies x 24
    # months with this seed); none before its month has ended.
    assert on_time + late + missing == 41 * 24
    assert on_time > 0.8 * 41 * 24
    assert 0.05 * 41 * 24 < late < 0.15 * 41 * 24
    assert 0.03 * 41 * 24 < missing < 0.1 * 41 * 24
    assert all(moment.date() > _due(period).replace(day=1) - timedelta(days=1)
               for (_, period), moment in firsts.items())  # fmt: skip
    assert all(8 <= moment.hour < 18 for moment in times.values())
    [resubmission] = [name for name in files if "_v2" in name]
    original = resubmission.replace("_v2", "")
    assert timedelta(days=2) <= times[resubmission] - times[original] <= timedelta(days=11)
    assert receipt_times(list(files)) == times
    assert receipt_times(list(files), seed="another") != times


def test_demo_records_when_each_file_arrived(reference, data_paths):
    received_by = datetime(2026, 10, 15, 18, 0)
    write_demo_submissions(data_paths, reference, received_by=received_by, months=12)
    times = receipt_times(list(demo_submissions(reference, months=12)))
    with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
        recorded = dict(
            con.execute("select file_name, received_at from raw.submission_files").fetchall()
        )
        statuses = dict(
            con.execute("select file_name, status from raw.submission_files").fetchall()
        )
    assert set(recorded) == set(times)  # every file arrived by the last month's due date
    for name, received_at in recorded.items():
        period = name.split("_")[1][:7]
        # Collected at the next of the collections on days 8, 15, 22 and 28 (at most 11 days
        # later, from the 28th to the 8th), never across its due date.
        assert timedelta(0) <= received_at - times[name] < timedelta(days=11)
        assert (received_at.date() <= _due(period)) == (times[name].date() <= _due(period))
    landing = {
        path.relative_to(data_paths.landing).as_posix(): path.stat().st_mtime
        for path in data_paths.landing.rglob("*")
        if path.is_file()
    }
    # Accepted files stay in landing/ with their receipt times; rejected ones went to quarantine.
    assert set(landing) == {name for name, status in statuses.items() if status == "accepted"}
    assert sorted(statuses.values()).count("rejected") == 3
    for name, mtime in landing.items():
        assert mtime == times[name].replace(tzinfo=UTC).timestamp()


def test_only_last_writes_exactly_the_new_months_files(reference, data_paths):
    # What `make bench` adds as "a new month": the last month's files of the longer history,
    # byte for byte, and nothing else.
    written = write_demo_submissions(
        data_paths, reference, end="2026-10", months=13, only_last=True
    )
    everything = demo_submissions(reference, end="2026-10", months=13)
    expected = {name: data for name, data in everything.items() if "_2026-10" in name}
    on_disk = {
        path.relative_to(data_paths.landing).as_posix(): path.read_bytes()
        for path in data_paths.landing.rglob("*")
        if path.is_file()
    }
    assert written == len(expected) == len(on_disk) > 30
    assert on_disk == expected
