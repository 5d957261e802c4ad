"""End to end: hand-made submissions through real Dagster, dbt, Great Expectations and exports.

Every expected figure below is worked out by hand from tests/conftest.py HAND_MADE_FILES (12
months of returns, the same each month, from 13 council services), with populations from
dbt/seeds/bodies.csv (Cardiff 372,089; Swansea 241,282) and weights from the dictionary.
"""

import csv
import json

import dagster as dg
import duckdb
import pytest

from dagster_project.reference import load_reference
from tests.conftest import ANGLESEY, CARDIFF, GWYNEDD, POWYS, SWANSEA, PipelineRun

SERVICES, MONTHS = 13, 12
# Weights as the indicator dictionary sets them (0.30, 0.20, 0.20, 0.15, 0.15 today).
W = {i["indicator_code"]: float(i["weight"]) for i in load_reference().indicators}
# Letters per 1,000 transactions: 10 and 20 letters for every 100 transactions.
CARDIFF_LETTERS, SWANSEA_LETTERS = 100.0, 200.0
# Swansea's take-up: 11 months at 40 and the resubmitted February at 90, of 100 each.
SWANSEA_TAKE_UP = (11 * SERVICES * 40 + SERVICES * 90) / (MONTHS * SERVICES * 100)


def points(value: float, worst: float, best: float) -> float:
    """Where a value sits between goalposts, 0 to 1: the dictionary's goalposts, by hand."""
    return min(1.0, max(0.0, (value - worst) / (best - worst)))


def league(run) -> dict[str, dict]:
    with duckdb.connect(str(run.paths.warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.league_table")
        names = [d[0] for d in cursor.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}


def test_every_step_and_check_succeeds(pipeline_run):
    result = pipeline_run.result
    assert result.success
    checks = result.get_asset_check_evaluations()
    failed = [(c.check_name, c.severity.value) for c in checks if not c.passed]
    # Anglesey's file was rejected: the submissions check warns about this batch; nothing else.
    assert failed == [("submission_expectations", "WARN")]
    names = {c.check_name for c in checks}
    assert "league_table_expectations" in names  # Great Expectations
    assert "unique_league_table_body_code" in names  # a dbt data test


def test_league_table_has_one_row_per_registered_body(pipeline_run, reference):
    table = league(pipeline_run)
    assert sorted(table) == sorted(b["body_code"] for b in reference.bodies)
    assert {r["period"] for r in table.values()} == {"2026-02"}


def test_cardiff_headline_indicators(pipeline_run):
    cardiff = league(pipeline_run)[CARDIFF]
    assert cardiff["online_take_up"] == pytest.approx(0.6)
    assert cardiff["online_availability"] == 1.0  # February: 13 of 13 online
    assert cardiff["digital_by_default_rate"] == pytest.approx(6 / 13)
    assert cardiff["letters_per_1000"] == pytest.approx(CARDIFF_LETTERS)  # per 1,000 transactions
    assert cardiff["digital_contact_share"] == pytest.approx(30 / (30 + 10))
    assert (cardiff["months_reported"], cardiff["coverage"]) == (12, 1.0)


def test_resubmission_supersedes_and_zero_volume_gives_empty_rates(pipeline_run):
    table = league(pipeline_run)
    assert table[SWANSEA]["online_take_up"] == pytest.approx(SWANSEA_TAKE_UP)  # 0.4417
    gwynedd = table[GWYNEDD]
    assert gwynedd["online_take_up"] is None  # 0 / 0
    assert gwynedd["digital_contact_share"] is None  # 0 / (0 + 0)
    assert gwynedd["online_availability"] == 0.0
    assert gwynedd["letters_per_1000"] is None  # no letters of no transactions: no rate


def test_scores_from_fixed_goalposts(pipeline_run):
    table = league(pipeline_run)
    # Every service-month reported with the same figures, so each indicator's points are the
    # goalposted value itself: take-up 0-1, letters per 1,000 transactions 1,000 (worst) to 0.
    cardiff = (
        W["online_take_up"] * 0.6
        + W["online_availability"] * 1.0
        + W["digital_by_default_rate"] * 6 / 13
        + W["letters_per_1000"] * points(CARDIFF_LETTERS, 1000, 0)  # 0.9
        + W["digital_contact_share"] * 30 / 40
    )
    swansea = (
        W["online_take_up"] * SWANSEA_TAKE_UP
        + W["online_availability"] * 10 / 13
        + W["digital_by_default_rate"] * 0
        + W["letters_per_1000"] * points(SWANSEA_LETTERS, 1000, 0)  # 0.8
        + W["digital_contact_share"] * 20 / 40
    )
    # Gwynedd reports no volume at all: take-up, letters and contacts have denominators below
    # the dictionary's minimum (small numbers, u) and score 0; nothing online: 0 too.
    assert table[CARDIFF]["score"] == round(100 * cardiff, 1) == 72.0
    assert table[SWANSEA]["score"] == round(100 * swansea, 1) == 48.1
    assert table[GWYNEDD]["score"] == 0.0
    assert table[GWYNEDD]["online_take_up_status"] == "x"  # no value at all: x before u
    assert table[GWYNEDD]["online_take_up_points"] == 0.0
    assert table[CARDIFF]["letters_per_1000_points"] == pytest.approx(90.0)
    assert table[SWANSEA]["digital_by_default_rate_points"] == 0.0


def test_ranks_quartiles_and_movement(pipeline_run):
    table = league(pipeline_run)
    assert [table[c]["sector_rank_label"] for c in (CARDIFF, SWANSEA, GWYNEDD)] == ["1", "2", "3"]
    assert [table[c]["national_rank"] for c in (CARDIFF, SWANSEA, GWYNEDD)] == [1, 2, 3]
    assert table[CARDIFF]["sector_ranked_bodies"] == table[CARDIFF]["national_ranked_bodies"] == 3
    # Three ranked councils: too few for quartiles, and the table says why.
    assert [table[c]["sector_quartile"] for c in (CARDIFF, SWANSEA, GWYNEDD)] == [None] * 3
    assert table[CARDIFF]["sector_quartile_note"] == "fewer than 4 ranked bodies"
    # January's window (February 2025 not reported: coverage 11/12) ranks the same three the
    # same way: Cardiff 68.4, Swansea 44.3, Gwynedd 0.0. No movement.
    assert [table[c]["rank_movement"] for c in (CARDIFF, SWANSEA, GWYNEDD)] == [0, 0, 0]
    # A year before, nobody was ranked: no pace score, and the reason for no movement is clear.
    assert table[CARDIFF]["pace_score"] is None
    assert table[POWYS]["rank_movement_note"] == "not ranked"
    # Every variant of the sensitivity analysis keeps 72.0 > 48.1 > 0.0 apart: ranges are tight.
    assert [
        (table[c]["sector_rank_low"], table[c]["sector_rank_high"])
        for c in (CARDIFF, SWANSEA, GWYNEDD)
    ] == [(1, 1), (2, 2), (3, 3)]


def test_sparse_reporter_is_shown_but_not_ranked(pipeline_run):
    powys = league(pipeline_run)[POWYS]
    assert powys["coverage"] == pytest.approx(2 * SERVICES / (MONTHS * SERVICES))
    assert powys["online_take_up"] == 0.5  # its figures are there...
    assert (powys["ranked"], powys["ranking_status"]) == (False, "insufficient data")
    assert powys["score"] is None and powys["sector_rank"] is None  # ...but it is not ranked
    assert powys["online_take_up_status"] == "u"


def test_body_without_data_has_empty_values_and_no_rank(pipeline_run):
    anglesey = league(pipeline_run)[ANGLESEY]
    for column in (
        "online_take_up",
        "online_availability",
        "letters_per_1000",
        "score",
        "sector_rank",
    ):
        assert anglesey[column] is None
    assert anglesey["online_take_up_status"] == "x"


# The indicators only reported (contract v2's optional measures and the Digital Service
# Standard): no hand-made file gives them, so they are empty, never 0, for every body.
REPORTED = [i["indicator_code"] for i in load_reference().indicators if i["role"] == "reported"]


def test_measures_not_given_are_empty_not_zero_and_leave_the_score_alone(pipeline_run):
    table = league(pipeline_run)
    assert REPORTED == [
        "completion_rate",
        "user_satisfaction",
        "cost_per_transaction",
        "welsh_language_share",
        "standards_met",
    ]
    for body in (CARDIFF, SWANSEA, ANGLESEY):
        for code in REPORTED:
            assert table[body][code] is None, (body, code)
            assert table[body][f"{code}_points"] is None, (body, code)
            assert table[body][f"{code}_status"] == "x", (body, code)
            assert table[body][f"{code}_target_status"] is None, (body, code)
    # 72.0 as test_scores_from_fixed_goalposts works out from the score indicators alone
    assert table[CARDIFF]["score"] == 72.0
    # Cardiff delivers the 13 council services; none has an assessment
    assert (
        table[CARDIFF]["services_expected"],
        table[CARDIFF]["services_assessed"],
        table[CARDIFF]["services_assessed_share"],
    ) == (SERVICES, 0, 0.0)
    with duckdb.connect(str(pipeline_run.paths.warehouse), read_only=True) as con:
        summary = con.execute(
            "select services_assessed, standards_met from marts.wales_summary"
        ).fetchall()
        standards = con.execute(
            "select distinct assessment_status from marts.service_standards"
        ).fetchall()
    assert summary == [(0, None)]
    assert standards == [("not_assessed",)]


def test_bad_file_is_quarantined_with_report_and_loads_nothing(pipeline_run):
    paths = pipeline_run.paths
    name = f"{ANGLESEY}__{ANGLESEY}_2026-02.csv"
    assert (paths.quarantine / name).exists()
    assert not (paths.landing / ANGLESEY / f"{ANGLESEY}_2026-02.csv").exists()
    report = json.loads((paths.quarantine / f"{name}.report.json").read_text())
    problems = [
        {k: p[k] for k in ("row", "column", "value", "rule", "expected_en")}
        for p in report["problems"]
    ]
    assert problems == [
        {
            "row": 3,
            "column": "transactions_online",
            "value": "150",
            "rule": "online_not_above_total",
            "expected_en": "no more than transactions_total (100)",
        }
    ]
    text = (paths.quarantine / f"{name}.report.txt").read_text()
    assert "row 3, column 'transactions_online': found '150'" in text
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        loaded = con.execute(
            "select count(*) from raw.submissions where body_code = ?", [ANGLESEY]
        ).fetchone()[0]
        statuses = dict(
            con.execute("select file_name, status from raw.submission_files").fetchall()
        )
    assert loaded == 0
    assert statuses[f"{ANGLESEY}/{ANGLESEY}_2026-02.csv"] == "rejected"
    assert list(statuses.values()).count("rejected") == 1


def test_returns_table_shows_late_missing_and_rejected(pipeline_run):
    with duckdb.connect(str(pipeline_run.paths.warehouse), read_only=True) as con:
        status = dict(
            con.execute(
                "select body_code || ' ' || period, status from marts.submission_returns "
                "where period in ('2026-01', '2026-02') and body_code in (?, ?, ?)",
                [CARDIFF, POWYS, ANGLESEY],
            ).fetchall()
        )
    # Everything was loaded today, long after the 15th of the following month: late.
    assert status == {
        f"{CARDIFF} 2026-01": "late",
        f"{CARDIFF} 2026-02": "late",
        f"{POWYS} 2026-01": "late",
        f"{POWYS} 2026-02": "late",
        f"{ANGLESEY} 2026-01": "missing",
        f"{ANGLESEY} 2026-02": "rejected",
    }


def test_open_data_league_table(pipeline_run, reference):
    path = pipeline_run.paths.open_data / "league_table.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == len(reference.bodies)
    by_code = {r["body_code"]: r for r in rows}
    cardiff = by_code[CARDIFF]
    assert (
        cardiff["online_take_up"],
        cardiff["letters_per_1000"],
        cardiff["score"],
        cardiff["sector_rank"],
        cardiff["sector_rank_label"],
        cardiff["ranked"],
    ) == ("0.6000", "100.0", "72.0", "1", "1", "true")
    assert cardiff["name_cy"] == "Caerdydd"
    assert by_code[ANGLESEY]["online_take_up"] == "" and by_code[ANGLESEY]["score"] == ""
    assert by_code[POWYS]["ranking_status"] == "insufficient data"
    # Ranked bodies first within each sector, in rank order.
    councils = [r["body_code"] for r in rows if r["sector"] == "local_authority"]
    assert councils[:3] == [CARDIFF, SWANSEA, GWYNEDD]


def test_benchmark_extract_beside_sector_median(pipeline_run):
    path = pipeline_run.paths.extracts / SWANSEA / f"{SWANSEA}_indicators.csv"
    rows = {r["indicator_code"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}
    take_up = rows["online_take_up"]
    # Three ranked councils: benchmarks need at least four, so no median is shown, and why.
    assert take_up["value"] == f"{SWANSEA_TAKE_UP:.4f}" == "0.4417"
    assert take_up["sector_median"] == "" and take_up["sector_bodies_with_value"] == "2"
    assert take_up["sector_quartile_note"] == "fewer than 4 ranked bodies"
    assert rows["letters_per_1000"]["value"] == f"{SWANSEA_LETTERS:.1f}" == "200.0"
    # one row per published indicator of the dictionary, those only reported included
    assert set(rows) == {i["indicator_code"] for i in load_reference().published_indicators()}


def test_collecting_again_changes_nothing(pipeline_run, reference):
    from datetime import datetime

    from dagster_project.collect.load import collect_submissions

    again = collect_submissions(pipeline_run.paths, reference, datetime(2026, 3, 1))
    assert again.accepted == [] and again.rejected == {}
    assert len(again.skipped) == len(list(pipeline_run.paths.landing.rglob("*.csv")))


def run_hand_made(root, partition_key: str, **options) -> tuple[PipelineRun, dict[str, dict]]:
    """Every asset over the hand-made files in a fresh data root, and its league table."""
    from dagster_project.definitions import ALL_ASSETS
    from dagster_project.resources import PlatformSettings, build_resources
    from dagster_project.settings import DataPaths
    from tests.conftest import HAND_MADE_FILES, write_landing

    paths = DataPaths(root).ensure()
    write_landing(paths, HAND_MADE_FILES)
    result = dg.materialize(
        ALL_ASSETS,
        resources=build_resources(PlatformSettings(data_root=str(root))),
        partition_key=partition_key,
        **options,
    )
    assert result.success
    run = PipelineRun(paths, result)
    return run, league(run)


def test_a_configured_publication_month_publishes_that_month(tmp_path, monkeypatch):
    """DIGITAL_PROGRESS_PERIOD, set in the environment as a user would, moves the whole table
    to January 2026. January's window (February 2025 to January 2026) lacks February 2025:
    Cardiff's window-scope points are 143 of 156 service-months' worth, by hand:
    0.3 x 0.55 + 0.2 x 1 + 0.2 x 6/13 + 0.15 x 0.825 + 0.15 x 0.6875 = 68.4; Swansea's
    0.3 x 0.3667 + 0.2 x 10/13 + 0 + 0.15 x 0.7333 + 0.15 x 0.4583 = 44.3."""
    from dagster_project.settings import PUBLICATION_PERIOD_ENV

    monkeypatch.setenv(PUBLICATION_PERIOD_ENV, "2026-01")
    run, table = run_hand_made(tmp_path, "2026-02-01")
    assert {r["period"] for r in table.values()} == {"2026-01"}
    assert [table[c]["score"] for c in (CARDIFF, SWANSEA, GWYNEDD)] == [68.4, 44.3, 0.0]
    assert table[CARDIFF]["coverage"] == pytest.approx(143 / 156)
    published = json.loads((run.paths.open_data / "manifest.json").read_text())["publication"]
    assert published["period"] == "2026-01"


def test_a_scheduled_run_publishes_the_month_it_collects(tmp_path):
    """Left alone, the publication month is the latest with enough returns (February here), and
    a body holding back its return at the margin could move it. A run started by the monthly
    schedule publishes its own partition's month instead: January 2026, Cardiff 68.4 as above."""
    _, table = run_hand_made(
        tmp_path, "2026-01-01", tags={"dagster/schedule_name": "monthly_collection"}
    )
    assert {r["period"] for r in table.values()} == {"2026-01"}
    assert table[CARDIFF]["score"] == 68.4
