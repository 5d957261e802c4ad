"""One file can only fail itself: long or strange names, unexpected errors, links, pipes and
hidden files, versions in one batch, and a run stopped between its commit and its clean-up."""

import json
import os
import signal
import stat
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dagster_project.collect import load
from dagster_project.collect.load import (
    FileRecord,
    NotRegularFile,
    collect_submissions,
    natural_key,
    read_landing_file,
)
from dagster_project.collect.validate import content_hash
from tests.conftest import CARDIFF, SWANSEA, TAX, row, submission, write_landing

NOW = datetime(2026, 11, 2, 9, 0)
VALID = submission(row(SWANSEA, "2026-10", TAX, 10, 5, "yes", "no", 1, 1))
ERROR = submission(row(CARDIFF, "2026-10", TAX, 10, 50, "yes", "no", 1, 1))  # online > total
WARNING = submission(  # a partial channel breakdown above the total: loads, with a warning
    row(CARDIFF, "2026-10", TAX, 10, 5, "yes", "no", 1, 1, transactions_phone=9)
)
LONG_NAMES = {
    "240 characters": "r" * 236 + ".csv",
    "134 Welsh letters, 244 bytes": "ŵ" * 106 + "y" * 28 + ".csv",
}


def query(paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def reports_in(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in folder.glob("*.report.json")}


def every_byte_kept(paths) -> list[bytes]:
    return [
        p.read_bytes()
        for p in [*paths.quarantine.rglob("*"), *paths.archive.rglob("*")]
        if p.is_file()
    ]


# 1. One file can only fail itself


@pytest.mark.parametrize("long_name", LONG_NAMES.values(), ids=LONG_NAMES.keys())
def test_a_long_name_on_a_rejected_file_fails_only_that_file(data_paths, reference, long_name):
    name = f"{CARDIFF}/{long_name}"
    write_landing(data_paths, {name: ERROR, f"{SWANSEA}/oct.csv": VALID})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/oct.csv"] and list(result.rejected) == [name]
    [report] = reports_in(data_paths.quarantine).values()
    assert report["file"] == name and report["problems"][0]["rule"] == "online_not_above_total"
    assert max(len(p.name.encode()) for p in data_paths.quarantine.iterdir()) <= 100
    [copy] = [p for p in data_paths.quarantine.iterdir() if ".report." not in p.name]
    assert copy.read_bytes() == ERROR
    assert copy.name.startswith(content_hash(ERROR)[:16] + "__W06000015__")


@pytest.mark.parametrize("long_name", LONG_NAMES.values(), ids=LONG_NAMES.keys())
def test_a_long_name_on_a_file_with_warnings_gets_its_report(data_paths, reference, long_name):
    name = f"{CARDIFF}/{long_name}"
    write_landing(data_paths, {name: WARNING, f"{SWANSEA}/oct.csv": VALID})
    result = collect_submissions(data_paths, reference, NOW)
    assert sorted(result.accepted) == sorted([name, f"{SWANSEA}/oct.csv"])
    [report] = reports_in(data_paths.feedback).values()
    assert report["file"] == name and report["status"] == "accepted_with_warnings"


def fail_for(name_part: str, real):
    """`real`, except that it raises for any call that mentions a file named `name_part`."""

    def failing(*args, **kwargs):
        if name_part in repr(args):
            raise RuntimeError("a bug the body cannot fix")
        return real(*args, **kwargs)

    return failing


def test_an_unexpected_error_reading_one_file_quarantines_it_with_a_report(
    data_paths, reference, monkeypatch
):
    monkeypatch.setattr(load, "parse_submission", fail_for("poison", load.parse_submission))
    # a plain CSV is read by DuckDB's fast path, not parse_submission: fail that for it too
    monkeypatch.setattr(load, "plain_rows_text", fail_for("poison", load.plain_rows_text))
    write_landing(data_paths, {f"{CARDIFF}/poison.csv": ERROR, f"{SWANSEA}/oct.csv": VALID})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/oct.csv"]
    [problem] = result.rejected[f"{CARDIFF}/poison.csv"]
    assert (problem.rule, problem.value) == (
        load.INTERNAL_ERROR_RULE,
        "an internal error (RuntimeError) while reading the file",
    )
    assert (data_paths.quarantine / f"{CARDIFF}__poison.csv").read_bytes() == ERROR
    text = (data_paths.quarantine / f"{CARDIFF}__poison.csv.report.txt").read_text()
    assert "an internal error (RuntimeError) while reading the file" in text
    assert not (data_paths.landing / CARDIFF / "poison.csv").exists()


def test_a_checker_that_breaks_on_one_file_fails_only_that_file(data_paths, reference, monkeypatch):
    def validate(files, *args):
        if any("poison" in f.name for f in files):
            raise RuntimeError("a bug the body cannot fix")
        return real(files, *args)

    real = load.validate_files
    monkeypatch.setattr(load, "validate_files", validate)
    write_landing(data_paths, {f"{CARDIFF}/poison.csv": WARNING, f"{SWANSEA}/oct.csv": VALID})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/oct.csv"] and result.rows_loaded == 1
    [problem] = result.rejected[f"{CARDIFF}/poison.csv"]
    assert problem.value == "an internal error (RuntimeError) while checking the file"
    assert query(data_paths, "select body_code from raw.submissions") == [(SWANSEA,)]


def test_a_report_that_cannot_be_written_rejects_its_file_with_a_report_saying_so(
    data_paths, reference, monkeypatch
):
    real = load.write_reports

    def write_reports(target, *args):
        if target.parent == data_paths.feedback:
            raise OSError("disk trouble")
        return real(target, *args)

    monkeypatch.setattr(load, "write_reports", write_reports)
    write_landing(data_paths, {f"{CARDIFF}/oct.csv": WARNING, f"{SWANSEA}/oct.csv": VALID})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/oct.csv"]
    assert [p.rule for p in result.rejected[f"{CARDIFF}/oct.csv"]] == [
        "channels_exceed_total",
        load.INTERNAL_ERROR_RULE,
    ]
    report = reports_in(data_paths.quarantine)[f"{CARDIFF}__oct.csv.report.json"]
    assert report["problems"][-1]["value"] == "an internal error (OSError) while writing its report"
    assert query(data_paths, "select body_code from raw.submissions") == [(SWANSEA,)]


def test_a_file_that_cannot_be_removed_from_landing_stops_nothing_and_is_not_recorded_twice(
    data_paths, reference, monkeypatch
):
    real = Path.unlink

    def unlink(path, *args, **kwargs):
        if path.name == "bad.csv":
            raise PermissionError("read-only share")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    write_landing(data_paths, {f"{CARDIFF}/bad.csv": ERROR, f"{CARDIFF}/worse.csv": ERROR + b"\n"})
    first = collect_submissions(data_paths, reference, NOW)
    assert sorted(first.rejected) == [f"{CARDIFF}/bad.csv", f"{CARDIFF}/worse.csv"]
    assert not (data_paths.landing / CARDIFF / "worse.csv").exists()
    monkeypatch.undo()
    second = collect_submissions(data_paths, reference, NOW)
    assert second.left_over == [f"{CARDIFF}/bad.csv"] and not second.rejected
    assert not (data_paths.landing / CARDIFF / "bad.csv").exists()
    assert query(data_paths, "select count(*) from raw.submission_files") == [(2,)]


# 2. Only regular files inside the body's folder are read


def test_links_are_refused_and_never_followed(data_paths, reference, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    valid_cardiff = submission(row(CARDIFF, "2026-10", TAX, 10, 5, "yes", "no", 1, 1))
    (elsewhere / "return.csv").write_bytes(valid_cardiff)
    folder = data_paths.landing / CARDIFF
    folder.mkdir()
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "return.csv").symlink_to(elsewhere / "return.csv")
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [] and result.rows_loaded == 0
    assert {
        name: [(p.rule, p.value) for p in found] for name, found in result.rejected.items()
    } == {
        f"{CARDIFF}/passwd.csv": [(load.NOT_REGULAR_RULE, "a symbolic link")],
        f"{CARDIFF}/return.csv": [(load.NOT_REGULAR_RULE, "a symbolic link")],
    }
    kept = every_byte_kept(data_paths)
    assert Path("/etc/passwd").read_bytes() not in kept and valid_cardiff not in kept
    assert sorted(r["file"] for r in reports_in(data_paths.quarantine).values()) == [
        f"{CARDIFF}/passwd.csv",
        f"{CARDIFF}/return.csv",
    ]
    assert list(folder.iterdir()) == [] and (elsewhere / "return.csv").exists()  # link gone


def test_a_body_folder_that_is_a_link_is_refused(data_paths, reference, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "oct.csv").write_bytes(
        submission(row(CARDIFF, "2026-10", TAX, 10, 5, "yes", "no", 1, 1))
    )
    (data_paths.landing / CARDIFF).symlink_to(elsewhere, target_is_directory=True)
    result = collect_submissions(data_paths, reference, NOW)
    assert [(p.rule, p.value) for p in result.rejected[CARDIFF]] == [
        (load.NOT_REGULAR_RULE, "a symbolic link")
    ]
    assert result.rows_loaded == 0 and (elsewhere / "oct.csv").exists()


@pytest.fixture
def alarm():
    """Fail, rather than hang, if something waits on a pipe."""

    def timed_out(*_):
        raise TimeoutError("waited on a named pipe")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_named_pipe_is_refused_without_waiting_on_it(data_paths, reference, alarm):
    (data_paths.landing / CARDIFF).mkdir()
    os.mkfifo(data_paths.landing / CARDIFF / "oct.csv")
    write_landing(data_paths, {f"{SWANSEA}/oct.csv": VALID})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/oct.csv"]
    assert [(p.rule, p.value) for p in result.rejected[f"{CARDIFF}/oct.csv"]] == [
        (load.NOT_REGULAR_RULE, "a named pipe")
    ]
    assert not (data_paths.landing / CARDIFF / "oct.csv").exists()


def test_a_device_is_refused(data_paths, reference):
    (data_paths.landing / CARDIFF).mkdir()
    try:
        os.mknod(data_paths.landing / CARDIFF / "oct.csv", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device needs privileges")
    result = collect_submissions(data_paths, reference, NOW)
    assert [p.value for p in result.rejected[f"{CARDIFF}/oct.csv"]] == ["a device"]


def test_an_entry_swapped_for_a_link_or_a_pipe_after_the_scan_is_not_read(tmp_path, alarm):
    landing = tmp_path / "landing"
    (landing / CARDIFF).mkdir(parents=True)
    (landing / CARDIFF / "link.csv").symlink_to("/etc/passwd")
    os.mkfifo(landing / CARDIFF / "pipe.csv")
    (landing / "folder_link").symlink_to(landing / CARDIFF, target_is_directory=True)
    with pytest.raises(NotRegularFile, match="a symbolic link"):
        read_landing_file(landing, f"{CARDIFF}/link.csv")
    with pytest.raises(NotRegularFile, match="a named pipe"):
        read_landing_file(landing, f"{CARDIFF}/pipe.csv")
    with pytest.raises(NotRegularFile, match="a symbolic link"):
        read_landing_file(landing, "folder_link/pipe.csv")


def test_hidden_files_are_listed_as_ignored_and_left_alone(data_paths, reference):
    write_landing(
        data_paths,
        {
            f"{CARDIFF}/.DS_Store": b"\x00\x01",
            f"{CARDIFF}/~$oct.xlsx": b"lock",
            f"{CARDIFF}/.drafts/oct.csv": ERROR,
            ".hidden.csv": VALID,
            f"{SWANSEA}/oct.csv": VALID,
        },
    )
    result = collect_submissions(data_paths, reference, NOW)
    assert result.ignored == [
        ".hidden.csv",
        f"{CARDIFF}/.DS_Store",
        f"{CARDIFF}/.drafts",
        f"{CARDIFF}/~$oct.xlsx",
    ]
    assert result.accepted == [f"{SWANSEA}/oct.csv"] and not result.rejected
    assert (data_paths.landing / CARDIFF / ".drafts" / "oct.csv").exists()


# 3. Versions have a defined order


def version(total: int) -> bytes:
    return submission(row(CARDIFF, "2026-10", TAX, total, 5, "yes", "no", 1, 1))


def write_versions(paths, mtimes: dict[str, int]) -> None:
    """return_2026-10_v9.csv (total 9) and _v10.csv (total 10), with the given mtimes."""
    for name, mtime in mtimes.items():
        number = int(name.removeprefix("return_2026-10_v").removesuffix(".csv"))
        write_landing(paths, {f"{CARDIFF}/{name}": version(number)})
        os.utime(paths.landing / CARDIFF / name, (mtime, mtime))


def current_total(paths) -> int:
    [(total,)] = query(
        paths, "select transactions_total from raw.submissions order by load_sequence desc limit 1"
    )
    return total


@pytest.mark.parametrize(
    ("later", "earlier", "winner"),
    [
        ("return_2026-10_v10.csv", "return_2026-10_v9.csv", 10),  # before: v9 won by name
        ("return_2026-10_v9.csv", "return_2026-10_v10.csv", 9),  # a later save wins, any name
    ],
)
def test_the_file_received_later_wins_whatever_its_name(
    data_paths, reference, later, earlier, winner
):
    write_versions(data_paths, {earlier: 1_790_000_000, later: 1_790_000_001})
    collect_submissions(data_paths, reference, NOW)
    assert current_total(data_paths) == winner


def test_files_received_at_the_same_moment_load_in_natural_name_order(data_paths, reference):
    write_versions(
        data_paths,
        {"return_2026-10_v9.csv": 1_790_000_000, "return_2026-10_v10.csv": 1_790_000_000},
    )
    collect_submissions(data_paths, reference, NOW)
    assert query(
        data_paths, "select file_name from raw.submission_files order by load_sequence"
    ) == [
        (f"{CARDIFF}/return_2026-10_v9.csv",),
        (f"{CARDIFF}/return_2026-10_v10.csv",),
    ]
    assert current_total(data_paths) == 10


def test_natural_order_compares_digit_runs_as_numbers():
    names = ["v10.csv", "V2.csv", "v9.csv", "v1.csv", "2026-10_v2.csv", "2026-9_v3.csv"]
    assert sorted(names, key=natural_key) == [
        "2026-9_v3.csv",
        "2026-10_v2.csv",
        "v1.csv",
        "V2.csv",
        "v9.csv",
        "v10.csv",
    ]


# 4. A run stopped between its commit and moving rejected files out of landing/


def test_a_run_killed_before_removing_rejected_files_does_not_record_them_twice(
    data_paths, reference, monkeypatch
):
    real = Path.unlink

    def killed(path, *args, **kwargs):
        if data_paths.landing in path.parents:
            raise KeyboardInterrupt  # stands for kill -9 after the commit
        return real(path, *args, **kwargs)

    write_landing(data_paths, {f"{CARDIFF}/oct.csv": ERROR, f"{SWANSEA}/oct.csv": VALID})
    monkeypatch.setattr(Path, "unlink", killed)
    with pytest.raises(KeyboardInterrupt):
        collect_submissions(data_paths, reference, NOW)
    monkeypatch.undo()
    assert (data_paths.landing / CARDIFF / "oct.csv").exists()  # the leftover

    again = collect_submissions(data_paths, reference, NOW)
    assert again.left_over == [f"{CARDIFF}/oct.csv"] and not again.rejected
    assert not (data_paths.landing / CARDIFF / "oct.csv").exists()
    assert query(
        data_paths, "select file_name, status from raw.submission_files order by file_name"
    ) == [(f"{SWANSEA}/oct.csv", "accepted"), (f"{CARDIFF}/oct.csv", "rejected")]
    assert query(data_paths, "select count(*) from raw.submission_problems") == [(1,)]


def test_the_same_rejected_bytes_sent_again_get_a_fresh_verdict(data_paths, reference):
    # Verdicts depend on the month and the register: a resend is checked again, not skipped.
    write_landing(data_paths, {f"{CARDIFF}/oct.csv": ERROR})
    collect_submissions(data_paths, reference, NOW)
    write_landing(data_paths, {f"{CARDIFF}/oct.csv": ERROR})
    later = (data_paths.landing / CARDIFF / "oct.csv").stat().st_mtime + 60
    os.utime(data_paths.landing / CARDIFF / "oct.csv", (later, later))
    again = collect_submissions(data_paths, reference, NOW)
    assert list(again.rejected) == [f"{CARDIFF}/oct.csv"] and again.left_over == []
    assert query(data_paths, "select count(*) from raw.submission_files") == [(2,)]


# 5. A file already loaded, placed again in another body's folder


def test_a_loaded_file_placed_in_another_bodys_folder_is_rejected_not_skipped(
    data_paths, reference
):
    cardiff = submission(row(CARDIFF, "2026-10", TAX, 10, 5, "yes", "no", 1, 1))
    write_landing(data_paths, {f"{CARDIFF}/oct.csv": cardiff})
    collect_submissions(data_paths, reference, NOW)
    write_landing(data_paths, {f"{SWANSEA}/from_cardiff.csv": cardiff})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.skipped == [f"{CARDIFF}/oct.csv"]  # Cardiff's own copy: loaded already
    [problem] = result.rejected[f"{SWANSEA}/from_cardiff.csv"]
    assert (problem.rule, problem.value, problem.detail) == ("wrong_body", CARDIFF, SWANSEA)
    assert (data_paths.quarantine / f"{SWANSEA}__from_cardiff.csv.report.txt").exists()
    assert query(data_paths, "select count(*) from raw.submissions") == [(1,)]


# 10. The file log as a dataclass, one field per column


def test_the_file_record_has_one_field_per_column_in_order(data_paths, reference):
    collect_submissions(data_paths, reference, NOW)
    columns = query(
        data_paths,
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'submission_files' order by ordinal_position",
    )
    assert [c for (c,) in columns] == [f.name for f in fields(FileRecord)]


def test_a_warehouse_from_before_the_mtime_column_is_upgraded(data_paths, reference):
    with duckdb.connect(str(data_paths.warehouse)) as con:
        load.ensure_raw_schema(con)
        con.execute("alter table raw.submission_files drop column landing_mtime_ns")
    write_landing(data_paths, {f"{SWANSEA}/oct.csv": VALID})
    assert collect_submissions(data_paths, reference, NOW).accepted == [f"{SWANSEA}/oct.csv"]


# --- found by a hostile trial: names, depth, size and files that change under the run ----------


def test_a_name_that_is_not_utf8_fails_only_itself(data_paths, reference):
    """Before: 'bad\\xff\\xfe.csv' (a Windows name sent over SFTP) stopped every body's
    collection on every run, at the insert ('cannot encode str as UTF-8')."""
    write_landing(data_paths, {f"{SWANSEA}/good.csv": VALID})
    folder = os.fsencode(data_paths.landing / SWANSEA)
    with open(os.path.join(folder, b"bad\xff\xfe\n.csv"), "wb") as handle:
        handle.write(ERROR)
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/good.csv"]
    assert list(result.rejected) == [f"{SWANSEA}/bad\ufffd\ufffd?.csv"]
    assert query(data_paths, "select count(*) from raw.submissions") == [(1,)]


def test_folders_nested_deeper_than_python_recurses_are_scanned(data_paths, reference):
    """Before: 1,100 nested folders raised RecursionError outside every guard."""
    write_landing(data_paths, {f"{SWANSEA}/good.csv": VALID})
    deep = data_paths.landing / CARDIFF
    nests = [deep.joinpath(*["a"] * depth) for depth in range(1, 1_101)]
    for folder in nests:
        folder.mkdir(parents=True)
    try:
        result = collect_submissions(data_paths, reference, NOW)
    finally:
        for folder in reversed(nests):  # innermost first: shutil.rmtree would recurse too deep
            folder.rmdir()
    assert result.accepted == [f"{SWANSEA}/good.csv"]


def test_a_file_over_the_size_limit_is_never_read_whole_and_moves_to_quarantine(
    data_paths, reference, monkeypatch
):
    """Before: the whole file was read (a 2 GB file took 2.4 GB), then copied into archive/ and
    quarantine/. Now at most the limit + 1 byte is read, and the file is moved, not copied."""
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 1_000)
    write_landing(data_paths, {f"{SWANSEA}/big.csv": VALID + b"\n" * 5_000})
    reads = []
    real = load.read_landing_file
    monkeypatch.setattr(
        load, "read_landing_file", lambda *a, **k: reads.append(real(*a, **k, limit=1_000))
    )
    result = collect_submissions(data_paths, reference, NOW)
    [problems] = result.rejected.values()
    assert [(p.rule, p.value) for p in problems] == [
        ("file_too_large", f"{len(VALID) + 5_000:,} bytes")
    ]
    assert reads == []  # FileTooLarge was raised: nothing was returned to keep
    assert not (data_paths.landing / SWANSEA / "big.csv").exists()
    moved = [p for p in data_paths.quarantine.iterdir() if ".report." not in p.name]
    assert [p.stat().st_size for p in moved] == [len(VALID) + 5_000]
    assert not any(p.is_file() for p in data_paths.archive.rglob("*") if p.name != "receipts.jsonl")


def test_a_file_saved_again_while_the_run_checks_it_is_not_removed_unseen(
    data_paths, reference, monkeypatch
):
    """Before: a rejected file was removed by its path after the commit, so a corrected file
    saved under the same name meanwhile was deleted without ever being read."""
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": ERROR})
    path = data_paths.landing / CARDIFF / "jan.csv"
    real = load._validate

    def body_saves_a_correction(*args, **kwargs):
        path.write_bytes(submission(row(CARDIFF, "2026-10", TAX, 10, 5, "yes", "no", 1, 1)))
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "_validate", body_saves_a_correction)
    first = collect_submissions(data_paths, reference, NOW)
    assert list(first.rejected) == [f"{CARDIFF}/jan.csv"] and path.exists()
    monkeypatch.setattr(load, "_validate", real)
    second = collect_submissions(data_paths, reference, NOW)
    assert second.accepted == [f"{CARDIFF}/jan.csv"]


def test_a_hard_link_to_a_file_outside_the_data_root_is_refused_unread(
    data_paths, reference, tmp_path
):
    """Before: a hard link is a regular file, so /etc/passwd linked into a body's folder was
    read, archived for good and quoted in the report."""
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_bytes(VALID)
    (data_paths.landing / SWANSEA).mkdir(parents=True)
    os.link(secret, data_paths.landing / SWANSEA / "linked.csv")
    result = collect_submissions(data_paths, reference, NOW)
    [problems] = result.rejected.values()
    assert [(p.rule, p.value) for p in problems] == [
        (load.NOT_REGULAR_RULE, "a hard link to a file with other names")
    ]
    assert not any(VALID in kept for kept in every_byte_kept(data_paths))  # only its reports
    assert secret.read_bytes() == VALID
