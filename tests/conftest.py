"""Shared fixtures: small, hand-checkable submissions and one real pipeline run over them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.collect.contract import COLUMN_NAMES
from dagster_project.reference import Reference, load_reference
from dagster_project.settings import DataPaths

CARDIFF, SWANSEA, ANGLESEY, GWYNEDD = "W06000015", "W06000011", "W06000001", "W06000002"
TAX, PARKING = "la_council_tax_payment", "la_parking_permit"


def submission(*rows: dict, columns: tuple[str, ...] = COLUMN_NAMES) -> bytes:
    """A CSV file of `columns` (by default the contract's, in its order); missing cells are left
    empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: str(v) for k, v in row.items()})
    return out.getvalue().encode("utf-8")


def row(
    body: str,
    period: str,
    service: str,
    total: int,
    online: int,
    available: str,
    by_default: str,
    letters: int,
    notifications: int,
    **extra: object,
) -> dict:
    return {
        "body_code": body,
        "period": period,
        "service_code": service,
        "transactions_total": total,
        "transactions_online": online,
        "available_online": available,
        "digital_by_default": by_default,
        "letters_posted": letters,
        "digital_notifications": notifications,
        **extra,
    }


def other_bodies_return(months: tuple[str, ...], besides: tuple[str, ...]) -> dict[str, bytes]:
    """One small return a month from every registered body not in `besides`: 10 transactions
    of its first expected service. Enough bodies report for the month to be published, none of
    them often enough to be ranked."""
    reference = load_reference()
    return {
        f"{body}/{body}_{month}.csv": submission(
            row(body, month, reference.services_of(body)[0], 10, 5, "yes", "no", 1, 1)
        )
        for body in sorted(b["body_code"] for b in reference.bodies)
        if body not in besides
        for month in months
    }


# The hand-made case every end-to-end assertion is computed from (see tests/test_pipeline.py):
# the 12 months to February 2026, every council service each month, the same figures each month.
MONTHS = [f"2025-{m:02d}" for m in range(3, 13)] + ["2026-01", "2026-02"]
COUNCIL_SERVICES = sorted(
    s["service_code"] for s in load_reference().services if s["sector"] == "local_authority"
)
POWYS = "W06000023"


def year_of_returns(
    body: str,
    total: int,
    online: int,
    letters: int,
    notifications: int,
    online_services: int,
    default_services: int,
) -> dict[str, bytes]:
    """A file a month; the first `online_services` services (sorted by code) are available
    online, the first `default_services` digital by default."""
    return {
        f"{body}/{body}_{month}.csv": submission(
            *(
                row(
                    body,
                    month,
                    service,
                    total,
                    online,
                    "yes" if n < online_services else "no",
                    "yes" if n < default_services else "no",
                    letters,
                    notifications,
                )
                for n, service in enumerate(COUNCIL_SERVICES)
            )
        )
        for month in MONTHS
    }


HAND_MADE_FILES: dict[str, bytes] = {
    # Cardiff: 60 of 100 online, 10 letters and 30 messages per service-month; all 13 services
    # online, 6 digital by default.
    **year_of_returns(CARDIFF, 100, 60, 10, 30, online_services=13, default_services=6),
    # Swansea: 40 of 100 online, 20 letters and 20 messages; 10 services online, none by default.
    **year_of_returns(SWANSEA, 100, 40, 20, 20, online_services=10, default_services=0),
    # Swansea resubmits February: 90 online for every service. It supersedes the first version.
    f"{SWANSEA}/{SWANSEA}_2026-02_v2.csv": submission(
        *(
            row(SWANSEA, "2026-02", service, 100, 90, "yes" if n < 10 else "no", "no", 20, 20)
            for n, service in enumerate(COUNCIL_SERVICES)
        )
    ),
    # Gwynedd: every service reported with no volume at all: rates over zero are empty, not 0.
    **year_of_returns(GWYNEDD, 0, 0, 0, 0, online_services=0, default_services=0),
    # Powys: only two months, so coverage 26 / 156 is under the threshold: shown, not ranked.
    **{
        name: data
        for name, data in year_of_returns(
            POWYS, 100, 50, 5, 5, online_services=13, default_services=13
        ).items()
        if name.endswith(("2026-01.csv", "2026-02.csv"))
    },
    # Every other registered body sends one service for January and February 2026, so that the
    # publication month has returns from enough bodies (the dictionary's returns_received):
    # far below the coverage threshold, they are shown but never ranked.
    **other_bodies_return(
        ("2026-01", "2026-02"), besides=(CARDIFF, SWANSEA, GWYNEDD, POWYS, ANGLESEY)
    ),
    # Anglesey's file claims more online than in total on row 3: the whole file is rejected.
    f"{ANGLESEY}/{ANGLESEY}_2026-02.csv": submission(
        row(ANGLESEY, "2026-02", TAX, 100, 50, "yes", "no", 10, 10),
        row(ANGLESEY, "2026-02", PARKING, 100, 150, "yes", "no", 10, 10),
    ),
}


def write_landing(paths: DataPaths, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        target = paths.landing / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.fixture(scope="session")
def reference() -> Reference:
    return load_reference()


@dataclass
class PipelineRun:
    paths: DataPaths
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """Every asset materialised once by Dagster over the hand-made submissions."""
    from dagster_project.definitions import ALL_ASSETS, league_table_expectations
    from dagster_project.resources import PlatformSettings, build_resources

    paths = DataPaths(tmp_path_factory.mktemp("data_root")).ensure()
    write_landing(paths, HAND_MADE_FILES)
    result = dg.materialize(
        [*ALL_ASSETS, league_table_expectations],
        resources=build_resources(PlatformSettings(data_root=str(paths.root))),
        partition_key="2026-02-01",
        raise_on_error=False,
    )
    return PipelineRun(paths, result)


@pytest.fixture
def data_paths(tmp_path: Path) -> DataPaths:
    return DataPaths(tmp_path / "data").ensure()


DEMO_END, DEMO_MONTHS = "2026-09", 14


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    """Every asset materialised once over the demo data: every sector, messy files included."""
    from dagster_project.collect.demo_data import write_demo_submissions
    from dagster_project.definitions import ALL_ASSETS
    from dagster_project.resources import PlatformSettings, build_resources

    paths = DataPaths(tmp_path_factory.mktemp("demo_root")).ensure()
    write_demo_submissions(paths, load_reference(), end=DEMO_END, months=DEMO_MONTHS)
    result = dg.materialize(
        ALL_ASSETS,
        resources=build_resources(PlatformSettings(data_root=str(paths.root))),
        partition_key=f"{DEMO_END}-01",
    )
    assert result.success
    return paths
