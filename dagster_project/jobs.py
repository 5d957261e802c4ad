"""The one job: collect, model, check, publish. Partitioned by reporting month."""

import dagster as dg

from dagster_project.collect.assets import monthly_partitions

digital_progress_job = dg.define_asset_job(
    "digital_progress",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    description="Collect the landing zone and the API endpoints for a month, build the warehouse, "
    "check it, publish.",
)
