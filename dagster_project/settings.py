"""Where things live. One data root holds everything the platform writes.

The data root is ``./data`` unless ``DIGITAL_PROGRESS_DATA`` names another folder. Reference
data (register of bodies, services catalogue, indicator dictionary) is versioned as dbt seeds.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
REFERENCE_DIR = DBT_PROJECT_DIR / "seeds"
DATA_ROOT_ENV = "DIGITAL_PROGRESS_DATA"
PUBLICATION_PERIOD_ENV = "DIGITAL_PROGRESS_PERIOD"
AS_OF_ENV = "DIGITAL_PROGRESS_AS_OF"


def default_data_root() -> Path:
    """The data root from the environment, else ./data, always absolute (dbt-duckdb needs that)."""
    return Path(os.environ.get(DATA_ROOT_ENV) or "data").expanduser().resolve()


@dataclass(frozen=True)
class DataPaths:
    """Every folder and file under one data root."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def archive(self) -> Path:
        """Every submission ever received, byte for byte, named by its SHA-256."""
        return self.root / "archive"

    @property
    def feedback(self) -> Path:
        """Reports on accepted submissions that carry warnings."""
        return self.root / "feedback"

    @property
    def endpoints(self) -> Path:
        """Optional: body_code,url of bodies that publish their returns over HTTPS."""
        return self.root / "api_endpoints.csv"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def evidence(self) -> Path:
        return self.exports / "evidence"

    @property
    def extracts(self) -> Path:
        return self.exports / "extracts"

    @property
    def open_data(self) -> Path:
        return self.exports / "open-data"

    def ensure(self) -> DataPaths:
        for folder in (self.landing, self.quarantine, self.archive, self.feedback, self.exports):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def reporting_month(today: date) -> str:
    """The partition key of the latest month that has ended: the month returns are now for."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}-01"


def _print_summary() -> None:
    paths = DataPaths(default_data_root())
    print("Outputs:")
    print(f"  warehouse      {paths.warehouse}")
    print(f"  league table   {paths.open_data / 'league_table.csv'}")
    print(f"  extracts       {paths.extracts}/<body_code>/")
    print(f"  evidence site  {paths.evidence}  (cd there; npm install; npm run build)")
    quarantined = sorted(p.name for p in paths.quarantine.glob("*") if ".report." not in p.name)
    print(f"  quarantine     {paths.quarantine}  ({len(quarantined)} rejected file(s))")
    for name in quarantined:
        print(f"                 - {name} (reports: {name}.report.html, .txt, .json)")
    warned = sorted(paths.feedback.rglob("*.report.html"))
    print(f"  feedback       {paths.feedback}  ({len(warned)} loaded file(s) with warnings)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", action="store_true", help="print where the outputs are")
    parser.add_argument("--partition", action="store_true", help="print this month's partition")
    arguments = parser.parse_args()
    if arguments.summary:
        _print_summary()
    if arguments.partition:
        print(reporting_month(date.today()))
