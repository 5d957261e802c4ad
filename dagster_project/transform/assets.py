"""The dbt project as Dagster assets: seeds, staging, intermediate and marts; dbt data tests
become asset checks and dbt unit tests run in the same `dbt build`."""

import json
from collections.abc import Iterator, Mapping
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
from dagster_project.settings import ASSET_OWNER


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
    # dbt reads raw.* as sources: make sure they exist even before the first submission.
    settings.paths.ensure()
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        ensure_raw_schema(con)
    # --full-refresh: seeds are reloaded whole, so a changed reference file (a new column in
    # the indicator dictionary) never meets the old table. Nothing here is incremental.
    variables = settings.dbt_vars()
    if not variables["publication_period"] and SCHEDULE_TAG in context.run.tags:
        variables["publication_period"] = scheduled_publication_month(context.run.tags)
    args = ["build", "--full-refresh", "--vars", json.dumps(variables)]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    events = list(invocation.stream())  # all of them: dbt holds the file until it has finished
    yield from with_row_counts(events, invocation.manifest, settings.paths.warehouse)
    if not invocation.is_successful():
        raise invocation.get_error()


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
