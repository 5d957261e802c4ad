"""Great Expectations suites as Dagster asset checks. Blocking: if the league table fails its
suite, nothing downstream (the publications) runs in that job."""

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from dagster_project.reference import load_reference
from dagster_project.resources import PlatformSettings
from dagster_project.transform.assets import warehouse_models
from expectations.runner import run_suite


@dg.asset_check(
    asset=get_asset_key_for_model([warehouse_models], "league_table"),
    blocking=True,
    description="Great Expectations suite expectations/league_table.json on marts.league_table,"
    " its per-indicator expectations for each published indicator of the dictionary.",
)
def league_table_expectations(settings: PlatformSettings) -> dg.AssetCheckResult:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        frame = con.execute(
            "select *, score is not null as has_score from marts.league_table order by body_code"
        ).df()
        registered = con.execute("select count(*) from reference.bodies").fetchone()[0]
    # per-indicator expectations for every published indicator of the dictionary
    indicators = load_reference().published_indicators()
    outcome = run_suite("league_table", frame, {"registered_bodies": registered}, indicators)
    failures = [
        {
            "expectation": f.expectation,
            "column": f.column,
            "unexpected_count": f.unexpected_count,
            "body_codes": [frame.iloc[i]["body_code"] for i in f.unexpected_rows[:20]],
        }
        for f in outcome.failures
    ]
    return dg.AssetCheckResult(
        passed=outcome.success,
        metadata={
            "expectations": len(outcome.outcomes),
            "failed": len(failures),
            "failures": dg.MetadataValue.json(failures),
        },
    )
