"""Deterministic demo submissions: a monthly CSV per registered body in the data contract.

Realistic shapes, not real figures: volumes scale with population, online take-up rises at a
pace of each body's own, services go online and then digital by default over time, letters fall
as digital notifications rise, demand is seasonal, a few months are missing, one body never
reports, one month is resubmitted with corrections, and a few files carry the mistakes real
returns carry (so the quarantine has something to show). The same arguments give the same bytes.

Each file also has a receipt time, spread as real returns arrive: most before the due day of
the following month, some late (a few bodies habitually so). The demo collects the files that
arrived by the last month's due date at the times they arrived, as the platform would have; the
later ones wait in landing/ for the next run. Files' modification times are their receipt times.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from dagster_project.collect.contract import COLUMN_NAMES
from dagster_project.collect.load import collect_submissions, receive_landing_file
from dagster_project.collect.read import TEMPLATE_SHEET
from dagster_project.reference import Reference, load_reference
from dagster_project.settings import RETURN_DUE_DAY, DataPaths, default_data_root
from dagster_project.warehouse import catch_up_receipts, writer_lock
from exports.cells import workbook_bytes

DEFAULT_END = "2026-09"
DEFAULT_MONTHS = 24
# One body that never reports, so the outputs show how a body with no data looks.
SILENT_BODY = "W18000003"
# The share of a body's returns that arrive late: most bodies are punctual, one in five is not.
LATE_SHARES = (0.02, 0.05, 0.05, 0.10, 0.35)
LATEST_LATE_DAYS = 40  # a late return arrives up to this many days after its due date
# When the demo's collection looks at landing/ (days of the month, at 18:00), as a sensor
# would: the due day is one of them, so a return collected on time was received on time.
COLLECTION_DAYS = (8, RETURN_DUE_DAY, 22, 28)
COLLECTION_TIME = time(18, 0)


@dataclass(frozen=True)
class ServicePlan:
    """How one service of one body evolves over the demo period."""

    monthly_per_1000: float  # transactions a month per 1,000 people served
    online_from: int  # month index when it can first be completed online
    default_from: int  # month index when online becomes the default route (may be never)
    base_take_up: float
    pace: float  # take-up gained per month once online
    letters_per_transaction: float
    reports_channels: bool


def month_list(end: str, months: int) -> list[str]:
    year, month = (int(part) for part in end.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def _plan(rng: random.Random, months: int, body_pace: float) -> ServicePlan:
    online_from = rng.choice([0, 0, 0, rng.randrange(months), months + 12])
    default_from = online_from + rng.choice([3, 8, 14, 30, 60])
    return ServicePlan(
        monthly_per_1000=rng.uniform(0.5, 25.0),
        online_from=online_from,
        default_from=default_from,
        base_take_up=rng.uniform(0.15, 0.55),
        pace=body_pace * rng.uniform(0.6, 1.4),
        letters_per_transaction=rng.uniform(0.3, 1.5),
        reports_channels=rng.random() < 0.7,
    )


def _service_row(
    body: dict, service: str, period: str, index: int, plan: ServicePlan, rng: random.Random
) -> dict[str, str]:
    month = int(period[5:])
    # Demand peaks in spring (council tax, school admissions) and dips at Christmas.
    season = 1 + 0.15 * math.sin(2 * math.pi * (month - 2) / 12) - (0.12 if month == 12 else 0)
    total = round(
        int(body["population"]) / 1000 * plan.monthly_per_1000 * season * rng.uniform(0.92, 1.08)
    )
    available = index >= plan.online_from
    take_up = (
        min(0.97, plan.base_take_up + plan.pace * (index - plan.online_from)) if available else 0
    )
    online = min(total, round(total * take_up * rng.uniform(0.97, 1.03)))
    by_default = available and index >= plan.default_from
    letters = round(
        total
        * plan.letters_per_transaction
        * max(0.05, 1 - 0.03 * index)
        * (0.6 if by_default else 1.0)
    )
    notifications = round(total * 1.2 * take_up + letters * 0.1 * index / 12)
    row = dict.fromkeys(COLUMN_NAMES, "")
    row.update(
        body_code=body["body_code"],
        period=period,
        service_code=service,
        transactions_total=str(total),
        transactions_online=str(online),
        available_online="yes" if available else "no",
        digital_by_default="yes" if by_default else "no",
        letters_posted=str(letters),
        digital_notifications=str(notifications),
    )
    if plan.reports_channels:
        rest = total - online
        phone = round(rest * 0.55)
        face = round(rest * 0.25)
        paper = round(rest * 0.15)
        row.update(
            transactions_phone=str(phone),
            transactions_face_to_face=str(face),
            transactions_paper=str(paper),
            transactions_other=str(rest - phone - face - paper),
        )
    if index == plan.online_from and index > 0:
        row["notes"] = "Gwasanaeth newydd ar-lein / new online service"
    return row


def _to_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMN_NAMES, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def demo_submissions(
    reference: Reference, end: str = DEFAULT_END, months: int = DEFAULT_MONTHS, seed: str = "wales"
) -> dict[str, bytes]:
    """Every demo file, by path relative to landing/: `<body_code>/<body_code>_<YYYY-MM>.csv`."""
    if months < 12:
        raise ValueError("demo data needs at least 12 months: one headline window")
    periods = month_list(end, months)
    files: dict[str, bytes] = {}
    for body in reference.bodies:
        code = body["body_code"]
        if code == SILENT_BODY:
            continue
        rng = random.Random(f"{seed}:{code}")
        body_pace = rng.uniform(0.002, 0.02)
        plans = {s: _plan(rng, months, body_pace) for s in reference.services_of(code)}
        gap_start = rng.randrange(months) if rng.random() < 0.25 else None  # a run of late returns
        for index, period in enumerate(periods):
            if rng.random() < 0.03 or (
                gap_start is not None and gap_start <= index < gap_start + 3
            ):
                continue  # a missing return
            rows = [
                _service_row(body, s, period, index, plan, rng)
                for s, plan in plans.items()
                if rng.random() > 0.04
            ]  # now and then a service is left out of a return
            if rows:  # a body of one service that left it out sent no return at all
                files[f"{code}/{code}_{period}.csv"] = _to_csv(rows)
    _add_resubmission_and_mistakes(files, periods)
    _send_some_the_way_real_bodies_do(files, periods)
    return files


def _add_resubmission_and_mistakes(files: dict[str, bytes], periods: list[str]) -> None:
    """A corrected resubmission and three files with the mistakes real returns carry."""
    names = sorted(files)
    latest = periods[-1]

    def edit(name: str, old: str, new: str, new_name: str | None = None) -> None:
        text = files[name].decode("utf-8")
        files[new_name or name] = text.replace(old, new, 1).encode("utf-8")

    def first_file(suffix: str, skip: int = 0) -> str:
        return [n for n in names if n.endswith(suffix)][skip]

    # Resubmission: the council sends last month again with one total corrected upwards.
    original = first_file(f"_{latest}.csv")
    first_row = files[original].decode("utf-8").splitlines()[1].split(",")
    total, online = first_row[3], first_row[4]
    corrected = ",".join(
        [*first_row[:3], str(int(total) + 100), online, "", "", "", "", *first_row[9:]]
    )
    edit(original, ",".join(first_row), corrected, original.replace(".csv", "_v2.csv"))
    # Mistakes: online above total; a month written in words; a service from another sector.
    bad_online = first_file(f"_{periods[-2]}.csv", skip=3)
    row = files[bad_online].decode("utf-8").splitlines()[1].split(",")
    edit(bad_online, f",{row[3]},{row[4]},", f",{row[3]},{int(row[3]) + 7},")
    bad_period = first_file(f"_{periods[-3]}.csv", skip=5)
    month_name = date(int(periods[-3][:4]), int(periods[-3][5:]), 1).strftime("%B %Y")
    edit(bad_period, periods[-3], month_name)
    bad_service = first_file(f"_{periods[-4]}.csv", skip=7)
    code = files[bad_service].decode("utf-8").splitlines()[1].split(",")[2]
    edit(
        bad_service,
        f",{code},",
        ",hb_repeat_prescription," if not code.startswith("hb_") else ",la_council_tax_payment,",
    )


def _send_some_the_way_real_bodies_do(files: dict[str, bytes], periods: list[str]) -> None:
    """Valid returns in the shapes real bodies send: a council that fills in the XLSX template,
    and one whose spreadsheet exports Windows-1252 CSV with a title row, thousands separators
    and a totals row. All of them load."""
    xlsx_council, csv_council = "W06000015", "W06000011"  # Cardiff and Swansea
    for period in periods[-3:]:
        name = f"{xlsx_council}/{xlsx_council}_{period}.csv"
        if name not in files:
            continue
        lines = list(csv.reader(io.StringIO(files.pop(name).decode("utf-8"))))
        rows = [lines[0], *([int(c) if c.isdigit() else c for c in line] for line in lines[1:])]
        files[name.replace(".csv", ".xlsx")] = workbook_bytes({TEMPLATE_SHEET: rows})
    name = f"{csv_council}/{csv_council}_{periods[-1]}.csv"
    if name in files:
        lines = list(csv.reader(io.StringIO(files[name].decode("utf-8"))))
        header = [c.replace("_", " ").title() for c in lines[0]]
        total = [
            sum(int(r[i]) for r in lines[1:]) if i in (3, 4) else "" for i in range(len(header))
        ]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["Monthly digital return – Cyngor Abertawe"])
        writer.writerow(header)
        for line in lines[1:]:
            writer.writerow([f"{int(c):,}" if c.isdigit() else c for c in line])
        writer.writerow(["Total", *[f"{t:,}" if t != "" else "" for t in total[1:]]])
        files[name] = out.getvalue().encode("cp1252")


def due_date(period: str) -> date:
    """The day a month's return is due: day RETURN_DUE_DAY of the following month."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year + month // 12, month % 12 + 1, RETURN_DUE_DAY)


def file_period(name: str) -> str:
    """The month a demo file is for, from its name `<body>/<body>_<YYYY-MM>[_v2].<ext>`."""
    return re.search(r"_([0-9]{4}-[0-9]{2})(?:_v2)?\.[a-z]+$", name)[1]


def receipt_times(names: list[str], seed: str = "wales") -> dict[str, datetime]:
    """When each demo file arrived, between 08:00 and 18:00: on time, between the 1st of the
    following month and its due date; or late, one to LATEST_LATE_DAYS days after it, as often
    as the body's late share says. A resubmission arrives 2 to 10 days after its original.
    The same names and seed give the same times."""
    times: dict[str, datetime] = {}
    for name in sorted(names, key=lambda n: n.endswith("_v2" + os.path.splitext(n)[1])):
        rng = random.Random(f"{seed}:{name}:received")
        stem, suffix = os.path.splitext(name)
        if stem.endswith("_v2"):
            original = next(n for n in times if os.path.splitext(n)[0] == stem[:-3])
            day = times[original].date() + timedelta(days=rng.randint(2, 10))
        else:
            body = random.Random(f"{seed}:{name.split('/')[0]}:punctuality")
            due = due_date(file_period(name))
            if rng.random() < body.choice(LATE_SHARES):
                day = due + timedelta(days=rng.randint(1, LATEST_LATE_DAYS))
            else:
                day = due.replace(day=1) + timedelta(days=rng.randrange(RETURN_DUE_DAY))
        times[name] = datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60)))
    return dict(sorted(times.items()))


def collection_moment(received: datetime) -> datetime:
    """The first of the demo's collections at or after a file was received."""
    day = received.date()
    while True:
        moment = datetime.combine(day, COLLECTION_TIME)
        if day.day in COLLECTION_DAYS and moment >= received:
            return moment
        day += timedelta(days=1)


def _nanoseconds(moment: datetime) -> int:
    """A receipt time (UTC, as the platform records times) as a file's modification time."""
    return int(moment.replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def receive_history(
    paths: DataPaths,
    reference: Reference,
    files: Mapping[str, bytes],
    times: Mapping[str, datetime],
) -> list[str]:
    """Collect `files` with the real collection, batch by batch, each at the demo's collection
    moment after its receipt time, as the platform would have: so the warehouse records when
    each arrived. Returns the names accepted (a real collection leaves them in landing/)."""
    accepted: list[str] = []
    order = sorted(files, key=lambda name: (times[name], name))
    with writer_lock(paths.root):
        for moment, batch in groupby(order, key=lambda name: collection_moment(times[name])):
            items = []
            for name in batch:
                item = receive_landing_file(
                    paths.landing / name, paths.landing, name.split("/")[0], files[name], name
                )
                item.landing_path = None  # not in landing/ yet: nothing to move or remove
                item.landing_mtime_ns = _nanoseconds(times[name])
                items.append(item)
            accepted += collect_submissions(paths, reference, moment, items).accepted
        catch_up_receipts(paths)  # the archive's receipts, as after a run
    return accepted


def write_demo_submissions(
    paths: DataPaths,
    reference: Reference,
    *,
    received_by: datetime | None = None,
    only_last: bool = False,
    **options,
) -> int:
    """Write the demo files to landing/, each with its receipt time as its modification time.
    With `received_by`, the files received by then are collected first, at their times (see
    `receive_history`); those rejected are not left in landing/, as a real run removes them.
    With `only_last`, only the files of the last month are written: a new month's returns."""
    files = demo_submissions(reference, **options)
    if only_last:
        last = month_list(options.get("end", DEFAULT_END), 1)[0]
        files = {name: data for name, data in files.items() if file_period(name) == last}
    times = receipt_times(list(files), options.get("seed", "wales"))
    rejected: set[str] = set()
    if received_by is not None:
        earlier = {name: data for name, data in files.items() if times[name] <= received_by}
        rejected = set(earlier) - set(receive_history(paths, reference, earlier, times))
    for relative, data in files.items():
        if relative in rejected:
            continue
        target = paths.landing / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, ns=(_nanoseconds(times[relative]),) * 2)
    return len(files)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when the landing zone already holds files",
    )
    parser.add_argument("--end", default=DEFAULT_END, help="last month, YYYY-MM")
    parser.add_argument("--months", type=int, default=DEFAULT_MONTHS)
    parser.add_argument(
        "--uncollected",
        action="store_true",
        help="only write the files to landing/, for the next run to collect them all (what "
        "`make bench` measures); the warehouse then records them all as received at that run",
    )
    parser.add_argument(
        "--only-last",
        action="store_true",
        help="with --uncollected: only the last month's files (a new month, for `make bench`)",
    )
    args = parser.parse_args(argv)
    paths = DataPaths(default_data_root()).ensure()
    if args.if_empty and any(p.is_file() for p in paths.landing.rglob("*")):
        print(f"Landing zone {paths.landing} already holds files: no demo data generated.")
        return
    if args.uncollected:
        count = write_demo_submissions(
            paths, load_reference(), end=args.end, months=args.months, only_last=args.only_last
        )
        print(f"Wrote {count} demo submission files to {paths.landing}, none collected yet.")
        return
    received_by = datetime.combine(due_date(args.end), COLLECTION_TIME)
    count = write_demo_submissions(
        paths, load_reference(), received_by=received_by, end=args.end, months=args.months
    )
    print(
        f"Wrote {count} demo submission files to {paths.landing}; those received by "
        f"{received_by:%Y-%m-%d %H:%M} were collected at the times they arrived."
    )


if __name__ == "__main__":
    main()
