"""Properties the Digital Progress Score must hold, tested on the real SQL.

One real `dbt build` over a hand-built warehouse (every registered body but one, 24 months,
figures that differ by body, service and month). The staging and intermediate models are views
over raw.submissions, so each hypothesis example changes raw rows inside a transaction, reads the
scores the views compute, and rolls back: the SQL that publishes is the SQL under test.

- leaving out any subset of one body's rows never raises its score or improves its rank;
- reporting zeros instead of its figures never raises it either;
- withholding a month never raises a score;
- adding or removing another body never changes a body's score;
- adding or removing any of the measures only reported (contract v2's optional measures, the
  Digital Service Standard assessments) never changes any score, rank or score variant.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.collect.demo_data import month_list
from dagster_project.collect.load import ensure_raw_schema
from dagster_project.reference import load_reference
from dagster_project.resources import dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR

PUBLICATION = "2026-02"
MONTHS = month_list(PUBLICATION, 24)
NEWCOMER = "W18000003"  # reports nothing in the base data: the body a test adds
SCORES_SQL = f"""
    select body_code, score, sector_rank, national_rank
    from intermediate.int_scores where end_month = date '{PUBLICATION}-01'
"""


def _rows_for(body: str, services: list[str], seed: str) -> list[tuple]:
    """Plausible returns: each body, service and month different, some services not online."""
    rng = random.Random(seed)
    rows = []
    for service in services:
        base = rng.uniform(0.1, 0.8)
        online_from = rng.choice([0, 0, 6, 18, 30])
        for index, month in enumerate(MONTHS):
            total = rng.randrange(0, 400)
            available = index >= online_from
            online = min(total, round(total * base * rng.uniform(0.8, 1.2))) if available else 0
            letters = rng.randrange(0, 300)
            rows.append(
                (
                    body,
                    month,
                    service,
                    total,
                    online,
                    available,
                    available and rng.random() < 0.4,
                    letters,
                    rng.randrange(0, 400),
                )
            )
    return rows


def _insert(con: duckdb.DuckDBPyConnection, rows: list[tuple], sequence: int) -> None:
    con.executemany(
        """insert into raw.submissions (load_sequence, file_name, content_hash, loaded_at,
            row_number, body_code, period, service_code, transactions_total,
            transactions_online, available_online, digital_by_default, letters_posted,
            digital_notifications)
        values (?, 'fixture.csv', 'fixture', timestamp '2026-03-20 09:00:00', ?, ?, ?, ?, ?, ?,
            ?, ?, ?, ?)""",
        [(sequence, n + 2, *r) for n, r in enumerate(rows)],
    )


# The optional measures of contract v2, each with a plausible value for a row of the fixture.
def _pick(columns: str, modulo: int) -> str:
    return f"cast(hash({columns}) % {modulo} as integer)"


REPORTED_MEASURES = {
    "online_started": f"transactions_online + {_pick('body_code, row_number', 40)}",
    "satisfaction_responses": f"10 + {_pick('body_code, row_number', 30)}",
    "satisfied_responses": _pick("body_code, row_number", 10),
    "cost_total": f"round(transactions_total * {_pick('body_code, row_number', 900)} / 100.0, 2)",
    "transactions_online_welsh": "transactions_online // 7",
}
STANDARDS_RESULTS = (
    f"case {_pick('body_code, service_code, standard', 3)}"
    " when 0 then 'met' when 1 then 'partly_met' else 'not_met' end"
)


def _give_reported_measures(con: duckdb.DuckDBPyConnection) -> None:
    """Some rows give every optional measure, some a few, some none (a v1 file); every third
    body has assessed some services, a few of them more than 24 months before."""
    for n, (column, value) in enumerate(REPORTED_MEASURES.items()):
        con.execute(
            f"update raw.submissions set {column} = {value}"
            f" where ({_pick('body_code, row_number', 3)} + {n}) % 3 <> 0"
        )
    con.execute(
        f"""insert into raw.assessments (load_sequence, file_name, content_hash, loaded_at,
            row_number, body_code, service_code, assessed_on, standard, result)
        select 500, 'assessments.csv', 'fixture', timestamp '2026-03-20 09:00:00',
            row_number() over (order by body_code, service_code, standard) + 1,
            body_code, service_code, assessed_on, standard, {STANDARDS_RESULTS}
        from (
            select distinct body_code, service_code,
                date '2023-06-01' + to_days({_pick("body_code, service_code", 1000)}) as assessed_on
            from raw.submissions
            where {_pick("body_code", 3)} = 0 and {_pick("service_code", 2)} = 0
        ), range(1, 13) as t(standard)"""
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reference = load_reference()
    path = tmp_path_factory.mktemp("properties") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for sequence, body in enumerate(sorted(b["body_code"] for b in reference.bodies), 1):
            if body != NEWCOMER:
                _insert(con, _rows_for(body, reference.services_of(body), body), sequence)
        _give_reported_measures(con)
    variables = {"warehouse": str(path), "publication_period": PUBLICATION}
    subprocess.run(
        [
            dbt_executable(),
            "build",
            "--quiet",
            "--exclude",
            "test_type:unit",
            "--vars",
            json.dumps(variables),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(path.parent / "target"),
        ],
        cwd=DBT_PROJECT_DIR,
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def con(warehouse: Path):
    with duckdb.connect(str(warehouse)) as connection:
        yield connection


def scores(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute(SCORES_SQL).fetchall()}


@pytest.fixture(scope="module")
def base(con) -> dict[str, tuple]:
    return scores(con)


@pytest.fixture(scope="module")
def rows_by_body(con) -> dict[str, list[int]]:
    """Each body's current rows, by their row number (one version of each in this data)."""
    out: dict[str, list[int]] = {}
    for body, row in con.execute(
        "select body_code, row_number from raw.submissions order by body_code, row_number"
    ).fetchall():
        out.setdefault(body, []).append(row)
    return out


def test_the_fixture_ranks_most_bodies_in_every_sector(base):
    assert len(base) >= 35
    assert NEWCOMER not in base


def _changed(con, statement: str, parameters: list) -> dict[str, tuple]:
    con.execute("begin transaction")
    try:
        con.execute(statement, parameters)
        return scores(con)
    finally:
        con.execute("rollback")


def _not_better(before: tuple, after: tuple | None) -> bool:
    """Unranked (None) is below every score and every rank."""
    if after is None:
        return True
    score, sector_rank, national_rank = after
    return score <= before[0] and sector_rank >= before[1] and national_rank >= before[2]


PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(data=st.data())
def test_leaving_out_rows_never_raises_a_score_or_improves_a_rank(con, base, rows_by_body, data):
    body = data.draw(st.sampled_from(sorted(base)))
    rows = rows_by_body[body]
    left_out = data.draw(st.lists(st.sampled_from(rows), min_size=1, max_size=len(rows)))
    after = _changed(
        con,
        "delete from raw.submissions where body_code = ? and list_contains(?, row_number)",
        [body, left_out],
    )
    assert _not_better(base[body], after.get(body)), (body, sorted(set(left_out)))


@PROPERTY
@given(data=st.data())
def test_reporting_zeros_instead_of_figures_never_raises_a_score(con, base, rows_by_body, data):
    """Zero transactions, letters and contacts for a weak service are no better than leaving it
    out: a service-month with nothing to show scores 0."""
    body = data.draw(st.sampled_from(sorted(base)))
    rows = rows_by_body[body]
    zeroed = data.draw(st.lists(st.sampled_from(rows), min_size=1, max_size=len(rows)))
    after = _changed(
        con,
        "update raw.submissions set transactions_total = 0, transactions_online = 0, "
        "letters_posted = 0, digital_notifications = 0 "
        "where body_code = ? and list_contains(?, row_number)",
        [body, zeroed],
    )
    assert _not_better(base[body], after.get(body)), (body, sorted(set(zeroed)))


@PROPERTY
@given(data=st.data())
def test_withholding_a_month_never_raises_a_score(con, base, data):
    body = data.draw(st.sampled_from(sorted(base)))
    month = data.draw(st.sampled_from(MONTHS[-12:]))
    after = _changed(
        con, "delete from raw.submissions where body_code = ? and period = ?", [body, month]
    )
    assert _not_better(base[body], after.get(body)), (body, month)


@PROPERTY
@given(data=st.data())
def test_removing_another_body_never_changes_a_score(con, base, data):
    removed = data.draw(st.sampled_from(sorted(base)))
    after = _changed(con, "delete from raw.submissions where body_code = ?", [removed])
    assert removed not in after
    assert {b: s[0] for b, s in after.items()} == {b: s[0] for b, s in base.items() if b != removed}


@PROPERTY
@given(seed=st.integers(0, 10**6), months=st.integers(1, 24))
def test_adding_another_body_never_changes_a_score(con, base, seed, months):
    services = load_reference().services_of(NEWCOMER)
    rows = [r for r in _rows_for(NEWCOMER, services, str(seed)) if r[1] in MONTHS[-months:]]
    con.execute("begin transaction")
    try:
        _insert(con, rows, 999)
        after = scores(con)
    finally:
        con.execute("rollback")
    assert {b: s[0] for b, s in after.items() if b != NEWCOMER} == {
        b: s[0] for b, s in base.items()
    }


def test_the_sensitivity_analysis_is_deterministic(con):
    query = """select variant, body_code, score, sector_rank from intermediate.int_score_variants
        order by variant, body_code"""
    first, second = con.execute(query).fetchall(), con.execute(query).fetchall()
    assert first == second
    variants = {r[0] for r in first}
    # published, 5 indicators left out, 50 weight draws, 2 other normalisations
    assert len(variants) == 1 + 5 + 50 + 2
    published = {r[1]: r[2] for r in first if r[0] == "published"}
    assert published == {b: s[0] for b, s in scores(con).items()}


VARIANTS_SQL = """select variant, body_code, score, sector_rank, national_rank
    from intermediate.int_score_variants order by variant, body_code"""


@pytest.fixture(scope="module")
def base_variants(con) -> list[tuple]:
    return con.execute(VARIANTS_SQL).fetchall()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_measures_only_reported_never_change_a_score_rank_or_variant(
    con, base, base_variants, rows_by_body, data
):
    """Give, change or take away any of the optional measures for any rows of a body, and add or
    withdraw its assessments: no body's score, rank or sensitivity variant moves."""
    body = data.draw(st.sampled_from(sorted(base)))
    rows = data.draw(st.lists(st.sampled_from(rows_by_body[body]), min_size=1, unique=True))
    measures = data.draw(st.lists(st.sampled_from(sorted(REPORTED_MEASURES)), min_size=1))
    give = data.draw(st.booleans())
    assessments = data.draw(st.sampled_from(["keep", "withdraw", "add"]))
    con.execute("begin transaction")
    try:
        for column in sorted(set(measures)):
            value = REPORTED_MEASURES[column] if give else "null"
            # satisfied needs responses: taking responses away takes satisfied with them
            if column == "satisfaction_responses" and not give:
                con.execute(
                    "update raw.submissions set satisfied_responses = null"
                    " where body_code = ? and list_contains(?, row_number)",
                    [body, rows],
                )
            con.execute(
                f"update raw.submissions set {column} = {value}"
                " where body_code = ? and list_contains(?, row_number)",
                [body, rows],
            )
        if assessments == "withdraw":
            con.execute("delete from raw.assessments where body_code = ?", [body])
        elif assessments == "add":
            con.execute(
                f"""insert into raw.assessments select 900, 'new.csv', 'new',
                    timestamp '2026-03-21 09:00:00', standard + 1, body_code, service_code,
                    date '{PUBLICATION}-01', standard, {STANDARDS_RESULTS}
                from (select distinct body_code, service_code from raw.submissions
                      where body_code = ?), range(1, 13) as t(standard)""",
                [body],
            )
        after, variants = scores(con), con.execute(VARIANTS_SQL).fetchall()
    finally:
        con.execute("rollback")
    assert after == base, (body, measures, give, assessments)
    assert variants == base_variants, (body, measures, give, assessments)


def test_the_fixture_gives_every_measure_only_reported(con):
    """The property above is about something: the published values exist for most bodies."""
    [(with_values, bodies)] = con.execute(
        """select count(*) filter (where completion_rate is not null and user_satisfaction is
            not null and cost_per_transaction is not null and welsh_language_share is not null),
            count(*) from intermediate.int_rolling_indicators
        where end_month = date '"""
        + PUBLICATION
        + """-01'"""
    ).fetchall()
    assert with_values >= 30 and bodies == 42
    [(assessed,)] = con.execute(
        f"""select count(standards_met) from intermediate.int_rolling_indicators
        where end_month = date '{PUBLICATION}-01'"""
    ).fetchall()
    assert assessed >= 3
