"""Plain-language reports back to the body on a submission: JSON for programs, a self-contained
HTML page and plain text for people, each in English and Welsh, every word from the string
catalogue (`reports` and `rules` sections). Every value from the submission is escaped in the
HTML; nothing in a report can run. A report lists at most MAX_PROBLEMS_LISTED problems; its
counts include the ones only counted (the `more_errors` and `more_warnings` lines).

The same problem on many rows is shown once, with its rows as runs ("rows 2–5, 8, 10–13"): the
JSON keeps every problem row by row in `problems` for programs, and the groups people read in
`groups`. Every report ends its summary with what to do next: where to send the corrected file
and by when (day `return_due_day` of the month after the month reported). A dry run (the
`digital-progress validate` command) says what *would* happen to the file."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from dagster_project.catalogue import LANGUAGES, strings, text
from dagster_project.collect.assessments import is_assessment, return_kind
from dagster_project.collect.contract import return_due_date, return_due_day
from dagster_project.collect.rules import describe, location, row_ranges, service_line
from dagster_project.collect.validate import ParsedFile, Problem, problem_counts

_ENVIRONMENT = Environment(
    loader=PackageLoader("dagster_project.collect", "templates"),
    autoescape=select_autoescape(default=True),
    keep_trailing_newline=True,
)

PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
DUE_DATES_SHOWN = 3  # a return is one month; a file of many months lists the first few

SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
MAX_NAME_BYTES = 80  # leaves room for ".report.html" and a collision suffix under NAME_MAX


def report_name(name: str, digest: str, *, hashed: bool = False) -> str:
    """The one-component file name a submission and its reports are kept under: its path with
    `/` as `__` when that is short and safe, else the first 16 hex digits of `digest` and a
    short ASCII form of the name. Either way bounded; the original name is inside the report."""
    flat = name.replace("/", "__")
    if not hashed and SAFE_NAME.fullmatch(flat) and len(flat) <= MAX_NAME_BYTES:
        return flat
    ascii_form = unicodedata.normalize("NFKD", flat).encode("ascii", "ignore").decode()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_form).strip("._") or "file"
    stem, suffix = os.path.splitext(safe)
    if len(suffix) > 8:
        stem, suffix = safe, ""
    room = MAX_NAME_BYTES - 18 - len(suffix)  # 16 hex digits and "__"
    return f"{digest[:16]}__{stem[:room]}{suffix}"


def count(what: str, number: int, language: str) -> str:
    """ "1 error", "2 errors"; in Welsh "gwallau: 2", right for any number."""
    form = "one" if number == 1 else "other"
    return text(f"reports.count.{what}.{form}", language, count=f"{number:,}")


def status_of(problems: list[Problem]) -> str:
    errors, warnings = problem_counts(problems)
    return "rejected" if errors else "accepted_with_warnings" if warnings else "accepted"


def verdicts(problems: list[Problem], *, dry_run: bool = False) -> dict[str, str]:
    """The status, and the verdict and summary in each language; a dry run says what would
    happen to the file, never that it was or was not loaded."""
    errors, warnings = problem_counts(problems)
    status = status_of(problems)
    prefix = "dry_run_" if dry_run else ""
    found: dict[str, str] = {"status": status}
    for language in LANGUAGES:
        counts = {
            "errors": count("errors", errors, language),
            "warnings": count("warnings", warnings, language),
        }
        found[f"verdict_{language}"] = text(f"reports.{prefix}verdict.{status}", language)
        found[f"summary_{language}"] = text(f"reports.{prefix}summary.{status}", language, **counts)
    return found


def due_dates(parsed: ParsedFile) -> list[dict[str, str]]:
    """Each month the file reports (well-formed ones only) and the day its return is due; none
    for an assessment return, which is sent after each assessment, not monthly."""
    if is_assessment(parsed):
        return []
    periods = sorted({row["period"] for row in parsed.rows if PERIOD.fullmatch(row["period"])})
    return [{"period": p, "due": return_due_date(p).isoformat()} for p in periods]


def what_next(
    status: str,
    body: str | None,
    due: list[dict[str, str]],
    language: str,
    *,
    dry_run: bool,
    assessment: bool = False,
) -> str:
    """ "What next: ..." where to send the whole corrected file (landing/<body>/ or the API)
    and by when; an assessment return goes to landing/<body>/ and has no due date."""
    folder = f"landing/{body}/" if body else text("reports.your_folder", language)
    if assessment:
        key = f"reports.{'dry_run_' if dry_run else ''}assessment_next.{status}"
        return f"{text('reports.what_next', language)}: {text(key, language, folder=folder)}"
    day = return_due_day()
    if due:
        dates = "; ".join(
            text("reports.due_date", language, date=d["due"], period=d["period"])
            for d in due[:DUE_DATES_SHOWN]
        )
        if len(due) > DUE_DATES_SHOWN:
            dates += " " + text("reports.and_more", language, count=len(due) - DUE_DATES_SHOWN)
        when = text("reports.due", language, dates=dates, day=day)
    else:
        when = text("reports.due_unknown", language, day=day)
    prefix = "dry_run_" if dry_run else ""
    step = text(f"reports.{prefix}next.{status}", language, folder=folder, due=when)
    return f"{text('reports.what_next', language)}: {step}"


@dataclass(frozen=True)
class ProblemGroup:
    """The same problem (rule, column, value found, what was expected) on one or more rows."""

    problem: Problem  # the first of them
    rows: tuple[int, ...]  # distinct, ascending; (0,) for the whole file
    service_codes: tuple[str, ...]  # the rows' service codes, distinct, in row order
    count: int  # problems in the group

    def where(self, language: str) -> str:
        return location(self.rows, self.problem.column, language)

    def rows_label(self, language: str) -> str:
        """The rows alone, for a table cell: "2–5, 8" or "whole file"."""
        rows = [row for row in self.rows if row]
        return row_ranges(rows) if rows else text("reports.whole_file", language)

    def describe(self, language: str) -> str:
        return describe(self.problem, self.rows, language)

    def as_dict(self) -> dict[str, object]:
        detail = self.problem.as_dict()
        del detail["row"], detail["service_code"]
        return {
            "rows": list(self.rows),
            "rows_text": row_ranges(self.rows),
            "count": self.count,
            "service_codes": list(self.service_codes),
            **detail,
        }


def group_problems(problems: list[Problem]) -> list[ProblemGroup]:
    """Problems that differ only in their row (and the row's service code) as one group each,
    in the order their first problem comes; whole-file problems never merge with row ones."""
    grouped: dict[Problem, list[Problem]] = {}
    for problem in problems:
        key = dataclasses.replace(problem, row=min(problem.row, 1), service_code="")
        grouped.setdefault(key, []).append(problem)
    return [
        ProblemGroup(
            members[0],
            tuple(sorted({p.row for p in members})),
            tuple(dict.fromkeys(p.service_code for p in members if p.service_code)),
            len(members),
        )
        for members in grouped.values()
    ]


def report(
    parsed: ParsedFile,
    problems: list[Problem],
    received_at: str,
    *,
    dry_run: bool = False,
    body: str | None = None,
) -> dict:
    """The report as data: the JSON written, and what the text and HTML reports say. `body` is
    the body the file is from (default: its sender), named in where to resend it."""
    content = {
        "file": parsed.name,
        "content_hash": parsed.content_hash,
        "sender": parsed.sender,
        "received_at": received_at,
        "dry_run": dry_run,
        "return_kind": return_kind(parsed),
        **verdicts(problems, dry_run=dry_run),
        **dict(zip(("errors", "warnings"), problem_counts(problems), strict=True)),
        "due": due_dates(parsed),
    }
    body = body or parsed.sender
    for language in LANGUAGES:
        content[f"next_{language}"] = what_next(
            content["status"],
            body,
            content["due"],
            language,
            dry_run=dry_run,
            assessment=is_assessment(parsed),
        )
    content["groups"] = [group.as_dict() for group in group_problems(problems)]
    content["problems"] = [p.as_dict() for p in problems]
    return content


def _heading(content: dict, language: str) -> str:
    key = "reports.dry_run_heading" if content.get("dry_run") else "reports.heading"
    return text(key, language, file=content["file"], verdict=content[f"verdict_{language}"])


def text_report(content: dict, problems: list[Problem]) -> str:
    """The report as plain text: English, then Welsh; repeated problems once, with their rows."""
    groups = group_problems(problems)
    lines: list[str] = []
    for language in LANGUAGES:
        words = strings(language, "reports")
        lines += [
            f"{_heading(content, language)}.",
            content[f"summary_{language}"],
            content[f"next_{language}"],
            "",
        ]
        for group in groups:
            severity = words["severity"][group.problem.severity]
            lines.append(f"[{severity}] {group.describe(language)}")
            services = service_line(group.service_codes, language)
            if services:
                lines.append(f"    {services}")
            lines.append(f"    {words['how_to_fix']}: {group.problem.fix(language)}")
        lines.append("")
    return "\n".join(lines)


def html_sections(content: dict, problems: list[Problem]) -> list[dict]:
    """One section a language for the HTML page: its words, and one table row a group."""
    groups = group_problems(problems)
    sections = []
    for language in LANGUAGES:
        words = strings(language, "reports")
        rows = [
            {
                "severity": group.problem.severity,
                "severity_label": words["severity"][group.problem.severity],
                "rows": group.rows_label(language),
                "column": group.problem.column,
                "service_codes": ", ".join(group.service_codes),
                "value": group.problem.found(language),
                "expected": group.problem.expected(language),
                "fix": group.problem.fix(language),
            }
            for group in groups
        ]
        sections.append(
            {
                "lang": language,
                "words": words,
                "heading": _heading(content, language),
                "summary": content[f"summary_{language}"],
                "next": content[f"next_{language}"],
                "received": text("reports.received", language, received_at=content["received_at"]),
                "groups": rows,
            }
        )
    return sections


def write_reports(
    target: Path, parsed: ParsedFile, problems: list[Problem], received_at: str
) -> list[Path]:
    """Write `<target>.report.json`, `.report.html` and `.report.txt`."""
    content = report(parsed, problems, received_at)
    paths = [target.with_name(target.name + f".report.{kind}") for kind in ("json", "html", "txt")]
    paths[0].write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(html_report(content, problems), encoding="utf-8")
    paths[2].write_text(text_report(content, problems), encoding="utf-8")
    return paths


def html_report(content: dict, problems: list[Problem]) -> str:
    """The report as one self-contained HTML page, English then Welsh (lang="cy")."""
    template = _ENVIRONMENT.get_template("report.html.j2")
    return template.render(**content, sections=html_sections(content, problems))
