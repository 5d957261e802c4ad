"""The benchmark's hand-written references do the platform's work, not less: on the demo returns
they read the same rows, reject the same files and sum the same take-up as the warehouse the
real pipeline built from the same bytes (so `make bench` compares like with like)."""

from __future__ import annotations

import duckdb
import pytest

from dagster_project.collect.demo_data import write_demo_submissions
from dagster_project.reference import load_reference
from dagster_project.settings import REFERENCE_DIR, DataPaths
from tests.bench.references import run_duckdb, run_pandas
from tests.conftest import DEMO_END, DEMO_MONTHS


@pytest.fixture(scope="module")
def same_files(tmp_path_factory):
    """The demo returns the `demo_run` fixture loaded, written again (the generator is
    deterministic), since the run moved its own out of landing/."""
    paths = DataPaths(tmp_path_factory.mktemp("bench_landing")).ensure()
    write_demo_submissions(paths, load_reference(), end=DEMO_END, months=DEMO_MONTHS)
    return paths


def test_references_agree_with_the_warehouse(same_files, demo_run):
    duck = run_duckdb(same_files.landing, REFERENCE_DIR)
    panda = run_pandas(same_files.landing, REFERENCE_DIR)
    assert duck == panda
    names = sorted(
        str(p.relative_to(same_files.landing))
        for p in same_files.landing.rglob("*")
        if p.is_file()
    )
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        files = dict(con.execute("select file_name, status from raw.submission_files").fetchall())
        # The references skip the few unusual files (workbook, Windows-1252 with a title row)
        # and the Digital Service Standard assessment returns; compare on the rest.
        assessments = sum(name.split("/")[-1].startswith("assessment-") for name in names)
        assert assessments > 0
        assert 0 < duck["unusual"] - assessments <= 5
        assert set(files) == set(names)
        assert duck["rejected_files"] == sum(s == "rejected" for s in files.values())
        assert duck["files"] == len(names)
        standard_rows, take_up = con.execute(
            """
            select sum(n), round(sum(take_up), 6) from (
                select count(*) as n,
                    sum(transactions_online) / nullif(sum(transactions_total), 0) as take_up
                from raw.submissions
                where file_name in (select unnest($names))
                group by body_code, period
            )
            """,
            {"names": duck_standard_names(same_files)},
        ).fetchone()
    assert duck["accepted_rows"] == standard_rows
    assert duck["checksum"] == take_up


def duck_standard_names(paths: DataPaths) -> list[str]:
    from tests.bench.references import landing_files

    standard, _ = landing_files(paths.landing)
    return [str(p.relative_to(paths.landing)) for p in standard]
