"""Dagster assets of the publish stage: the Evidence project, benchmark extracts and open data,
rendered from the marts. They run only after the league table passes its blocking checks, and
each publication is built in a new folder and switched into place atomically; a publication
whose inputs have not changed since the live one is kept as it is."""

import subprocess
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from dagster_project.progress import StepProgress
from dagster_project.resources import PlatformSettings
from dagster_project.settings import ASSET_OWNER, REPO_ROOT
from dagster_project.transform.assets import warehouse_models
from exports.evidence import evidence_inputs, publish_evidence_project
from exports.extracts import (
    PublishedExtracts,
    body_fingerprints,
    extracts_inputs,
    publish_extracts,
)
from exports.open_data import open_data_inputs, publish_open_data
from exports.release import damaged, live_inputs, record_inputs, release, remove_leftovers

MARTS = [
    get_asset_key_for_model([warehouse_models], model)
    for model in (
        "league_table",
        "body_benchmarks",
        "indicators_monthly",
        "indicator_progress",
        "service_figures",
        "submission_returns",
        "service_standards",
        "service_standard_results",
        "wales_summary",
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
    settings: PlatformSettings,
    target: Path,
    inputs: Callable[[duckdb.DuckDBPyConnection], str],
    build: Callable[[duckdb.DuckDBPyConnection, Path], object],
    carry_over: tuple[str, ...] = (),
) -> dict[str, object]:
    """Release a new publication at `target`, unless the live one was made from the same
    inputs: then it stays as it is (only what a killed release left behind is removed)."""
    written: list[Path] = []
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        fingerprint = inputs(con)
        same_inputs = live_inputs(target) == fingerprint
        broken = [] if not same_inputs else damaged(target)
        rebuilt = not same_inputs or bool(broken)
        if rebuilt:

            def build_into(folder: Path) -> None:
                built = build(con, folder)
                written.extend(getattr(built, "files", built))
                record_inputs(folder, fingerprint)

            release(target, build_into, carry_over)
        else:
            remove_leftovers(target, carry_over)
    return {
        "rebuilt": rebuilt,
        "reason": (
            "inputs changed"
            if not same_inputs
            else f"files missing or changed in the live release: {', '.join(broken[:5])}"
            if broken
            else "inputs unchanged: the live release is kept"
        ),
        # the live release's files are not counted: an Evidence project holds node_modules
        **({"files": len(written)} if rebuilt else {}),
        "inputs_sha256": fingerprint,
        "path": dg.MetadataValue.path(str(target)),
    }


@dg.asset(group_name="publish", deps=MARTS, kinds={"evidence"}, owners=[ASSET_OWNER])
def evidence_project(settings: PlatformSettings) -> dg.MaterializeResult:
    """The Evidence project: Parquet sources, league table, sector, body, methodology and data
    quality pages. A user's node_modules is carried over to the new release."""
    package = version("digital-progress")
    metadata = _publish(
        settings,
        settings.paths.evidence,
        lambda con: evidence_inputs(con, package),
        lambda con, folder: publish_evidence_project(con, folder, package),
        carry_over=("node_modules",),
    )
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(group_name="publish", deps=MARTS, kinds={"csv", "xlsx", "html"}, owners=[ASSET_OWNER])
def benchmark_extracts(
    context: dg.AssetExecutionContext, settings: PlatformSettings
) -> dg.MaterializeResult:
    """A folder per registered body: CSV, XLSX and a self-contained HTML page, in English and
    Welsh, with its indicators beside its sector's median and quartiles. Only bodies whose
    fingerprint changed are rendered; the others are taken from the live release."""
    target = settings.paths.extracts
    fingerprints: dict[str, str] = {}
    published: list[PublishedExtracts] = []

    def inputs(con: duckdb.DuckDBPyConnection) -> str:
        fingerprints.update(body_fingerprints(con))
        return extracts_inputs(fingerprints)

    def build(con: duckdb.DuckDBPyConnection, folder: Path) -> PublishedExtracts:
        done = publish_extracts(
            con,
            folder,
            # files are taken from the live release only while it is as it was built
            previous=target if target.exists() and not damaged(target) else None,
            progress=StepProgress(context, "extracts", "bodies rendered"),
            fingerprints=fingerprints,
        )
        published.append(done)
        return done

    metadata = _publish(settings, target, inputs, build)
    rendered = len(published[-1].rendered) if published else 0
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "bodies_rendered": rendered,
            "bodies_carried_over": len(fingerprints) - rendered,
        }
    )


@dg.asset(group_name="publish", deps=MARTS, kinds={"csv", "json"}, owners=[ASSET_OWNER])
def open_data(settings: PlatformSettings) -> dg.MaterializeResult:
    """League table, indicators and service standards as CSV and JSON, CSV on the Web
    metadata, the indicator dictionary, the methodology and a manifest of SHA-256 checksums."""
    as_of, made_by = settings.dbt_vars()["as_of"], code_version()
    metadata = _publish(
        settings,
        settings.paths.open_data,
        lambda con: open_data_inputs(con, as_of, made_by),
        lambda con, folder: publish_open_data(con, folder, as_of, made_by),
    )
    return dg.MaterializeResult(metadata=metadata)
