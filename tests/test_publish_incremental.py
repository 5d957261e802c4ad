"""Publications in proportion: a body's extract is rendered again only when something it is made
of changed, and a publication whose inputs did not change is kept as it is. Whatever is carried
over, the folder is the one a build from scratch gives, byte for byte."""

import hashlib
import random
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.publish.assets import (
    benchmark_extracts,
    evidence_project,
    open_data,
)
from dagster_project.resources import PlatformSettings, build_resources
from exports.extracts import MANIFEST, PublishedExtracts, body_fingerprints, publish_extracts
from exports.release import INPUTS, live_inputs

SERVICE_IN_WINDOW = """
    select min(s.rowid) from marts.service_figures s, intermediate.int_publication_window w
    where s.body_code = ? and s.period_month between w.window_start and w.publication_month"""
# Each changes one body's rows in one query an extract reads; each changes at least one row.
MUTATIONS = {
    "summary": "update marts.league_table set population = population + 1 where body_code = ?",
    "indicators": "update marts.body_benchmarks set value = coalesce(value, 0) + 0.5 "
    "where body_code = ? and indicator_code = 'letters_per_1000'",
    "services": "update marts.service_figures "
    "set transactions_total = coalesce(transactions_total, 0) + 7 "
    f"where rowid = ({SERVICE_IN_WINDOW})",
    "trend": "update marts.indicators_monthly set letters_per_1000 = "
    "coalesce(letters_per_1000, 0) + 1 where rowid = "
    "(select min(rowid) from marts.indicators_monthly where body_code = ?)",
}


def files_under(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def publish(
    warehouse: Path, target: Path, previous: Path | None = None, progress=None
) -> PublishedExtracts:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish_extracts(con, target, previous, progress)


def recorder(calls: list[tuple[int, int]]):
    return lambda done, total: calls.append((done, total))


@pytest.fixture
def warehouse(demo_run, tmp_path) -> Path:
    """A copy of the demo warehouse, for a test to change."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    return copy


def bodies_of(warehouse: Path, sector: str | None = None) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            code
            for (code,) in con.execute(
                "select body_code from marts.league_table where ? is null or sector = ? "
                "order by body_code",
                [sector, sector],
            ).fetchall()
        ]


def test_nothing_changed_renders_nothing_and_links_every_file(warehouse, tmp_path):
    first = publish(warehouse, tmp_path / "first")
    bodies = bodies_of(warehouse)
    assert first.rendered == bodies and first.carried_over == []
    calls: list[tuple[int, int]] = []
    second = publish(warehouse, tmp_path / "second", tmp_path / "first", recorder(calls))
    assert (second.rendered, second.carried_over) == ([], bodies)
    assert calls == [(0, 0)]
    assert files_under(tmp_path / "second") == files_under(tmp_path / "first")
    for path in second.files[:-1]:  # every extract file is the same file, not a new one
        relative = path.relative_to(tmp_path / "second")
        assert path.stat().st_ino == (tmp_path / "first" / relative).stat().st_ino, relative


def test_incremental_build_is_the_build_from_scratch_after_random_changes(warehouse, tmp_path):
    """Three rounds of random changes to random bodies' rows (each kind of row an extract reads):
    exactly the changed bodies are rendered, the others' files are links to the previous
    release's, and the folder is byte for byte the one built from nothing."""
    bodies = bodies_of(warehouse)
    chance = random.Random(11)
    previous = tmp_path / "round-0"
    publish(warehouse, previous)
    for round_number in range(1, 4):
        changed = set()
        with duckdb.connect(str(warehouse)) as con:
            for code in chance.sample(bodies, chance.randint(1, 5)):
                for kind in chance.sample(sorted(MUTATIONS), chance.randint(1, 2)):
                    (updated,) = con.execute(MUTATIONS[kind], [code]).fetchone()
                    if updated:
                        changed.add(code)
        assert changed
        incremental = tmp_path / f"round-{round_number}"
        progress: list[tuple[int, int]] = []
        published = publish(warehouse, incremental, previous, recorder(progress))
        assert published.rendered == sorted(changed), round_number
        assert progress == [(done, len(changed)) for done in range(len(changed) + 1)]
        scratch = publish(warehouse, tmp_path / f"scratch-{round_number}")
        assert scratch.rendered == bodies
        assert files_under(incremental) == files_under(tmp_path / f"scratch-{round_number}")
        for code in set(bodies) - changed:
            page = f"{code}/{code}.cy.xlsx"
            assert (incremental / page).stat().st_ino == (previous / page).stat().st_ino
        previous = incremental


def test_a_changed_peer_median_renders_every_body_of_that_sector_again(warehouse, tmp_path):
    publish(warehouse, tmp_path / "before")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.body_benchmarks set sector_median = sector_median + 0.01 "
            "where sector = 'health_board' and indicator_code = 'online_take_up'"
        )
    after = publish(warehouse, tmp_path / "after", tmp_path / "before")
    health_boards = bodies_of(warehouse, "health_board")
    assert len(health_boards) == 7  # the seven local health boards of Wales
    assert after.rendered == health_boards
    for code in health_boards:  # the new median is in each of their extracts
        before = (tmp_path / "before" / code / f"{code}_indicators.csv").read_bytes()
        assert (tmp_path / "after" / code / f"{code}_indicators.csv").read_bytes() != before


def test_a_change_to_what_renders_extracts_renders_every_body_again(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        one, other = body_fingerprints(con, "code v1"), body_fingerprints(con, "code v2")
        again = body_fingerprints(con, "code v1")
    assert one == again  # deterministic
    assert one.keys() == other.keys() and all(one[c] != other[c] for c in one)


def test_a_lost_file_or_manifest_in_the_live_release_is_rendered_again(warehouse, tmp_path):
    first = tmp_path / "first"
    publish(warehouse, first)
    code = bodies_of(warehouse)[0]
    (first / code / f"{code}.en.html").unlink()
    assert publish(warehouse, tmp_path / "second", first).rendered == [code]
    (first / MANIFEST).write_text("not json")
    assert publish(warehouse, tmp_path / "third", first).rendered == bodies_of(warehouse)


def materialise_publications(root: Path) -> dict[str, dict]:
    result = dg.materialize(
        [evidence_project, benchmark_extracts, open_data],
        resources=build_resources(PlatformSettings(data_root=str(root))),
    )
    assert result.success
    return {
        event.asset_key.path[-1]: {
            key: getattr(value, "value", value)
            for key, value in event.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }


def test_publications_are_kept_when_their_inputs_are_unchanged(demo_run, tmp_path):
    """Over a copy of the demo data root: a run with nothing new keeps all three releases; a
    changed service row renders that body's extract alone (the site and open data do not read
    service rows); a changed league-table row rebuilds all three."""
    root = tmp_path / "data"
    shutil.copytree(demo_run.root, root, symlinks=True)
    live = {name: (root / "exports" / name).resolve() for name in ("evidence", "extracts")}
    bodies = bodies_of(root / "warehouse.duckdb")

    kept = materialise_publications(root)
    for name in ("evidence_project", "benchmark_extracts", "open_data"):
        assert kept[name]["rebuilt"] is False, name
        assert kept[name]["reason"] == "inputs unchanged: the live release is kept"
    assert (
        kept["benchmark_extracts"]["bodies_rendered"],
        kept["benchmark_extracts"]["bodies_carried_over"],
    ) == (0, len(bodies))
    assert "files" not in kept["benchmark_extracts"]
    assert {n: (root / "exports" / n).resolve() for n in live} == live

    code = bodies[3]
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(MUTATIONS["services"], [code])
    one = materialise_publications(root)
    assert one["benchmark_extracts"]["rebuilt"] is True
    assert (
        one["benchmark_extracts"]["bodies_rendered"],
        one["benchmark_extracts"]["bodies_carried_over"],
    ) == (1, len(bodies) - 1)
    assert one["benchmark_extracts"]["files"] == 6 * len(bodies) + 1  # and the manifest
    assert one["evidence_project"]["rebuilt"] is False and one["open_data"]["rebuilt"] is False
    extracts = root / "exports" / "extracts"
    assert live_inputs(extracts) == one["benchmark_extracts"]["inputs_sha256"]
    assert (extracts / INPUTS).is_file() and extracts.resolve() != live["extracts"]

    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(MUTATIONS["summary"], [code])
    every = materialise_publications(root)
    assert all(every[name]["rebuilt"] for name in every)
    assert every["benchmark_extracts"]["bodies_rendered"] == 1
    assert len(list((root / "exports" / ".releases").iterdir())) == 3  # no old release left


def test_a_live_release_damaged_by_hand_is_built_again(demo_run, tmp_path):
    """Inputs unchanged, but a file of the live release deleted or emptied: the run does not
    keep it, it builds the publication again, and the files are as they were built."""
    root = tmp_path / "data"
    shutil.copytree(demo_run.root, root, symlinks=True)
    code = bodies_of(root / "warehouse.duckdb")[0]
    workbook = root / "exports" / "extracts" / code / f"{code}.en.xlsx"
    table = root / "exports" / "open-data" / "league_table.csv"
    before = {path: path.read_bytes() for path in (workbook, table)}
    workbook.unlink()
    table.write_bytes(b"")

    again = materialise_publications(root)
    for name in ("benchmark_extracts", "open_data"):
        assert again[name]["rebuilt"] is True, name
        assert again[name]["reason"].startswith("files missing or changed in the live release")
    assert again["evidence_project"]["rebuilt"] is False
    assert {path: path.read_bytes() for path in before} == before
    after = materialise_publications(root)  # and now it is kept again
    assert not any(after[name]["rebuilt"] for name in after)
