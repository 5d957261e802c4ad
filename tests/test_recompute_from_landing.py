"""The league table equals an independent recomputation, in plain Python, straight from the
landing files of the demo data: the pipeline's SQL and this arithmetic must agree for every body,
for the scored indicators, the optional measures of contract v2 and the Digital Service Standards
met (from the assessment returns)."""

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from dagster_project.collect.demo_data import month_list
from tests.conftest import DEMO_END as END


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a demo file, read without the platform's code: XLSX through openpyxl; CSV
    in UTF-8 or Windows-1252, after any title row, without thousands separators or totals."""
    if path.suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True).active
        lines = [
            ["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)
        ]
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        lines = list(csv.reader(io.StringIO(text)))
    start = next(i for i, line in enumerate(lines) if "body" in ",".join(line).lower())
    header = [c.strip().lower().replace(" ", "_") for c in lines[start]]
    rows = [dict(zip(header, line, strict=True)) for line in lines[start + 1 :]]
    return [
        {k: v.replace(",", "").replace("£", "").strip() for k, v in r.items()}
        for r in rows
        if r["body_code"] != "Total"
    ]


def is_assessment(path: Path) -> bool:
    return path.name.startswith("assessment-")


# The optional measures: (numerator, denominator, the column that says the row gives it).
MEASURES = {
    "completion_rate": ("transactions_online", "online_started", "online_started"),
    "user_satisfaction": ("satisfied_responses", "satisfaction_responses", "satisfied_responses"),
    "cost_per_transaction": ("cost_total", "transactions_total", "cost_total"),
    "welsh_language_share": (
        "transactions_online_welsh",
        "transactions_online",
        "transactions_online_welsh",
    ),
}


def recompute(landing: Path, expected: dict[str, set[str]]) -> dict[str, dict]:
    """Headline indicators from the accepted landing files; later files supersede earlier ones.
    Only the services a body is expected to deliver count; the yes/no flags are shares of all
    of them, a service not reported counting as "no"."""
    latest: dict[tuple, dict] = {}
    for path in sorted(landing.rglob("*.*")):  # load order: sorted relative path
        if is_assessment(path):
            continue
        for row in read_rows(path):
            latest[(row["body_code"], row["service_code"], row["period"])] = row
    window = set(month_list(END, 12))
    sums: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for (body, service, period), row in latest.items():
        if service not in expected[body]:
            continue
        if period in window:
            for column in (
                "transactions_total",
                "transactions_online",
                "letters_posted",
                "digital_notifications",
            ):
                sums[body][column] += int(row[column])
            # missing is not zero: a row that does not give a measure counts in neither part
            for code, (numerator, denominator, given) in MEASURES.items():
                if row.get(given, "").lower() not in ("", "n/a", "na"):
                    if row.get(denominator, "").lower() in ("", "n/a", "na"):
                        continue  # satisfied without responses is refused; never reached
                    sums[body][f"{code}_num"] += Decimal(row[numerator])
                    sums[body][f"{code}_den"] += Decimal(row[denominator])
                    sums[body][f"{code}_given"] += 1
        if period == END:
            sums[body]["reported"] += 1
            sums[body]["available"] += row["available_online"] == "yes"
            sums[body]["default"] += row["digital_by_default"] == "yes"

    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    out = {}
    for body, s in sums.items():
        # a month without any return has no flags at all, not "none online"
        delivered = len(expected[body]) if s["reported"] else 0
        out[body] = {
            "online_take_up": ratio(s["transactions_online"], s["transactions_total"]),
            "online_availability": ratio(s["available"], delivered),
            "digital_by_default_rate": ratio(s["default"], delivered),
            "letters_per_1000": ratio(1000 * s["letters_posted"], s["transactions_total"]),
            "digital_contact_share": ratio(
                s["digital_notifications"], s["digital_notifications"] + s["letters_posted"]
            ),
            **{
                code: ratio(float(s[f"{code}_num"]), float(s[f"{code}_den"]))
                if s[f"{code}_given"]
                else None
                for code in MEASURES
            },
        }
    return out


def month_end(period: str) -> date:
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date.fromordinal(date(year, month, 1).toordinal() - 1)


def standards_met(landing: Path, expected: dict[str, set[str]]) -> dict[str, float | None]:
    """Share of the 12 standards met over each expected service's current assessment at the end
    of the publication month: its latest assessment on or before that day and less than 24
    months old; a later file of the same service and date supersedes; partly met is not met."""
    end = month_end(END)
    expiry = date(end.year - 2, end.month, end.day)  # 24 months before the month end
    versions: dict[tuple, list[dict]] = {}
    for path in sorted(landing.rglob("assessment-*")):  # load order: sorted relative path
        rows = read_rows(path)
        key = (rows[0]["body_code"], rows[0]["service_code"], rows[0]["assessed_on"])
        versions[key] = rows
    latest: dict[tuple, tuple[str, list[dict]]] = {}
    for (body, service, assessed_on), rows in sorted(versions.items()):
        if service in expected[body] and expiry < date.fromisoformat(assessed_on) <= end:
            latest[(body, service)] = (assessed_on, rows)  # sorted: the latest date wins
    met: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (body, _), (_, rows) in latest.items():
        met[body][0] += sum(r["result"].strip().lower() == "met" for r in rows)
        met[body][1] += 12
    return {body: m / n for body, (m, n) in met.items()}


def test_league_table_equals_recomputation_from_landing(demo_run, reference):
    services = {
        b["body_code"]: set(reference.services_of(b["body_code"])) for b in reference.bodies
    }
    expected = recompute(demo_run.landing, services)
    for body, share in standards_met(demo_run.landing, services).items():
        expected.setdefault(body, {})["standards_met"] = share
    # every published indicator, at its published precision, from the dictionary
    decimals = {
        i["indicator_code"]: int(i["decimals"])
        for i in reference.indicators
        if i["role"] in ("score", "reported")
    }
    # an indicator added to the dictionary needs its own recomputation here
    assert set(decimals) == {*next(iter(expected.values())), "standards_met"}
    rows = list(csv.DictReader((demo_run.open_data / "league_table.csv").open(encoding="utf-8")))
    assert len(rows) == len(reference.bodies)
    compared: dict[str, int] = defaultdict(int)
    for row in rows:
        want = expected.get(row["body_code"], {})
        for indicator, places in decimals.items():
            if want.get(indicator) is None:
                assert row[indicator] == "", (row["body_code"], indicator)
                continue
            assert row[indicator] == f"{want[indicator]:.{places}f}", (row["body_code"], indicator)
            compared[indicator] += 1
    # 41 reporting bodies, less months with no return; the optional measures from the bodies
    # that give them (31 of 41 give some), the standards from the 17 bodies with assessments
    assert compared["online_take_up"] > 30 and compared["letters_per_1000"] > 30
    assert all(compared[i] > 5 for i in decimals), dict(compared)


def test_quarantined_files_are_out_of_landing_with_reports(demo_run):
    quarantined = sorted(p.name for p in demo_run.quarantine.glob("*.csv"))
    assert len(quarantined) == 3
    for name in quarantined:
        assert (demo_run.quarantine / f"{name}.report.txt").read_text().startswith("Submission ")
