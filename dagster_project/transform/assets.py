"""The dbt project as Dagster assets: seeds, staging, intermediate and marts; dbt data tests
become asset checks and dbt unit tests run in the same `dbt build`."""

from __future__ import annotations

import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.collect.landing import ensure_raw_schema
from dagster_project.resources import PlatformSettings, dbt_project


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: PlatformSettings
):
    import duckdb

    # dbt reads raw.* as sources: make sure they exist even before the first submission.
    settings.paths.ensure()
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        ensure_raw_schema(con)
    args = ["build", "--vars", json.dumps(settings.dbt_vars())]
    yield from dbt.cli(args, context=context).stream()
