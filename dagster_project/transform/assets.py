"""The dbt project as Dagster assets: seeds, staging, intermediate and marts; dbt data tests
become asset checks. dbt unit tests test the SQL, not the data, so they run in the test suite
(tests/test_dbt_unit_tests.py), not in every production `dbt build`. A build whose inputs are
all as they were at the last successful build is not run again (`build_inputs`)."""

import hashlib
import json
from collections.abc import Iterator, Mapping
from graphlib import TopologicalSorter
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from dagster_project.collect.load import ensure_raw_schema
from dagster_project.resources import PlatformSettings, dbt_project
from dagster_project.settings import ASSET_OWNER, DBT_PROJECT_DIR


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer, so the asset graph reads left to right like the folders;
    descriptions come from the models' YAML, owners from a model's meta, else the platform's."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return dbt_resource_props["fqn"][1]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return list(super().get_owners(dbt_resource_props) or [ASSET_OWNER])


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    # Both raw tables are written by the one `submissions` asset.
    dagster_dbt_translator=LayerTranslator(
        settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
    ),
)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: PlatformSettings
):
    settings.paths.ensure()
    warehouse = settings.paths.warehouse
    # Intermediate models as tables: each is computed once, not again inside every mart that
    # reads it (dbt/dbt_project.yml says why they are views otherwise).
    variables = {**settings.dbt_vars(), "intermediate_materialized": "table"}
    if not variables["publication_period"] and SCHEDULE_TAG in context.run.tags:
        variables["publication_period"] = scheduled_publication_month(context.run.tags)
    whole = set(context.selected_asset_keys) == set(context.assets_def.keys)
    with duckdb.connect(str(warehouse)) as con:
        inputs = build_inputs(con, variables)  # creates raw.*, which dbt reads as sources
        last = last_build(con)
        if last is not None and last["inputs"] == inputs:
            yield from unchanged(context, last)
            return
        forget_build(con)  # a build that fails must never look current afterwards
    # --full-refresh: seeds are reloaded whole, so a changed reference file (a new column in
    # the indicator dictionary) never meets the old table. Nothing here is incremental.
    args = [
        "build",
        "--full-refresh",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(variables),
    ]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    events = list(invocation.stream())  # all of them: dbt holds the file until it has finished
    yield from with_row_counts(events, invocation.manifest, warehouse)
    if not invocation.is_successful():
        raise invocation.get_error()
    if whole:  # a build of some models only leaves the others as they were
        with duckdb.connect(str(warehouse)) as con:
            record_build(con, inputs, context.run.run_id)


# The last successful whole build: what it was built from, when and by which run.
BUILD_STATE_SQL = """
create schema if not exists transform;
create table if not exists transform.dbt_build (
    inputs      varchar not null,  -- build_inputs() at the time, as JSON
    built_at    timestamp not null,
    run_id      varchar not null
);
"""

# Every file dbt reads to build: its configuration, models, macros, tests and seeds (the
# reference data); target/ and logs/ are its output.
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests", "seeds")


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """sha256 over the path and bytes of every file the dbt project builds from."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        top = project_dir / name
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_inputs(con: duckdb.DuckDBPyConnection, variables: Mapping[str, Any]) -> str:
    """Everything a build's output depends on, as one JSON string: the dbt project's files,
    the vars, dbt's version, the date (provisional and missing statuses count months to today,
    so a new day can change a mart) and a digest of the raw tables dbt reads as sources
    (dbt/models/staging/_sources.yml; rows are only ever appended, under a new load_sequence),
    so a new load, a rejected file or a replaced warehouse all differ."""
    ensure_raw_schema(con)
    files = con.execute(
        "select count(*), coalesce(max(load_sequence), 0),"
        " coalesce(bit_xor(hash(load_sequence, content_hash, status, received_at)), 0)"
        " from raw.submission_files"
    ).fetchone()
    rows = con.execute(
        "select count(*), coalesce(bit_xor(hash(load_sequence, row_number)), 0)"
        " from raw.submissions"
    ).fetchone()
    [(today,)] = con.execute("select cast(current_date as varchar)").fetchall()
    return json.dumps(
        {
            "project": project_fingerprint(),
            "vars": dict(sorted(variables.items())),
            "dbt": [version("dbt-core"), version("dbt-duckdb")],
            "today": today,
            "submission_files": [str(v) for v in files],
            "submissions": [str(v) for v in rows],
        },
        sort_keys=True,
    )


def last_build(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    con.execute(BUILD_STATE_SQL)
    found = con.execute("select inputs, built_at, run_id from transform.dbt_build").fetchall()
    if len(found) != 1:
        return None
    inputs, built_at, run_id = found[0]
    return {"inputs": inputs, "built_at": built_at, "run_id": run_id}


def forget_build(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(BUILD_STATE_SQL)
    con.execute("delete from transform.dbt_build")


def record_build(con: duckdb.DuckDBPyConnection, inputs: str, run_id: str) -> None:
    con.execute(BUILD_STATE_SQL)
    con.execute("begin transaction")
    con.execute("delete from transform.dbt_build")
    con.execute(
        "insert into transform.dbt_build values (?, current_timestamp::timestamp, ?)",
        [inputs, run_id],
    )
    con.execute("commit")


def unchanged(
    context: dg.AssetExecutionContext, last: Mapping[str, Any]
) -> Iterator[dg.MaterializeResult]:
    """Nothing dbt reads has changed since the last whole build: dbt is not started, and each
    selected model is reported as it stands, marked `rebuilt: false`. Yielding nothing instead
    would make Dagster skip the publish steps, which have inputs of their own (templates,
    exporters) and decide for themselves."""
    note = (
        "not rebuilt: no new file, and the dbt project, reference data, vars and date are as"
        f" at the last build ({last['built_at']:%Y-%m-%d %H:%M:%S}, run {last['run_id'][:8]})"
    )
    context.log.info(f"dbt build {note}")
    selected = set(context.selected_asset_keys)
    deps = context.assets_def.asset_deps
    # in the order dbt builds them: Dagster takes a multi-asset's results upstream first
    order = TopologicalSorter({key: sorted(deps[key] & selected) for key in sorted(selected)})
    for key in order.static_order():
        yield dg.MaterializeResult(asset_key=key, metadata={"rebuilt": False, "dbt": note})


def with_row_counts(events: list, manifest: Mapping[str, Any], warehouse: Path) -> Iterator[Any]:
    """Each table's materialisation (marts and seeds; views are not counted) with its row count
    as `dagster/row_count`. Counted here, not by dagster-dbt's `fetch_row_counts()`: with DuckDB
    that leaves dbt's own connection open in this process, and the checks after it then cannot
    open the file read-only."""
    tables = {
        unique_id: f'"{node["schema"]}"."{node["alias"]}"'
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed") and node["config"]["materialized"] != "view"
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for event in events:
            unique_id = getattr(event, "metadata", {}).get("unique_id")
            relation = tables.get(getattr(unique_id, "value", unique_id))
            if relation and isinstance(event, dg.Output | dg.AssetMaterialization):
                [(rows,)] = con.execute(f"select count(*) from {relation}").fetchall()
                event = event.with_metadata({**event.metadata, "dagster/row_count": rows})
            yield event


SCHEDULE_TAG = "dagster/schedule_name"  # set by Dagster on every run a schedule starts


def scheduled_publication_month(tags: Mapping[str, str]) -> str:
    """A scheduled run publishes the month it collects (its partition, YYYY-MM), on a fixed
    timetable: a body that holds its return back can then only stop that month's publication
    (below the dictionary's returns_received share), never move it to a month it prefers."""
    return tags["dagster/partition"][:7]
