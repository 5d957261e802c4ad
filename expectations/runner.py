"""Run a versioned Great Expectations suite over a pandas frame, in one ephemeral context.

DuckDB is not one of GX's SQL dialects, so tables are validated as pandas frames: one validation
per table per run, never one per file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SUITES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str
    success: bool
    unexpected_count: int
    unexpected_rows: list[int]  # positions in the validated frame
    unexpected_values: list
    meta: dict


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    success: bool
    outcomes: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def load_suite_definition(name: str) -> dict:
    return json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def run_suite(name: str, frame: pd.DataFrame, parameters: dict | None = None) -> SuiteOutcome:
    """Validate `frame` against the suite `expectations/<name>.json`."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # heavy import (2-3 s): only when a suite runs

    definition = load_suite_definition(name)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # quiet logs and CLI
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole_table")
    )
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=definition["name"],
            expectations=definition["expectations"],
            meta=definition.get("meta", {}),
        )
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}_validation", data=batch, suite=suite)
    )
    result = validation.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format="COMPLETE",
    )
    outcomes = []
    for item in result.results:
        details = item.result or {}
        kwargs = item.expectation_config.kwargs
        outcomes.append(
            ExpectationOutcome(
                expectation=item.expectation_config.type,
                column=str(kwargs.get("column") or kwargs.get("column_B") or ""),
                success=bool(item.success),
                unexpected_count=int(details.get("unexpected_count") or 0),
                unexpected_rows=[int(i) for i in details.get("unexpected_index_list") or []],
                unexpected_values=list(details.get("partial_unexpected_list") or []),
                meta=dict(item.expectation_config.meta or {}),
            )
        )
    return SuiteOutcome(name, bool(result.success), outcomes)
