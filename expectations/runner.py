"""Run a versioned Great Expectations suite over a pandas frame, in one ephemeral context.

DuckDB is not one of GX's SQL dialects, so tables are validated as pandas frames: one validation
per table per run, never one per file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
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


def _matches(indicator: Mapping[str, str], when: Mapping[str, str]) -> bool:
    """A template's `when`: each dictionary field equal to its value; `<field>_is_not` unequal."""
    for key, value in when.items():
        if key.endswith("_is_not"):
            if indicator[key.removesuffix("_is_not")] == value:
                return False
        elif indicator[key] != value:
            return False
    return True


def _filled(value, code: str):
    if isinstance(value, str):
        return value.replace("{code}", code)
    if isinstance(value, list):
        return [_filled(v, code) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, code) for k, v in value.items()}
    return value


def expand_suite(definition: dict, indicators: list[Mapping[str, str]] | None) -> dict:
    """The suite with its per-indicator templates written out for each published indicator of
    the dictionary, in its order: the suite keeps the rules, the dictionary the list of
    indicators. A suite with templates and no indicators is refused, never run half-empty."""
    templates = definition.get("per_indicator", [])
    columns = definition.get("per_indicator_columns", [])
    if not templates and not columns:
        return definition
    if not indicators:
        raise ValueError(f"suite {definition['name']} needs the published indicators")
    expectations = []
    for expectation in definition["expectations"]:
        if expectation["type"] == "expect_table_columns_to_match_set":
            added = [_filled(c, i["indicator_code"]) for i in indicators for c in columns]
            kwargs = {**expectation["kwargs"]}
            kwargs["column_set"] = [*kwargs["column_set"], *added]
            expectation = {**expectation, "kwargs": kwargs}
        expectations.append(expectation)
    for indicator in indicators:
        for template in templates:
            if _matches(indicator, template.get("when", {})):
                written = {k: v for k, v in template.items() if k != "when"}
                expectations.append(_filled(written, indicator["indicator_code"]))
    rest = {
        k: v for k, v in definition.items() if k not in ("per_indicator", "per_indicator_columns")
    }
    return {**rest, "expectations": expectations}


def run_suite(
    name: str,
    frame: pd.DataFrame,
    parameters: dict | None = None,
    indicators: list[Mapping[str, str]] | None = None,
) -> SuiteOutcome:
    """Validate `frame` against the suite `expectations/<name>.json`, its per-indicator
    templates written out for `indicators` (the dictionary's published rows, in order)."""
    definition = expand_suite(load_suite_definition(name), indicators)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # heavy import (2-3 s): only when a suite runs
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
