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
    args = ["build", "--full-refresh", "--vars", json.dumps(settings.dbt_vars())]
    yield from dbt.cli(args, context=context).stream()
