"""The demo generator: deterministic, covers the register, carries exactly its planted errors,
and returns arrive as real ones do: mostly on time, some late, some never."""

import csv
import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import duckdb

from dagster_project.collect.demo_data import (
    ASSESSMENT_HEADER,
    ASSESSMENT_NAME,
    SILENT_BODY,
    demo_submissions,
    file_period,
    month_list,
    receipt_times,
    write_demo_submissions,
)
from dagster_project.collect.validate import parse_submission, validate_files

MEASURES = ("online_started", "satisfaction_responses", "satisfied_responses", "cost_total",
            "transactions_online_welsh")  # fmt: skip


def _monthly(files: dict[str, bytes]) -> dict[str, bytes]:
    """The monthly returns; the rest are assessment returns, the loader's of the second kind."""
    return {name: data for name, data in files.items() if not ASSESSMENT_NAME.search(name)}


def test_month_list_crosses_years():
    assert month_list("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_same_arguments_same_bytes(reference):
    assert demo_submissions(reference, months=12) == demo_submissions(reference, months=12)


def test_every_body_but_one_reports_and_only_planted_errors_fail(reference):
    files = _monthly(demo_submissions(reference))
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
    everything = demo_submissions(reference)
    times = receipt_times(list(everything))
    files = _monthly(everything)
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
    assert receipt_times(list(everything)) == times
    assert receipt_times(list(everything), seed="another") != times
    for name in set(everything) - set(files):  # an assessment is sent within a fortnight
        assessed_on = date.fromisoformat(name[-14:-4])
        assert timedelta(days=1) <= times[name].date() - assessed_on <= timedelta(days=14)


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
        period = file_period(name)
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
    monthly = _monthly(statuses)
    assert sorted(monthly.values()).count("rejected") == 3
    # Every demo assessment return is a valid one: all accepted.
    assessments = {statuses[name] for name in set(statuses) - set(monthly)}
    assert len(set(statuses) - set(monthly)) > 5 and assessments == {"accepted"}
    for name, mtime in landing.items():
        assert mtime == times[name].replace(tzinfo=UTC).timestamp()


def test_only_last_writes_exactly_the_new_months_files(reference, data_paths):
    # What `make bench` adds as "a new month": the last month's files of the longer history,
    # byte for byte, and nothing else.
    written = write_demo_submissions(
        data_paths, reference, end="2026-10", months=13, only_last=True
    )
    everything = demo_submissions(reference, end="2026-10", months=13)
    expected = {name: data for name, data in everything.items() if file_period(name) == "2026-10"}
    on_disk = {
        path.relative_to(data_paths.landing).as_posix(): path.read_bytes()
        for path in data_paths.landing.rglob("*")
        if path.is_file()
    }
    assert written == len(expected) == len(on_disk) > 30
    assert on_disk == expected


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_most_bodies_report_some_measures_some_none_and_values_are_plausible(reference):
    files = _monthly(demo_submissions(reference))
    given: dict[str, Counter] = defaultdict(Counter)
    ratios: dict[str, list[float]] = defaultdict(list)
    welsh_by_body: dict[str, list[float]] = defaultdict(list)
    for name, data in files.items():
        if not name.endswith(".csv") or name.startswith("W06000011/W06000011_2026-09"):
            continue  # the workbooks and the formatted Windows-1252 export
        for r in _rows(data):
            body = r["body_code"]
            for m in MEASURES:
                given[body][m] += r[m] != ""
            online, total = int(r["transactions_online"]), int(r["transactions_total"])
            if online > total:
                continue  # the planted mistake: online above total
            if r["online_started"]:
                assert int(r["online_started"]) >= online
                ratios["completion"].append(online / int(r["online_started"]))
            if r["satisfied_responses"]:
                responses = int(r["satisfaction_responses"])
                ratios["satisfaction"].append(int(r["satisfied_responses"]) / responses)
            if r["cost_total"]:
                ratios["cost"].append(float(r["cost_total"]) / total)
            if r["transactions_online_welsh"]:
                assert int(r["transactions_online_welsh"]) <= online
                welsh_by_body[body].append(int(r["transactions_online_welsh"]) / online)
    reporting = [body for body, counts in given.items() if sum(counts.values())]
    silent = [body for body, counts in given.items() if not sum(counts.values())]
    assert len(reporting) > 0.6 * len(given) and len(silent) >= 3
    assert all(sum(given[body][m] > 0 for m in MEASURES) < 5 for body in silent)
    # Each measure is given somewhere, never by every body.
    for m in MEASURES:
        assert 0 < sum(given[b][m] > 0 for b in given) < len(given), m
    # Completion 60-95 %, satisfaction 70-95 %, £2-£15 a transaction (with the month's wobble
    # of 3 % and rounding of small counts), Welsh 2-25 %, varying by body.
    assert min(ratios["completion"]) > 0.55 and max(ratios["completion"]) <= 1
    assert sorted(ratios["satisfaction"])[len(ratios["satisfaction"]) // 20] > 0.5
    assert min(ratios["cost"]) > 1.9 and max(ratios["cost"]) < 15.5
    medians = sorted(sorted(v)[len(v) // 2] for v in welsh_by_body.values())
    assert medians[0] > 0.015 and medians[-1] < 0.3 and medians[-1] > 3 * medians[0]


def test_assessment_returns_are_sparse_quarterly_and_complete(reference):
    files = demo_submissions(reference)
    assessments = {name: data for name, data in files.items() if ASSESSMENT_NAME.search(name)}
    bodies = {name.split("/")[0] for name in assessments}
    assert 5 <= len(bodies) < 0.5 * len(reference.bodies)
    by_service: dict[tuple[str, str], list[date]] = defaultdict(list)
    results: Counter = Counter()
    end = date(2026, 9, 30)
    for name, data in assessments.items():
        header = data.decode("utf-8").splitlines()[0].split(",")
        assert tuple(header) == ASSESSMENT_HEADER
        rows = _rows(data)
        body = name.split("/")[0]
        [(service, assessed_on)] = {(r["service_code"], r["assessed_on"]) for r in rows}
        assert {r["body_code"] for r in rows} == {body}
        assert service in reference.services_of(body)
        assert name == f"{body}/assessment-{service}-{assessed_on}.csv"
        assert sorted(int(r["standard"]) for r in rows) == list(range(1, 13))
        day = date.fromisoformat(assessed_on)
        assert day <= end and day.month % 3 == 2  # the middle month of a quarter
        by_service[body, service].append(day)
        results.update(r["result"] for r in rows)
    assert set(results) == {"met", "partly_met", "not_met"}
    assert results["met"] > results["partly_met"] > 0
    # A minority of a body's services; some reassessed later; some older than 24 months.
    for (body, _), _days in by_service.items():
        assert sum(b == body for b, _ in by_service) <= 3
    assert any(len(days) > 1 for days in by_service.values())
    assert any(max(days) < date(2024, 9, 30) for days in by_service.values())
    assert any(max(days) >= date(2024, 10, 1) for days in by_service.values())
