"""Dagster assets of the collect stage: the landing zone into the warehouse's raw schema."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.collect.landing import collect_landing_zone
from dagster_project.reference import load_reference
from dagster_project.resources import PlatformSettings


@dg.asset(
    group_name="collect",
    kinds={"duckdb", "csv"},
    description=(
        "Every accepted submission row (raw.submissions) and every file received "
        "(raw.submission_files). New files in landing/ are validated against the data contract as "
        "one batch; a file with any error loads nothing and moves to quarantine/ with a report."
    ),
)
def submissions(
    context: dg.AssetExecutionContext, settings: PlatformSettings
) -> dg.MaterializeResult:
    result = collect_landing_zone(
        settings.paths, load_reference(), datetime.now(UTC).replace(tzinfo=None)
    )
    for name, problems in result.rejected.items():
        context.log.warning(
            f"Quarantined {name}: {len(problems)} problem(s); first: {problems[0].describe()}"
        )
    return dg.MaterializeResult(
        metadata={
            "files_accepted": len(result.accepted),
            "files_rejected": len(result.rejected),
            "files_already_loaded": len(result.skipped),
            "rows_loaded": result.rows_loaded,
            "rejected_files": dg.MetadataValue.json(sorted(result.rejected)),
        }
    )
