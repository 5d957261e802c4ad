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


def submission(*rows: dict) -> bytes:
    """A CSV submission in the contract's column order; missing cells are left empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMN_NAMES, lineterminator="\n")
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


# The hand-made case every end-to-end assertion is computed from (see tests/test_pipeline.py).
HAND_MADE_FILES: dict[str, bytes] = {
    f"{CARDIFF}/{CARDIFF}_2026-01.csv": submission(
        row(CARDIFF, "2026-01", TAX, 1000, 600, "yes", "no", 400, 600),
        row(CARDIFF, "2026-01", PARKING, 500, 100, "no", "no", 200, 50),
    ),
    f"{CARDIFF}/{CARDIFF}_2026-02.csv": submission(
        row(CARDIFF, "2026-02", TAX, 1000, 800, "yes", "yes", 300, 900),
        row(CARDIFF, "2026-02", PARKING, 500, 200, "yes", "no", 100, 100),
    ),
    f"{SWANSEA}/{SWANSEA}_2026-02.csv": submission(
        row(SWANSEA, "2026-02", TAX, 2000, 500, "yes", "no", 1000, 0),
    ),
    # Swansea resubmits February: online 1000, not 500. The later file supersedes the first.
    f"{SWANSEA}/{SWANSEA}_2026-02_v2.csv": submission(
        row(SWANSEA, "2026-02", TAX, 2000, 1000, "yes", "no", 1000, 0),
    ),
    # Gwynedd reports a service with no volume at all: rates over zero are empty, not 0.
    f"{GWYNEDD}/{GWYNEDD}_2026-02.csv": submission(
        row(GWYNEDD, "2026-02", TAX, 0, 0, "no", "no", 0, 0),
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
