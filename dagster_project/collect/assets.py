"""Dagster assets of the collect stage: landing zone and API endpoints into the warehouse."""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.collect.api import Endpoint, payload_submission, pull_all, read_endpoints
from dagster_project.collect.load import Received, collect_submissions, record_collection_attempts
from dagster_project.progress import StepProgress
from dagster_project.reference import load_reference
from dagster_project.resources import PlatformSettings
from dagster_project.settings import ASSET_OWNER

# Reporting months. A run for a month pulls that month's returns from the bodies' endpoints;
# files in landing/ never wait for a month: the first run that sees a file loads it.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=0)

SUBMISSION_CHECK = "submission_expectations"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def pull_endpoints(
    context: dg.AssetExecutionContext, settings: PlatformSettings, period: str, now: datetime
) -> tuple[list[Received], list[str]]:
    """Pull every configured endpoint for `period`, side by side; a failing body is recorded, a
    refused row of the endpoints file is reported and skipped: neither is fatal to the others,
    nor to the landing zone collected after it. Returns the payloads and the refused rows."""
    if not settings.paths.endpoints.exists():
        return [], []
    listed, refused = read_endpoints(settings.paths.endpoints)
    for problem in refused:
        context.log.warning(f"Endpoint skipped: {problem}")
    endpoints = [Endpoint(e.body_code, e.url.replace("{period}", period)) for e in listed]
    results = pull_all(endpoints, settings.environment())
    record_collection_attempts(
        settings.paths,
        [
            (now, r.body_code, r.url, r.status, r.attempts, r.http_status, r.message)
            for r in results
        ],
    )
    received = []
    for result in results:
        if result.status != "ok":
            context.log.warning(f"{result.body_code}: {result.message}")
            continue
        received.append(Received(payload_submission(result), "api", result.data))
    return received, refused


@dg.asset(
    group_name="collect",
    kinds={"duckdb", "csv", "xlsx"},
    owners=[ASSET_OWNER],
    partitions_def=monthly_partitions,
    check_specs=[
        dg.AssetCheckSpec(
            SUBMISSION_CHECK,
            asset="submissions",
            description="Great Expectations suite submission_rows and the "
            "contract rules over every new file of the batch; warns when "
            "any file was rejected.",
        )
    ],
    description=(
        "Every accepted submission row (raw.submissions) and Digital Service Standard "
        "assessment row (raw.assessments), every file received "
        "(raw.submission_files) with its problems, and every API pull (raw.collection_attempts)."
        " New files and payloads are validated as one batch; a file with any error loads nothing "
        "and moves to quarantine/ with a report in English and Welsh."
    ),
)
def submissions(context: dg.AssetExecutionContext, settings: PlatformSettings):
    now = _now()
    period = context.partition_key[:7]
    pulled, refused_endpoints = pull_endpoints(context, settings, period, now)
    result = collect_submissions(
        settings.paths,
        load_reference(),
        now,
        pulled,
        progress=StepProgress(context, "collect", "files read"),
    )
    for name, problems in result.rejected.items():
        first = problems[0].describe()
        context.log.warning(f"Quarantined {name}: {len(problems)} problem(s); first: {first}")
    for name in result.ignored:
        context.log.info(f"Ignored hidden file {name} (left in landing/)")
    for name, reason in result.deferred.items():
        context.log.error(f"Not collected, left in landing/ for the next run: {name}: {reason}")
    yield dg.MaterializeResult(
        metadata={
            "files_accepted": len(result.accepted),
            "files_accepted_with_warnings": len(result.warned),
            "files_rejected": len(result.rejected),
            "files_already_loaded": len(result.skipped),
            "files_ignored": dg.MetadataValue.json(result.ignored),
            "files_left_over_removed": len(result.left_over),
            "files_deferred": dg.MetadataValue.json(result.deferred),
            "payloads_pulled": len(pulled),
            "endpoint_rows_refused": dg.MetadataValue.json(refused_endpoints),
            "rows_loaded": result.rows_loaded,
            "assessment_rows_loaded": result.assessment_rows_loaded,
            "rejected_files": dg.MetadataValue.json(sorted(result.rejected)),
            "warned_files": dg.MetadataValue.json(sorted(result.warned)),
        }
    )
    yield dg.AssetCheckResult(
        check_name=SUBMISSION_CHECK,
        passed=not result.rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_validated": result.processed,
            "files_rejected": len(result.rejected),
            "problems_by_rule": dg.MetadataValue.json(_count_rules(result)),
        },
    )


def _count_rules(result) -> dict[str, int]:
    counts: dict[str, int] = {}
    for problems in [*result.rejected.values(), *result.warned.values()]:
        for problem in problems:
            counts[problem.rule] = counts.get(problem.rule, 0) + 1
    return dict(sorted(counts.items()))
