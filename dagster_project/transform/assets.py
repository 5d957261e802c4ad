"""The dbt project as Dagster assets: seeds, staging, intermediate and marts; dbt data tests
become asset checks and dbt unit tests run in the same `dbt build`."""

import json
from collections.abc import Mapping
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


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer, so the asset graph reads left to right like the folders."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return dbt_resource_props["fqn"][1]


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
    yield from dbt.cli(args, context=context).stream()


SCHEDULE_TAG = "dagster/schedule_name"  # set by Dagster on every run a schedule starts


def scheduled_publication_month(tags: Mapping[str, str]) -> str:
    """A scheduled run publishes the month it collects (its partition, YYYY-MM), on a fixed
    timetable: a body that holds its return back can then only stop that month's publication
    (below the dictionary's returns_received share), never move it to a month it prefers."""
    return tags["dagster/partition"][:7]
