"""Deterministic demo submissions: a monthly CSV per registered body in the data contract.

Realistic shapes, not real figures: volumes scale with population, online take-up rises at a
pace of each body's own, services go online and then digital by default over time, letters fall
as digital notifications rise, demand is seasonal, a few months are missing, one body never
reports, one month is resubmitted with corrections, and a few files carry the mistakes real
returns carry (so the quarantine has something to show). The same arguments give the same bytes.

Contract v2's optional measures as bodies would report them: most bodies give some (completion
and satisfaction for a few services, cost for some, the Welsh share for online services), a few
give none, some start part way through. Digital Service Standard assessments are sparse and
quarterly: a minority of some bodies' services, 12 rows each, some reassessed later, some older
than 24 months, landing beside the returns as `<body>/assessment-<service>-<YYYY-MM-DD>.csv`.

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
# Councils where Welsh is the language of most residents: more of their online transactions are
# completed in Welsh (the demo's shares are invented, their order is not).
WELSH_SPEAKING = frozenset({"W06000001", "W06000002", "W06000008", "W06000010"})
# Cardiff fills in the XLSX template; Swansea's spreadsheet exports formatted Windows-1252 CSV.
SHOWCASE_COUNCILS_BY_SHAPE = ("W06000015", "W06000011")
SHOWCASE_COUNCILS = frozenset(SHOWCASE_COUNCILS_BY_SHAPE)
ASSESSMENT_HEADER = ("body_code", "service_code", "assessed_on", "standard", "result")
ASSESSMENT_NAME = re.compile(r"assessment-.+-([0-9]{4}-[0-9]{2})-[0-9]{2}\.csv$")
STANDARDS = 12


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


@dataclass(frozen=True)
class MeasuresPlan:
    """Which of contract v2's optional measures a body gives for a service, and at what level;
    None for a measure it does not give."""

    from_index: int  # month index from which the body reports the measures it gives
    completion: float | None  # online_started = online / completion
    satisfaction: float | None  # satisfied / responses
    response_rate: float  # responses a transaction
    cost_per_transaction: float | None  # pounds
    welsh_share: float | None  # of online transactions


def _measures_plans(
    rng: random.Random, code: str, services: list[str], months: int
) -> dict[str, MeasuresPlan]:
    """One body's plan of the optional measures: about one body in five gives none; the others
    give completion and satisfaction for a few services, cost for some, and (most of them) the
    Welsh share for their online services; some start part way through the period."""
    # The councils whose returns come as a workbook and a formatted export give measures, so
    # those readers meet them; so do the Welsh-speaking councils, Welsh share first of all.
    silent = rng.random() < 0.2 and code not in SHOWCASE_COUNCILS | WELSH_SPEAKING
    from_index = rng.choice([0, 0, 0, months // 3, months // 2])
    gives_welsh = rng.random() < 0.8 or code in WELSH_SPEAKING
    welsh_base = rng.uniform(0.12, 0.25) if code in WELSH_SPEAKING else rng.uniform(0.02, 0.09)
    plans = {}
    for service in services:

        def some(share: float) -> bool:
            return not silent and rng.random() < share

        plans[service] = MeasuresPlan(
            from_index=from_index,
            completion=rng.uniform(0.60, 0.95) if some(0.35) else None,
            satisfaction=rng.uniform(0.70, 0.95) if some(0.3) else None,
            response_rate=rng.uniform(0.02, 0.12),
            cost_per_transaction=rng.uniform(2.0, 15.0) if some(0.45) else None,
            welsh_share=welsh_base * rng.uniform(0.8, 1.2) if gives_welsh and some(1) else None,
        )
    return plans


def _add_measures(row: dict[str, str], plan: MeasuresPlan, index: int, rng: random.Random) -> None:
    """The optional measures of one row, as planned; blank (not given) otherwise. Each stays
    within its rule: started >= online, satisfied <= responses, Welsh <= online."""
    if index < plan.from_index:
        return
    total, online = int(row["transactions_total"]), int(row["transactions_online"])
    wobble = rng.uniform(0.97, 1.03)
    if plan.completion is not None and online > 0:
        row["online_started"] = str(
            max(online, round(online / min(0.99, plan.completion * wobble)))
        )
    if plan.satisfaction is not None and total > 0:
        responses = max(1, round(total * plan.response_rate))
        row["satisfaction_responses"] = str(responses)
        row["satisfied_responses"] = str(
            min(responses, round(responses * plan.satisfaction * wobble))
        )
    if plan.cost_per_transaction is not None and total > 0:
        row["cost_total"] = f"{total * plan.cost_per_transaction * wobble:.2f}"
    if plan.welsh_share is not None and online > 0:
        row["transactions_online_welsh"] = str(
            min(online, round(online * plan.welsh_share * wobble))
        )


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
        # Drawn apart, so the measures leave every v1 figure as it was.
        measures_rng = random.Random(f"{seed}:{code}:measures")
        measures = _measures_plans(measures_rng, code, list(plans), months)
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
            for service_row in rows:
                plan = measures[service_row["service_code"]]
                _add_measures(service_row, plan, index, measures_rng)
            if rows:  # a body of one service that left it out sent no return at all
                files[f"{code}/{code}_{period}.csv"] = _to_csv(rows)
    _add_resubmission_and_mistakes(files, periods)
    _send_some_the_way_real_bodies_do(files, periods)
    files.update(demo_assessments(reference, end, months, seed))
    return files


def _quarter_dates(start: date, end: date, rng: random.Random) -> list[date]:
    """A working day of the middle month of each quarter between `start` and `end`."""
    dates = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        if month % 3 == 2:
            day = date(year, month, rng.randint(3, 26))
            if start <= day <= end:
                dates.append(day - timedelta(days=max(0, day.weekday() - 4)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def demo_assessments(
    reference: Reference, end: str = DEFAULT_END, months: int = DEFAULT_MONTHS, seed: str = "wales"
) -> dict[str, bytes]:
    """Digital Service Standard assessment returns: about a third of the bodies have a few of
    their services assessed, on a quarterly cycle from 30 months before the end (or 9 before
    the period, if earlier; so some are over 24 months old by the end) to its last month; a
    service is sometimes reassessed later, usually doing better. 12 rows a file, one per
    standard."""
    first = month_list(end, max(months + 9, 30))[0]  # some expired (24 months) by the end
    start = date(int(first[:4]), int(first[5:]), 1)
    last = date(int(end[:4]), int(end[5:]), 28)
    files: dict[str, bytes] = {}
    for body in reference.bodies:
        code = body["body_code"]
        rng = random.Random(f"{seed}:{code}:assessments")
        if code == SILENT_BODY or rng.random() > 0.35:
            continue
        services = reference.services_of(code)
        slots = _quarter_dates(start, last, rng)
        for service in sorted(rng.sample(services, k=min(len(services), rng.randint(1, 3)))):
            met_share = rng.uniform(0.35, 0.85)
            when = rng.choice(slots)
            while True:
                results = []
                for _ in range(STANDARDS):
                    draw = rng.random()
                    partly = met_share + (1 - met_share) * 0.6
                    results.append(
                        "met" if draw < met_share else "partly_met" if draw < partly else "not_met"
                    )
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(ASSESSMENT_HEADER)
                writer.writerows(
                    (code, service, when.isoformat(), standard, result)
                    for standard, result in enumerate(results, start=1)
                )
                files[f"{code}/assessment-{service}-{when.isoformat()}.csv"] = (
                    out.getvalue().encode("utf-8")
                )
                later = [d for d in slots if d > when + timedelta(days=180)]
                if not later or rng.random() < 0.5:
                    break
                when, met_share = rng.choice(later[:4]), min(0.95, met_share + 0.15)
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
    xlsx_council, csv_council = SHOWCASE_COUNCILS_BY_SHAPE
    for period in periods[-3:]:
        name = f"{xlsx_council}/{xlsx_council}_{period}.csv"
        if name not in files:
            continue
        lines = list(csv.reader(io.StringIO(files.pop(name).decode("utf-8"))))
        rows = [lines[0], *([_typed_cell(c) for c in line] for line in lines[1:])]
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
            writer.writerow([_formatted_cell(c) for c in line])
        writer.writerow(["Total", *[f"{t:,}" if t != "" else "" for t in total[1:]]])
        files[name] = out.getvalue().encode("cp1252")


def _typed_cell(cell: str) -> int | float | str:
    """A cell as a spreadsheet holds it: counts as whole numbers, pounds as numbers too."""
    if cell.isdigit():
        return int(cell)
    return float(cell) if re.fullmatch(r"[0-9]+\.[0-9]{2}", cell) else cell


def _formatted_cell(cell: str) -> str:
    """A cell as a spreadsheet saves it formatted: 1,234 and £1,234.50."""
    if cell.isdigit():
        return f"{int(cell):,}"
    return f"£{float(cell):,.2f}" if re.fullmatch(r"[0-9]+\.[0-9]{2}", cell) else cell


def due_date(period: str) -> date:
    """The day a month's return is due: day RETURN_DUE_DAY of the following month."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year + month // 12, month % 12 + 1, RETURN_DUE_DAY)


def file_period(name: str) -> str:
    """The month a demo file is for, from its name `<body>/<body>_<YYYY-MM>[_v2].<ext>`, or an
    assessment's month, from `<body>/assessment-<service>-<YYYY-MM-DD>.csv`."""
    assessment = ASSESSMENT_NAME.search(name)
    if assessment:
        return assessment[1]
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
        elif ASSESSMENT_NAME.search(name):  # sent within a fortnight of the assessment
            day = date.fromisoformat(stem[-10:]) + timedelta(days=rng.randint(1, 14))
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
