"""The submission data contract (v2): one row per body x month x service. See SPEC.md.

v2 adds five optional measures after `notes` (completion, satisfaction, cost and the Welsh
language); a v1 file, without them, is a v2 file that gives none of them, and loads unchanged.
A measure not given is NULL in the warehouse, never 0.

Each column's description, in English and Welsh, is in the string catalogue
(`dagster_project/catalogue/contract.yaml`, keyed by column name); the template reads it from here.
Returns are due by day `return_due_day` of the month after the month they report: one setting,
the dbt var of that name, read here for the reports and by dbt for the returns table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import yaml

from dagster_project.catalogue import text
from dagster_project.settings import DBT_PROJECT_DIR


@dataclass(frozen=True)
class Column:
    name: str
    # "text", "period", "count" (whole number >= 0), "money" (pounds >= 0, at most 2 decimal
    # places) or "flag" (yes/no)
    kind: str
    required: bool

    def describe(self, language: str) -> str:
        return text(f"contract.{self.name}", language)


COLUMNS: tuple[Column, ...] = (
    Column("body_code", "text", True),
    Column("period", "period", True),
    Column("service_code", "text", True),
    Column("transactions_total", "count", True),
    Column("transactions_online", "count", True),
    Column("transactions_phone", "count", False),
    Column("transactions_face_to_face", "count", False),
    Column("transactions_paper", "count", False),
    Column("transactions_other", "count", False),
    Column("available_online", "flag", True),
    Column("digital_by_default", "flag", True),
    Column("letters_posted", "count", True),
    Column("digital_notifications", "count", True),
    Column("notes", "text", False),
    # v2: optional measures, any subset of them in a file
    Column("online_started", "count", False),
    Column("satisfaction_responses", "count", False),
    Column("satisfied_responses", "count", False),
    Column("cost_total", "money", False),
    Column("transactions_online_welsh", "count", False),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "count")
MONEY_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "money")
FLAG_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "flag")
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
CHANNEL_COLUMNS: tuple[str, ...] = (
    "transactions_phone",
    "transactions_face_to_face",
    "transactions_paper",
    "transactions_other",
)
V1_COLUMN_NAMES: tuple[str, ...] = COLUMN_NAMES[: COLUMN_NAMES.index("notes") + 1]
# What a valid cell of a kind is once read (the GX suite holds the same patterns, anchored:
# tests/collect/test_measures.py checks they agree).
WHOLE_NUMBER_PATTERN = "[0-9]+"
MONEY_PATTERN = r"[0-9]+(?:\.[0-9]{1,2})?"
# A sum of money as bodies write it and mean it unambiguously: a pound sign (spaces after it),
# thousands separators, pence after a point. Read as MONEY_PATTERN by dropping the sign, the
# spaces and the commas; anything else is kept as written, for the body to see it refused.
MONEY_WRITTEN = r"(£ *)?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?"
# Cells meaning "not given" in optional columns; public bodies write these for blanks.
NOT_GIVEN = frozenset({"", "n/a", "na"})


@cache
def return_due_day() -> int:
    """The day of the following month by which a month's return is due: dbt's var
    `return_due_day` (dbt/dbt_project.yml), so the reports and the returns table agree."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return int(project["vars"]["return_due_day"])


def return_due_date(period: str) -> date:
    """When the return for `period` (YYYY-MM) is due: day return_due_day of the next month."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, return_due_day())
