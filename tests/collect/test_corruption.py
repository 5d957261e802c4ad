"""Property: whatever happens to a valid file on its way (bytes flipped, cut short, cells
rewritten, rows shuffled), the loader never crashes and never half-loads: a file is either
loaded whole or not at all, and the other file of the batch is unaffected."""

from datetime import datetime

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.collect.load import collect_submissions
from dagster_project.settings import DataPaths
from tests.conftest import CARDIFF, PARKING, SWANSEA, TAX, row, submission, write_landing

VALID = submission(
    row(
        CARDIFF,
        "2026-01",
        TAX,
        1000,
        600,
        "yes",
        "no",
        400,
        600,
        transactions_phone=400,
        transactions_face_to_face=0,
        transactions_paper=0,
        transactions_other=0,
    ),
    row(CARDIFF, "2026-01", PARKING, 500, 100, "no", "no", 200, 50, notes="Ŵyl — café"),
)
OTHER = submission(row(SWANSEA, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))
NOW = datetime(2026, 3, 1)

corruptions = st.one_of(
    st.binary(max_size=400),
    st.tuples(st.integers(0, len(VALID)), st.binary(min_size=1, max_size=8)).map(
        lambda c: VALID[: c[0]] + c[1] + VALID[c[0] + len(c[1]) :]
    ),
    st.integers(0, len(VALID)).map(lambda n: VALID[:n]),
    st.tuples(st.sampled_from(VALID.decode().split(",")), st.text(max_size=12)).map(
        lambda c: VALID.decode().replace(c[0], c[1], 1).encode("utf-8", "surrogatepass")
    ),
    st.permutations(VALID.decode().splitlines()).map(lambda lines: "\n".join(lines).encode()),
    st.sampled_from(
        [
            b"\xef\xbb\xbf" + VALID,
            VALID.replace(b"\n", b"\r\n"),
            VALID.decode().encode("utf-16"),
            b"PK\x03\x04" + VALID,
        ]
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=corruptions)
def test_corrupted_file_loads_whole_or_not_at_all(tmp_path_factory, reference, data):
    paths = DataPaths(tmp_path_factory.mktemp("corrupt")).ensure()
    write_landing(paths, {f"{CARDIFF}/jan.csv": data, f"{SWANSEA}/jan.csv": OTHER})
    result = collect_submissions(paths, reference, NOW)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        loaded = dict(
            con.execute(
                "select f.file_name, count(s.row_number) from raw.submission_files f "
                "left join raw.submissions s using (load_sequence) group by all"
            ).fetchall()
        )
        row_counts = dict(
            con.execute("select file_name, row_count from raw.submission_files").fetchall()
        )
    assert loaded[f"{SWANSEA}/jan.csv"] == 1  # the other body is never blocked
    cardiff = f"{CARDIFF}/jan.csv"
    if cardiff in result.accepted:
        assert loaded[cardiff] == row_counts[cardiff] > 0  # whole
    else:
        assert cardiff in result.rejected and loaded[cardiff] == 0  # nothing
        assert (paths.quarantine / f"{CARDIFF}__jan.csv").read_bytes() == data
