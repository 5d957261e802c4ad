"""Reference data read from the versioned seed files: register of bodies, sectors, services
catalogue, register of expected returns (which services each body delivers), indicator
dictionary, the 12 Digital Service Standards for Wales. The same files dbt loads as seeds, so
there is one copy of each fact."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dagster_project.settings import REFERENCE_DIR


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Reference:
    bodies: list[dict[str, str]]
    services: list[dict[str, str]]
    indicators: list[dict[str, str]]
    body_services: list[dict[str, str]]
    sectors: list[dict[str, str]]
    standards: list[dict[str, str]]
    folder: Path = REFERENCE_DIR  # where they were read from

    def published_indicators(self) -> list[dict[str, str]]:
        """The indicators every table publishes as columns, in dictionary order: those in the
        score and those only reported (role `reported`: benchmarked, never in the score)."""
        return published_indicators(self.indicators)

    def standard_groups(self, language: str) -> list[tuple[str, str, list[dict[str, str]]]]:
        """The standards by group, in their numbered order: (group code, its name in
        `language`, its standards)."""
        groups: dict[str, tuple[str, str, list[dict[str, str]]]] = {}
        for s in sorted(self.standards, key=lambda s: int(s["standard"])):
            code = s["group_code"]
            groups.setdefault(code, (code, s[f"group_{language}"], []))[2].append(s)
        return list(groups.values())

    def sector_names(self, language: str) -> dict[str, str]:
        """Sector code -> its name in `language` ("en" or "cy"), in the register's order."""
        ordered = sorted(self.sectors, key=lambda s: int(s["sort_order"]))
        return {s["sector"]: s[f"name_{language}"] for s in ordered}

    def services_of(self, body_code: str) -> list[str]:
        """The catalogue services a body is expected to report, sorted by code."""
        return sorted(s["service_code"] for s in self.body_services if s["body_code"] == body_code)


PUBLISHED_ROLES = ("score", "reported")


def published_indicators(indicators: list[dict]) -> list[dict]:
    """The dictionary's rows of role score or reported, in its order: one column each in the
    headline tables. Quality measures (coverage, returns received) are published on their own."""
    return [i for i in indicators if i["role"] in PUBLISHED_ROLES]


def load_reference(folder: Path = REFERENCE_DIR) -> Reference:
    """Load the register, catalogue, indicator dictionary and standards from a reference folder."""
    return Reference(
        bodies=_read_csv(folder / "bodies.csv"),
        services=_read_csv(folder / "services.csv"),
        indicators=_read_csv(folder / "indicator_dictionary.csv"),
        body_services=_read_csv(folder / "body_services.csv"),
        sectors=_read_csv(folder / "sectors.csv"),
        standards=_read_csv(folder / "standards.csv"),
        folder=folder,
    )
