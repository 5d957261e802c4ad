"""The code location loads as `dagster dev` loads it, with its assets, checks and job."""

from dagster_project.definitions import defs


def test_code_location_assembles_every_stage():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "submissions",
        "reference/bodies",
        "staging/stg_submissions",
        "intermediate/int_submissions_current",
        "marts/league_table",
        "marts/indicators_monthly",
        "marts/indicators_headline",
        "evidence_project",
        "benchmark_extracts",
        "open_data",
    } <= keys
    checks = {key.name for key in graph.asset_check_keys}
    assert "league_table_expectations" in checks
    assert "unique_league_table_body_code" in checks
    assert defs.resolve_job_def("digital_progress") is not None


def test_publications_wait_for_the_league_table():
    graph = defs.resolve_asset_graph()
    for name in ("evidence_project", "benchmark_extracts", "open_data"):
        parents = {
            k.to_user_string()
            for k in graph.get(
                next(k for k in graph.get_all_asset_keys() if k.to_user_string() == name)
            ).parent_keys
        }
        assert "marts/league_table" in parents
