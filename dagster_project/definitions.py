"""The Dagster code location: assembles the stages, nothing more."""

import dagster as dg

from dagster_project.collect.assets import submissions
from dagster_project.collect.sensors import landing_zone_sensor, monthly_collection_schedule
from dagster_project.jobs import digital_progress_job
from dagster_project.publish.assets import benchmark_extracts, evidence_project, open_data
from dagster_project.quality.checks import league_table_expectations
from dagster_project.resources import build_resources
from dagster_project.transform.assets import warehouse_models

ALL_ASSETS = [submissions, warehouse_models, evidence_project, benchmark_extracts, open_data]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=[league_table_expectations],
    jobs=[digital_progress_job],
    sensors=[landing_zone_sensor],
    schedules=[monthly_collection_schedule],
    resources=build_resources(),
    # One DuckDB file takes one writer at a time: run steps one after another.
    executor=dg.in_process_executor,
)
