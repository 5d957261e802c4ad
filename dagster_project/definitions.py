"""The Dagster code location: assembles the stages, nothing more."""

import dagster as dg

from dagster_project.collect.assets import submissions
from dagster_project.publish.assets import benchmark_extracts, evidence_project, open_data
from dagster_project.quality.checks import league_table_expectations
from dagster_project.resources import build_resources
from dagster_project.transform.assets import warehouse_models

ALL_ASSETS = [submissions, warehouse_models, evidence_project, benchmark_extracts, open_data]

digital_progress = dg.define_asset_job(
    "digital_progress",
    selection=dg.AssetSelection.all(),
    description="Collect the landing zone, build the warehouse, check it, publish.",
)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=[league_table_expectations],
    jobs=[digital_progress],
    resources=build_resources(),
    # One DuckDB file takes one writer at a time: run steps one after another.
    executor=dg.in_process_executor,
)
