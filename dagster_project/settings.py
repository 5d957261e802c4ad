"""Where things live. One data root holds everything the platform writes.

The data root is ``./data`` unless ``DIGITAL_PROGRESS_DATA`` names another folder. Reference
data (register of bodies, services catalogue, indicator dictionary) is versioned as dbt seeds.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
REFERENCE_DIR = DBT_PROJECT_DIR / "seeds"
DATA_ROOT_ENV = "DIGITAL_PROGRESS_DATA"
PUBLICATION_PERIOD_ENV = "DIGITAL_PROGRESS_PERIOD"
AS_OF_ENV = "DIGITAL_PROGRESS_AS_OF"
# Who answers for every asset, shown in the Dagster UI (a dbt model's meta owners override it).
ASSET_OWNER = "team:data-engineering"


def dbt_var(name: str) -> object:
    """A var of the dbt project (dbt/dbt_project.yml), so Python and dbt read one value."""
    import yaml

    with open(DBT_PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as file:
        return yaml.safe_load(file)["vars"][name]


# Returns for a month are due by this day of the following month.
RETURN_DUE_DAY = int(dbt_var("return_due_day"))


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
    def logs(self) -> Path:
        """The full log of each `make run` (Dagster's events, dbt's output), never published."""
        return self.root / "logs"

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


class SettingsError(ValueError):
    """A setting that would stop the run part-way: raised before any step does work."""


# ASCII digits only: `\d` would also accept digits that dbt's own check refuses.
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_AS_OF_FORMATS = {
    re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"): "%Y-%m-%d",
    re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"): "%Y-%m-%d %H:%M",
    re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"): "%Y-%m-%d %H:%M:%S",
}
PERIOD_EXPECTED = "expected a month as YYYY-MM (month 01-12, year 2000-2100), e.g. 2026-09"
AS_OF_EXPECTED = (
    "expected a date or date and time as YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS, "
    "e.g. 2026-10-16 06:00:00"
)


SETTINGS_FIX = (
    "Nothing has run. Correct the variable, or unset it for its default, and run again "
    "(the settings table in README.md)."
)


def _is_month(value: str) -> bool:
    match = _MONTH.fullmatch(value)
    return bool(match) and 2000 <= int(match[1]) <= 2100 and 1 <= int(match[2]) <= 12


def _is_moment(value: str) -> bool:
    for pattern, layout in _AS_OF_FORMATS.items():
        if pattern.fullmatch(value):
            try:
                datetime.strptime(value, layout)
            except ValueError:  # 2026-02-30, 25:00
                return False
            return True
    return False


def check_settings(period: str, as_of: str, today: date | None = None) -> None:
    """Refuse a publication month or as-of moment that dbt would reject part-way through a run,
    or that cannot be published yet: a month that has not ended (by `today`, UTC) has no
    complete returns, and an as-of moment in the future would show what nobody has sent.
    Empty means the default, so it passes; every bad value is named in one SettingsError."""
    today = today or datetime.now(UTC).date()
    last_ended = reporting_month(today)[:7]
    problems = []
    if period and not _is_month(period):
        problems.append(f"{PUBLICATION_PERIOD_ENV}={period!r}: {PERIOD_EXPECTED}")
    elif period > last_ended:
        problems.append(
            f"{PUBLICATION_PERIOD_ENV}={period!r}: expected a month that has ended, "
            f"{last_ended} or earlier"
        )
    if as_of and not _is_moment(as_of):
        problems.append(f"{AS_OF_ENV}={as_of!r}: {AS_OF_EXPECTED}")
    elif as_of[:10] > today.isoformat():
        problems.append(
            f"{AS_OF_ENV}={as_of!r}: expected a moment that has passed, {today} or earlier"
        )
    if problems:
        raise SettingsError("\n".join(problems))


def _check_environment() -> int:
    """The exit status of `--check`: 2, with the problem on stderr, when a setting is invalid."""
    try:
        check_settings(os.environ.get(PUBLICATION_PERIOD_ENV, ""), os.environ.get(AS_OF_ENV, ""))
    except SettingsError as error:
        print(error, file=sys.stderr)
        print(SETTINGS_FIX, file=sys.stderr)
        return 2
    return 0


def reporting_month(today: date) -> str:
    """The partition key of the latest month that has ended: the month returns are now for."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}-01"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"check ${PUBLICATION_PERIOD_ENV} and ${AS_OF_ENV}; exit 2 when one is invalid",
    )
    arguments = parser.parse_args()
    if arguments.check and (status := _check_environment()):
        sys.exit(status)
