"""Dagster assets of the publish stage: the Evidence project, benchmark extracts and open data,
rendered from the marts. They run only after the league table passes its blocking checks."""

from importlib.metadata import version

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from dagster_project.resources import PlatformSettings
from dagster_project.transform.assets import warehouse_models
from exports.publish import publish_evidence_project, publish_extracts, publish_open_data

MARTS = [
    get_asset_key_for_model([warehouse_models], model)
    for model in ("league_table", "body_benchmarks", "indicators_monthly")
]


def _read_only(settings: PlatformSettings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.paths.warehouse), read_only=True)


def _result(paths: list, root) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "files": len(paths),
            "path": dg.MetadataValue.path(str(root)),
        }
    )


@dg.asset(group_name="publish", deps=MARTS, kinds={"evidence"})
def evidence_project(settings: PlatformSettings) -> dg.MaterializeResult:
    """The Evidence project: Parquet sources, the league table page and a page per body."""
    target = settings.paths.evidence
    with _read_only(settings) as con:
        written = publish_evidence_project(con, target, version("digital-progress"))
    return _result(written, target)


@dg.asset(group_name="publish", deps=MARTS, kinds={"csv"})
def benchmark_extracts(settings: PlatformSettings) -> dg.MaterializeResult:
    """A folder per registered body: its indicators beside its sector's median and quartiles."""
    target = settings.paths.extracts
    with _read_only(settings) as con:
        written = publish_extracts(con, target)
    return _result(written, target)


@dg.asset(group_name="publish", deps=MARTS, kinds={"csv"})
def open_data(settings: PlatformSettings) -> dg.MaterializeResult:
    """The league table (one row per registered body) and the indicator dictionary as CSV."""
    target = settings.paths.open_data
    with _read_only(settings) as con:
        written = publish_open_data(con, target)
    return _result(written, target)
