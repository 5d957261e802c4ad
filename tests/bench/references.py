"""Hand-written references for the benchmark: the collect, validate and take-up work the platform
does, written the shortest way, once in DuckDB SQL (the floor) and once in pandas (what a team
would write first). Both read the same landing files, hash every file, check every row against
the contract's main rules, keep the rows of files without errors and compute online take-up per
body and month. Files that are not a plain UTF-8 CSV with the contract's header on its first
line (workbooks, Windows-1252 exports with title rows, and the Digital Service Standard
assessment returns, a different kind of file) are counted as `unusual` and skipped: the
platform's slow path reads those, and there are a handful of each.

    python -m tests.bench.references duckdb <landing> <reference folder>
    python -m tests.bench.references pandas <landing> <reference folder>

print one line of JSON: files, unusual, rows, accepted_files, rejected_files, accepted_rows,
take_up_cells, checksum (sum of take-up over body-months, to compare the two)."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import IO

from dagster_project.collect.contract import (
    COLUMN_NAMES,
    COUNT_COLUMNS,
    FLAG_COLUMNS,
    REQUIRED_COLUMNS,
)

HEADER = ",".join(COLUMN_NAMES)


def landing_files(
    landing: Path, combined: IO[bytes] | None = None
) -> tuple[list[Path], list[Path]]:
    """The standard files and the unusual ones, each read and hashed once (the hash is the
    platform's first step for every file, so the references pay it too). With `combined`, the
    data rows of every standard file are written there as one CSV, each line led by the
    file's name: one read for DuckDB instead of one per file."""
    standard, unusual = [], []
    header = HEADER.encode()
    if combined is not None:
        combined.write(b"filename," + header + b"\n")
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        first, _, rest = data.partition(b"\n")
        if path.suffix == ".csv" and first.rstrip(b"\r") == header:
            standard.append(path)
            if combined is not None:
                lead = b'"' + str(path).encode().replace(b'"', b'""') + b'",'
                combined.writelines(lead + line + b"\n" for line in rest.splitlines() if line)
        else:
            unusual.append(path)
    return standard, unusual


def services_by_sector(reference: Path) -> list[tuple[str, str]]:
    with (reference / "bodies.csv").open(encoding="utf-8") as handle:
        sectors = {row["body_code"]: row["sector"] for row in csv.DictReader(handle)}
    with (reference / "services.csv").open(encoding="utf-8") as handle:
        services = [(row["sector"], row["service_code"]) for row in csv.DictReader(handle)]
    return [
        (body, service)
        for body, sector in sectors.items()
        for s, service in services
        if s == sector
    ]


def run_duckdb(landing: Path, reference: Path) -> dict:
    import duckdb

    with tempfile.NamedTemporaryFile(suffix=".csv") as combined:
        standard, unusual = landing_files(landing, combined)
        combined.flush()
        con = duckdb.connect()
        con.execute(
            "create table incoming as select * from read_csv(?, header = true, "
            "auto_detect = false, columns = ?)",
            [combined.name, {c: "varchar" for c in ("filename", *COLUMN_NAMES)}],
        )
    con.execute("create table known (body_code varchar, service_code varchar)")
    con.executemany("insert into known values (?, ?)", services_by_sector(reference))

    def broken(column: str, valid: str) -> str:
        # A required cell that is blank is broken; an optional one may be blank or "n/a".
        given = column in REQUIRED_COLUMNS
        blank = "" if given else f" and lower({column}) not in ('n/a', 'na')"
        return f"coalesce(not ({valid}){blank}, {str(given).lower()})"

    counts = " or ".join(broken(c, f"regexp_full_match({c}, '[0-9]+')") for c in COUNT_COLUMNS)
    flags = " or ".join(broken(c, f"lower({c}) in ('yes', 'no')") for c in FLAG_COLUMNS)
    con.execute(
        f"""
        create table checked as
        select *,
            regexp_extract(filename, '([^/]+)/[^/]+$', 1) as folder,
            ({counts}) or ({flags})
            or not regexp_full_match(period, '[0-9]{{4}}-(0[1-9]|1[0-2])')
            or body_code <> regexp_extract(filename, '([^/]+)/[^/]+$', 1)
            or not exists (
                select 1 from known k
                where k.body_code = incoming.body_code and k.service_code = incoming.service_code)
            or try_cast(transactions_online as bigint) > try_cast(transactions_total as bigint)
            or count(*) over (partition by filename, body_code, period, service_code) > 1
            as bad
        from incoming
        """
    )
    con.execute(
        """
        create table accepted as
        select body_code, period, service_code,
            cast(transactions_total as bigint) as total,
            cast(transactions_online as bigint) as online
        from checked
        where filename not in (select filename from checked where bad)
        """
    )
    files, rejected = con.execute(
        "select count(distinct filename), count(distinct filename) filter (where bad) from checked"
    ).fetchone()
    rows = con.execute("select count(*) from checked").fetchone()[0]
    accepted_rows = con.execute("select count(*) from accepted").fetchone()[0]
    cells, checksum = con.execute(
        """
        select count(*), round(sum(take_up), 6) from (
            select body_code, period, sum(online) / nullif(sum(total), 0) as take_up
            from accepted group by all)
        """
    ).fetchone()
    return {
        "files": len(standard) + len(unusual),
        "unusual": len(unusual),
        "rows": rows,
        "accepted_files": files - rejected,
        "rejected_files": rejected,
        "accepted_rows": accepted_rows,
        "take_up_cells": cells,
        "checksum": checksum,
    }


def run_pandas(landing: Path, reference: Path) -> dict:
    import pandas as pd

    standard, unusual = landing_files(landing)
    frames = []
    for path in standard:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["filename"] = str(path)
        frame["folder"] = path.parent.name
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    known = set(services_by_sector(reference))
    bad = pd.Series(False, index=rows.index)
    for column in COUNT_COLUMNS:
        values = rows[column]
        blank = values.str.lower().isin(["", "n/a", "na"]) & (column not in REQUIRED_COLUMNS)
        bad |= ~values.str.fullmatch(r"[0-9]+") & ~blank
    for column in FLAG_COLUMNS:
        values = rows[column].str.lower()
        blank = values.isin(["", "n/a", "na"]) & (column not in REQUIRED_COLUMNS)
        bad |= ~values.isin(["yes", "no"]) & ~blank
    bad |= ~rows["period"].str.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])")
    bad |= rows["body_code"] != rows["folder"]
    bad |= ~pd.Series(
        [pair in known for pair in zip(rows["body_code"], rows["service_code"], strict=True)],
        index=rows.index,
    )
    total = pd.to_numeric(rows["transactions_total"], errors="coerce")
    online = pd.to_numeric(rows["transactions_online"], errors="coerce")
    bad |= online > total
    bad |= rows.duplicated(["filename", "body_code", "period", "service_code"], keep=False)
    rows["bad"] = bad
    rejected_files = set(rows.loc[bad, "filename"])
    accepted = rows[~rows["filename"].isin(rejected_files)].assign(
        total=total.astype("Int64"), online=online.astype("Int64")
    )
    by_month = accepted.groupby(["body_code", "period"])[["online", "total"]].sum()
    take_up = (by_month["online"] / by_month["total"].where(by_month["total"] != 0)).astype(float)
    return {
        "files": len(standard) + len(unusual),
        "unusual": len(unusual),
        "rows": len(rows),
        "accepted_files": rows["filename"].nunique() - len(rejected_files),
        "rejected_files": len(rejected_files),
        "accepted_rows": len(accepted),
        "take_up_cells": len(by_month),
        "checksum": round(float(take_up.sum()), 6),
    }


def main(argv: list[str] | None = None) -> None:
    kind, landing, reference = (argv or sys.argv[1:])[:3]
    run = {"duckdb": run_duckdb, "pandas": run_pandas}[kind]
    print(json.dumps(run(Path(landing), Path(reference))))


if __name__ == "__main__":
    main()
