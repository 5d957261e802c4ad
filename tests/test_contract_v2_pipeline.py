"""End to end with contract v1 and v2 returns mixed, and Digital Service Standard assessments:
real Dagster, dbt, Great Expectations and open data over hand-made files.

Cardiff sends v2 returns: the figures of tests/conftest.py HAND_MADE_FILES (100 transactions, 60
online, 10 letters, 30 messages per service-month, 13 services online, 6 digital by default) plus
optional measures on two services only. Swansea sends the v1 contract exactly (no optional
column at all). Every expected value below is worked out by hand in the comments.
"""

from __future__ import annotations

import csv

import dagster as dg
import duckdb
import pytest

from dagster_project.settings import DataPaths
from tests.conftest import (
    ANGLESEY,
    CARDIFF,
    COUNCIL_SERVICES,
    GWYNEDD,
    MONTHS,
    POWYS,
    SWANSEA,
    other_bodies_return,
    row,
    submission,
    write_landing,
)

# The v1 contract's columns, as files sent before v2 have them: frozen, so written out here.
V1_COLUMNS = (
    "body_code",
    "period",
    "service_code",
    "transactions_total",
    "transactions_online",
    "transactions_phone",
    "transactions_face_to_face",
    "transactions_paper",
    "transactions_other",
    "available_online",
    "digital_by_default",
    "letters_posted",
    "digital_notifications",
    "notes",
)
V2_MEASURES = (
    "online_started",
    "satisfaction_responses",
    "satisfied_responses",
    "cost_total",
    "transactions_online_welsh",
)
NEW_INDICATORS = (
    "completion_rate",
    "user_satisfaction",
    "cost_per_transaction",
    "welsh_language_share",
    "standards_met",
)
TAX, PARKING, THIRD = COUNCIL_SERVICES[0], COUNCIL_SERVICES[1], COUNCIL_SERVICES[2]
RESULTS = ("met", "partly_met", "not_met")


def cardiff_measures(month: str, service: str) -> dict:
    """Every service, every month: 6 of its 60 online in Welsh. Tax also: started 80, 50
    responses of which 40 satisfied, £450.50. Parking also: started 75 in January and February
    2026 only."""
    if service == TAX:
        return {
            "online_started": 80,
            "satisfaction_responses": 50,
            "satisfied_responses": 40,
            "cost_total": "450.50",
            "transactions_online_welsh": 6,
        }
    if service == PARKING and month in ("2026-01", "2026-02"):
        return {"online_started": 75, "transactions_online_welsh": 6}
    return {"transactions_online_welsh": 6}


def assessment(service: str, assessed_on: str, results: list[str]) -> bytes:
    columns = ("body_code", "service_code", "assessed_on", "standard", "result")
    rows = [
        {
            "body_code": CARDIFF,
            "service_code": service,
            "assessed_on": assessed_on,
            "standard": n,
            "result": result,
        }
        for n, result in enumerate(results, start=1)
    ]
    return submission(*rows, columns=columns)


def files() -> dict[str, bytes]:
    v2_columns = (*V1_COLUMNS[:-1], *V2_MEASURES, "notes")
    made = {
        f"{CARDIFF}/{CARDIFF}_{month}.csv": submission(
            *[
                row(
                    CARDIFF,
                    month,
                    service,
                    100,
                    60,
                    "yes",
                    "yes" if n < 6 else "no",
                    10,
                    30,
                    **cardiff_measures(month, service),
                )
                for n, service in enumerate(COUNCIL_SERVICES)
            ],
            columns=v2_columns,
        )
        for month in MONTHS
    }
    made |= {
        f"{SWANSEA}/{SWANSEA}_{month}.csv": submission(
            *[
                row(SWANSEA, month, service, 100, 40, "yes" if n < 10 else "no", "no", 20, 20)
                for n, service in enumerate(COUNCIL_SERVICES)
            ],
            columns=V1_COLUMNS,
        )
        for month in MONTHS
    }
    made |= {
        # superseded by the later assessment of the same service
        f"{CARDIFF}/assessment-{TAX}-2024-05-01.csv": assessment(TAX, "2024-05-01", ["met"] * 12),
        # current at February 2026: 8 met, 2 partly met, 2 not met
        f"{CARDIFF}/assessment-{TAX}-2025-06-10.csv": assessment(
            TAX, "2025-06-10", ["met"] * 8 + ["partly_met"] * 2 + ["not_met"] * 2
        ),
        # older than 24 months at the end of February 2026: no longer counts
        f"{CARDIFF}/assessment-{PARKING}-2024-02-15.csv": assessment(
            PARKING, "2024-02-15", ["met"] * 12
        ),
        # just inside 24 months: 6 met, 6 partly met (partly met is not met)
        f"{CARDIFF}/assessment-{THIRD}-2024-03-05.csv": assessment(
            THIRD, "2024-03-05", ["met"] * 6 + ["partly_met"] * 6
        ),
    }
    made |= other_bodies_return(
        ("2026-01", "2026-02"), besides=(CARDIFF, SWANSEA, GWYNEDD, POWYS, ANGLESEY)
    )
    return made


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory):
    from dagster_project.definitions import ALL_ASSETS, league_table_expectations
    from dagster_project.resources import PlatformSettings, build_resources

    paths = DataPaths(tmp_path_factory.mktemp("mixed_root")).ensure()
    write_landing(paths, files())
    result = dg.materialize(
        [*ALL_ASSETS, league_table_expectations],
        resources=build_resources(PlatformSettings(data_root=str(paths.root))),
        partition_key="2026-02-01",
        raise_on_error=False,
    )
    return paths, result


def rows(paths: DataPaths, sql: str) -> list[dict]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def league(paths: DataPaths) -> dict[str, dict]:
    return {r["body_code"]: r for r in rows(paths, "select * from marts.league_table")}


def test_v1_and_v2_files_and_assessments_all_load(mixed_run):
    paths, result = mixed_run
    assert result.success
    loaded = rows(
        paths,
        "select body_code, count(*) as n, count(online_started) as started, "
        "count(cost_total) as cost from raw.submissions "
        f"where body_code in ('{CARDIFF}', '{SWANSEA}') group by body_code order by body_code",
    )
    # 12 months x 13 services each; Cardiff gave started on 12 + 2 rows and cost on 12
    assert [(r["body_code"], r["n"], r["started"], r["cost"]) for r in loaded] == [
        (SWANSEA, 156, 0, 0),
        (CARDIFF, 156, 14, 12),
    ] or [(r["body_code"], r["n"], r["started"], r["cost"]) for r in loaded] == [
        (CARDIFF, 156, 14, 12),
        (SWANSEA, 156, 0, 0),
    ]
    assert rows(paths, "select count(*) as n from raw.assessments")[0]["n"] == 4 * 12


def test_new_measures_hand_computed(mixed_run):
    cardiff = league(mixed_run[0])[CARDIFF]
    # completion: tax 12 x 60 online of 12 x 80 started, parking 2 x 60 of 2 x 75
    assert cardiff["completion_rate"] == pytest.approx((720 + 120) / (960 + 150))
    assert cardiff["user_satisfaction"] == pytest.approx(480 / 600)
    # cost over the rows that gave it: 12 x £450.50 over 12 x 100 transactions
    assert cardiff["cost_per_transaction"] == pytest.approx(12 * 450.50 / 1200)
    assert cardiff["welsh_language_share"] == pytest.approx(156 * 6 / (156 * 60))
    # tax 8 of 12 (its 2025 assessment supersedes 2024's), the third service 6 of 12, parking
    # expired: 14 of 24
    assert cardiff["standards_met"] == pytest.approx(14 / 24)
    assert (cardiff["services_assessed"], cardiff["services_expected"]) == (2, 13)
    assert cardiff["services_assessed_share"] == pytest.approx(2 / 13)


def test_a_measure_given_for_few_services_is_low_reliability(mixed_run):
    """The dictionary's threshold (0.75) of the expected service-months must give a measure:
    Welsh on all 156 is reliable; completion on 14 of 156, satisfaction and cost on 12, and
    standards on 2 of 13 services are not (u), however good they look."""
    cardiff = league(mixed_run[0])[CARDIFF]
    assert cardiff["welsh_language_share_status"] in ("", None)
    for code in ("completion_rate", "user_satisfaction", "cost_per_transaction", "standards_met"):
        assert cardiff[f"{code}_status"] == "u", code
    assert cardiff["online_take_up_status"] in ("", None)  # the scored ones are untouched


def test_missing_measures_are_empty_not_zero(mixed_run):
    swansea = league(mixed_run[0])[SWANSEA]
    for code in NEW_INDICATORS:
        assert swansea[code] is None, code
        assert swansea[f"{code}_status"], code  # says why there is no value
        assert swansea[f"{code}_points"] is None, code  # role reported: not in the score
    assert swansea["services_assessed"] == 0


def test_optional_measures_never_change_the_score(mixed_run, pipeline_run):
    """Cardiff's figures are HAND_MADE_FILES' Cardiff's plus the optional measures, in v2 files:
    its score and points are exactly those of the v1-only run."""
    with_measures = league(mixed_run[0])[CARDIFF]
    with duckdb.connect(str(pipeline_run.paths.warehouse), read_only=True) as con:
        cursor = con.execute(f"select * from marts.league_table where body_code = '{CARDIFF}'")
        names = [d[0] for d in cursor.description]
        without = dict(zip(names, cursor.fetchone(), strict=True))
    assert with_measures["score"] == without["score"]
    for name, value in without.items():
        if name.endswith("_points"):
            assert with_measures[name] == value, name


def test_open_data_cells(mixed_run):
    paths = mixed_run[0]
    with (paths.open_data / "league_table.csv").open(encoding="utf-8") as handle:
        table = {r["body_code"]: r for r in csv.DictReader(handle)}
    for code in NEW_INDICATORS:
        assert table[SWANSEA][code] == "", code
        assert table[SWANSEA][f"{code}_status"] != "", code
    assert float(table[CARDIFF]["completion_rate"]) == pytest.approx(840 / 1110, abs=5e-5)
    assert float(table[CARDIFF]["standards_met"]) == pytest.approx(14 / 24, abs=5e-5)
    with (paths.open_data / "indicators.csv").open(encoding="utf-8") as handle:
        monthly = {(r["body_code"], r["period"]): r for r in csv.DictReader(handle)}
    # February alone: tax 60 of 80 and parking 60 of 75
    assert float(monthly[(CARDIFF, "2026-02")]["completion_rate"]) == pytest.approx(
        120 / 155, abs=5e-5
    )
    assert float(monthly[(CARDIFF, "2025-03")]["completion_rate"]) == pytest.approx(0.75)
    assert monthly[(SWANSEA, "2026-02")]["completion_rate"] == ""


def test_extract_services_show_the_measures_as_given(mixed_run):
    """Cardiff's services CSV shows each service-month's optional measures as the body gave them:
    tax 80 started, 50 responses, 40 satisfied, £450.50, 6 in Welsh; the others only 6 in Welsh
    (parking also 75 started in 2026-01 and 2026-02), the rest empty, never 0."""
    from exports.extracts import extract_files

    paths = mixed_run[0]
    name = extract_files(CARDIFF)["services_csv"]
    with (paths.extracts / CARDIFF / name).open(encoding="utf-8") as handle:
        services = list(csv.DictReader(handle))
    assert len(services) == 12 * 13
    measures = V2_MEASURES
    for r in services:
        got = tuple(r[m] for m in measures)
        if r["service_code"] == TAX:
            assert got == ("80", "50", "40", "450.50", "6"), r
        elif r["service_code"] == PARKING and r["period"] in ("2026-01", "2026-02"):
            assert got == ("75", "", "", "", "6"), r
        else:
            assert got == ("", "", "", "", "6"), r
