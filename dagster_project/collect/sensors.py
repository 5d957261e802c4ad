"""Start a run when new files land, and every month once returns are due."""

import hashlib
import json
from datetime import UTC, datetime

import dagster as dg

from dagster_project.collect.load import landing_files
from dagster_project.jobs import digital_progress_job
from dagster_project.resources import PlatformSettings
from dagster_project.settings import RETURN_DUE_DAY, reporting_month


@dg.sensor(job=digital_progress_job, minimum_interval_seconds=60)
def landing_zone_sensor(context: dg.SensorEvaluationContext, settings: PlatformSettings):
    """A run for files that arrived since the last tick. The run key is the content hashes of
    those files, so the same files never start a second run, and the loader itself skips bytes
    it has loaded before."""
    landing = settings.paths.landing
    since = json.loads(context.cursor)["mtime"] if context.cursor else 0.0
    new = [(p, p.stat().st_mtime) for p in landing_files(landing)] if landing.exists() else []
    new = [(p, mtime) for p, mtime in new if mtime > since]
    if not new:
        return dg.SkipReason(f"No new files in {landing}")
    digests = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p, _ in new)
    context.update_cursor(json.dumps({"mtime": max(mtime for _, mtime in new)}))
    return dg.RunRequest(
        run_key=hashlib.sha256("".join(digests).encode()).hexdigest(),
        partition_key=reporting_month(datetime.now(UTC)),
        tags={"trigger": "landing_zone", "files": str(len(digests))},
    )


monthly_collection_schedule = dg.build_schedule_from_partitioned_job(
    digital_progress_job,
    name="monthly_collection",
    description=f"The day after returns are due (day {RETURN_DUE_DAY}): pull the endpoints for "
    "the month that ended, collect, model, check and publish.",
    day_of_month=RETURN_DUE_DAY + 1,
    hour_of_day=6,
)
