"""The league table equals an independent recomputation, in plain Python, straight from the
landing files of the demo data: the pipeline's SQL and this arithmetic must agree for every body."""

import csv
import io
from collections import defaultdict
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
        {k: v.replace(",", "") for k, v in r.items()} for r in rows if r["body_code"] != "Total"
    ]


def recompute(landing: Path, expected: dict[str, set[str]]) -> dict[str, dict]:
    """Headline indicators from the accepted landing files; later files supersede earlier ones.
    Only the services a body is expected to deliver count; the yes/no flags are shares of all
    of them, a service not reported counting as "no"."""
    latest: dict[tuple, dict] = {}
    for path in sorted(landing.rglob("*.*")):  # load order: sorted relative path
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
        }
    return out


def test_league_table_equals_recomputation_from_landing(demo_run, reference):
    services = {
        b["body_code"]: set(reference.services_of(b["body_code"])) for b in reference.bodies
    }
    expected = recompute(demo_run.landing, services)
    rows = list(csv.DictReader((demo_run.open_data / "league_table.csv").open(encoding="utf-8")))
    assert len(rows) == len(reference.bodies)
    compared = 0
    for row in rows:
        want = expected.get(row["body_code"])
        for indicator in (
            "online_take_up",
            "online_availability",
            "digital_by_default_rate",
            "letters_per_1000",
            "digital_contact_share",
        ):
            if want is None or want[indicator] is None:
                assert row[indicator] == "", (row["body_code"], indicator)
                continue
            places = 1 if indicator == "letters_per_1000" else 4
            assert row[indicator] == f"{want[indicator]:.{places}f}", (row["body_code"], indicator)
            compared += 1
    assert compared > 150  # 41 reporting bodies x 5 indicators, less months with no return


def test_quarantined_files_are_out_of_landing_with_reports(demo_run):
    quarantined = sorted(p.name for p in demo_run.quarantine.glob("*.csv"))
    assert len(quarantined) == 3
    for name in quarantined:
        assert (demo_run.quarantine / f"{name}.report.txt").read_text().startswith("Submission ")
