"""Dagster assets of the publish stage: the Evidence project, benchmark extracts and open data,
rendered from the marts. They run only after the league table passes its blocking checks, and
each publication is built in a new folder and switched into place atomically."""

import subprocess
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from dagster_project.resources import PlatformSettings
from dagster_project.settings import ASSET_OWNER, REPO_ROOT
from dagster_project.transform.assets import warehouse_models
from exports.evidence import publish_evidence_project
from exports.extracts import publish_extracts
from exports.open_data import publish_open_data
from exports.release import release

MARTS = [
    get_asset_key_for_model([warehouse_models], model)
    for model in (
        "league_table",
        "body_benchmarks",
        "indicators_monthly",
        "indicator_progress",
        "service_figures",
        "submission_returns",
    )
]


def code_version() -> str:
    """The package version and, in a git checkout, the commit: what made the publication."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return version("digital-progress") + (f"+{commit}" if commit else "")


def _publish(
    settings: PlatformSettings, target: Path, build, carry_over=()
) -> dg.MaterializeResult:
    written: list[Path] = []

    def build_into(folder: Path) -> None:
        with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
            written.extend(build(con, folder))

    release(target, build_into, carry_over)
    return dg.MaterializeResult(
        metadata={
            "files": len(written),
            "path": dg.MetadataValue.path(str(target)),
        }
    )


@dg.asset(group_name="publish", deps=MARTS, kinds={"evidence"}, owners=[ASSET_OWNER])
def evidence_project(settings: PlatformSettings) -> dg.MaterializeResult:
    """The Evidence project: Parquet sources, league table, sector, body, methodology and data
    quality pages. A user's node_modules is carried over to the new release."""
    return _publish(
        settings,
        settings.paths.evidence,
        lambda con, folder: publish_evidence_project(con, folder, version("digital-progress")),
        carry_over=("node_modules",),
    )


@dg.asset(group_name="publish", deps=MARTS, kinds={"csv", "xlsx", "html"}, owners=[ASSET_OWNER])
def benchmark_extracts(settings: PlatformSettings) -> dg.MaterializeResult:
    """A folder per registered body: CSV, XLSX and a self-contained HTML page, in English and
    Welsh, with its indicators beside its sector's median and quartiles."""
    return _publish(settings, settings.paths.extracts, publish_extracts)


@dg.asset(group_name="publish", deps=MARTS, kinds={"csv", "json"}, owners=[ASSET_OWNER])
def open_data(settings: PlatformSettings) -> dg.MaterializeResult:
    """League table and indicators as CSV and JSON, CSV on the Web metadata, the indicator
    dictionary, the methodology and a manifest of SHA-256 checksums."""
    as_of = settings.dbt_vars()["as_of"]
    return _publish(
        settings,
        settings.paths.open_data,
        lambda con, folder: publish_open_data(con, folder, as_of, code_version()),
    )
