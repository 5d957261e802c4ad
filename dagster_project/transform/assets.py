"""The dbt project as Dagster assets: seeds, staging, intermediate and marts; dbt data tests
become asset checks. dbt unit tests test the SQL, not the data, so they run in the test suite
(tests/test_dbt_unit_tests.py), not in every production `dbt build`. A build whose inputs are
all as they were at the last successful build is not run again (`build_inputs`); one that only
adds loads is incremental (`build_mode`), and every other a full refresh."""

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
        full, reason = build_mode(con, inputs, last)
        forget_build(con)  # a build that fails must never look current afterwards
    context.log.info(f"dbt build {'full refresh' if full else 'incremental'}: {reason}")
    # --full-refresh also reloads seeds whole, so a changed reference file (a new column in the
    # indicator dictionary) never meets the old table.
    args = [
        "build",
        *(["--full-refresh"] if full else []),
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(variables),
    ]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    events = list(invocation.stream())  # all of them: dbt holds the file until it has finished
    build = {"dbt_build": "full" if full else "incremental", "dbt_build_reason": reason}
    yield from with_row_counts(events, invocation.manifest, warehouse, build)
    if not invocation.is_successful():
        raise invocation.get_error()
    if whole:  # a build of some models only leaves the others as they were
        with duckdb.connect(str(warehouse)) as con:
            record_build(con, inputs, context.run.run_id, build["dbt_build"])


# The last successful whole build: what it was built from, when and by which run.
BUILD_STATE_SQL = """
create schema if not exists transform;
create table if not exists transform.dbt_build (
    inputs      varchar not null,  -- build_inputs() at the time, as JSON
    built_at    timestamp not null,
    run_id      varchar not null
);
-- Builds recorded before the columns existed have NULLs: the next build is a full refresh.
-- The newest load_sequence of raw.submission_files (every load has a row there) it was made
-- from: the loads after it are what an incremental build adds.
alter table transform.dbt_build add column if not exists loads_through bigint;
-- Of raw.submissions: the newest load_sequence int_submissions_current must hold.
alter table transform.dbt_build add column if not exists rows_through bigint;
alter table transform.dbt_build add column if not exists build varchar;  -- full, incremental
"""

# The incremental models: each keeps the rows of earlier builds and adds what loads after the
# newest one it holds change (delete+insert on their keys).
INCREMENTAL_MODELS = ("intermediate.int_submissions_current",)

# Vars no incremental model reads (grep dbt/models): a change of these alone rebuilds the tables
# downstream, never the incremental ones. A scheduled run sets publication_period every month.
VARS_NOT_IN_INCREMENTAL_MODELS = frozenset({"publication_period"})

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
    [(today,)] = con.execute("select cast(current_date as varchar)").fetchall()
    return json.dumps(
        {
            "project": project_fingerprint(),
            "vars": dict(sorted(variables.items())),
            "dbt": [version("dbt-core"), version("dbt-duckdb")],
            "today": today,
            **raw_digest(con),
        },
        sort_keys=True,
    )


def raw_digest(con: duckdb.DuckDBPyConnection, through: int | None = None) -> dict[str, list[str]]:
    """Count, newest load_sequence and an order-free hash of the raw rows dbt reads (monthly rows
    and assessment rows), of loads up to `through` (None: all). With `through` the last build's
    newest load, equal to that build's digest only if every row it was made from is still there
    unchanged and none was added among them: then an incremental build is safe."""
    upto = "" if through is None else f"where load_sequence <= {int(through)}"
    files = con.execute(
        "select count(*), coalesce(max(load_sequence), 0),"
        " coalesce(bit_xor(hash(load_sequence, content_hash, status, received_at)), 0)"
        f" from raw.submission_files {upto}"
    ).fetchone()
    rows = con.execute(
        "select count(*), coalesce(bit_xor(hash(load_sequence, row_number)), 0)"
        f" from raw.submissions {upto}"
    ).fetchone()
    assessments = con.execute(
        "select count(*), coalesce(bit_xor(hash(load_sequence, row_number)), 0)"
        f" from raw.assessments {upto}"
    ).fetchone()
    return {
        "submission_files": [str(v) for v in files or ()],
        "submissions": [str(v) for v in rows or ()],
        "assessments": [str(v) for v in assessments or ()],
    }


def build_mode(
    con: duckdb.DuckDBPyConnection, inputs: str, last: Mapping[str, Any] | None
) -> tuple[bool, str]:
    """(full refresh?, why). Incremental only when the last whole build succeeded (a failed or
    interrupted one leaves no record), from the same dbt project and reference data, dbt and
    vars, without as_of (which drops later loads), on exactly the raw rows still here (not a
    warehouse whose raw tables were replaced or copied from elsewhere), and its incremental
    tables hold exactly the loads it was made from. Anything else: everything from scratch."""
    if last is None or last.get("loads_through") is None:
        return True, "no record of a complete earlier build"
    before, now = json.loads(last["inputs"]), json.loads(inputs)
    if now["vars"].get("as_of"):
        return True, "as_of is set: the warehouse as it stood then"
    if before["project"] != now["project"]:
        return True, "the dbt project or its reference data changed"
    if before["dbt"] != now["dbt"]:
        return True, "dbt's version changed"
    ignored = VARS_NOT_IN_INCREMENTAL_MODELS
    if {k: v for k, v in before["vars"].items() if k not in ignored} != {
        k: v for k, v in now["vars"].items() if k not in ignored
    }:
        return True, "the vars changed"
    # a build recorded before assessments were digested has none: a full refresh
    earlier = {k: before.get(k) for k in RAW_TABLES}
    if raw_digest(con, last["loads_through"]) != earlier:
        return True, "raw rows the last build was made from changed"
    for table in INCREMENTAL_MODELS:
        schema, name = table.split(".")
        found = con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database()"
            " and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        if found != (1,):
            return True, f"{table} is missing"
        [(held,)] = con.execute(f"select coalesce(max(load_sequence), 0) from {table}").fetchall()
        if held != last["rows_through"]:
            return True, f"{table} does not hold the loads of the last build"
    return False, f"loads after {last['loads_through']} added to the last build"


# The raw tables dbt reads as sources (dbt/models/staging/_sources.yml), as raw_digest names them.
RAW_TABLES = ("submission_files", "submissions", "assessments")

BUILD_COLUMNS = ("inputs", "built_at", "run_id", "loads_through", "rows_through", "build")


def last_build(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    con.execute(BUILD_STATE_SQL)
    found = con.execute(f"select {', '.join(BUILD_COLUMNS)} from transform.dbt_build").fetchall()
    if len(found) != 1:
        return None
    return dict(zip(BUILD_COLUMNS, found[0], strict=True))


def forget_build(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(BUILD_STATE_SQL)
    con.execute("delete from transform.dbt_build")


def record_build(con: duckdb.DuckDBPyConnection, inputs: str, run_id: str, build: str) -> None:
    """`inputs` as computed before dbt started: a load added while dbt ran is then newer than
    loads_through, and int_submissions_current holding it makes the next build a full one."""
    con.execute(BUILD_STATE_SQL)
    loaded = json.loads(inputs)
    [(rows_through,)] = con.execute(
        "select coalesce(max(load_sequence), 0) from raw.submissions where load_sequence <= ?",
        [int(loaded["submission_files"][1])],
    ).fetchall()
    con.execute("begin transaction")
    con.execute("delete from transform.dbt_build")
    con.execute(
        "insert into transform.dbt_build (inputs, built_at, run_id, loads_through, rows_through,"
        " build) values (?, current_timestamp::timestamp, ?, ?, ?, ?)",
        [inputs, run_id, int(loaded["submission_files"][1]), rows_through, build],
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


def with_row_counts(
    events: list, manifest: Mapping[str, Any], warehouse: Path, build: Mapping[str, str]
) -> Iterator[Any]:
    """Each table's materialisation (marts and seeds; views are not counted) with its row count
    as `dagster/row_count`. Counted here, not by dagster-dbt's `fetch_row_counts()`: with DuckDB
    that leaves dbt's own connection open in this process, and the checks after it then cannot
    open the file read-only. Every materialisation also says whether the build was full or
    incremental, and why (`build`)."""
    tables = {
        unique_id: f'"{node["schema"]}"."{node["alias"]}"'
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed") and node["config"]["materialized"] != "view"
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for event in events:
            unique_id = getattr(event, "metadata", {}).get("unique_id")
            relation = tables.get(getattr(unique_id, "value", unique_id))
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                counted = {}
                if relation:
                    [(rows,)] = con.execute(f"select count(*) from {relation}").fetchall()
                    counted = {"dagster/row_count": rows}
                event = event.with_metadata({**event.metadata, **counted, **build})
            yield event


SCHEDULE_TAG = "dagster/schedule_name"  # set by Dagster on every run a schedule starts


def scheduled_publication_month(tags: Mapping[str, str]) -> str:
    """A scheduled run publishes the month it collects (its partition, YYYY-MM), on a fixed
    timetable: a body that holds its return back can then only stop that month's publication
    (below the dictionary's returns_received share), never move it to a month it prefers."""
    return tags["dagster/partition"][:7]
