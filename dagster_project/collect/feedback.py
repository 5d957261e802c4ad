"""Plain-language reports back to the body on a submission: JSON for programs, a self-contained
HTML page and plain text for people, each in English and Welsh. Every value from the submission
is escaped in the HTML; nothing in a report can run. A report lists at most MAX_PROBLEMS_LISTED
problems; its counts include the ones only counted (the `more_errors` and `more_warnings` lines)."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from dagster_project.collect.validate import ParsedFile, Problem, problem_counts

_ENVIRONMENT = Environment(
    loader=PackageLoader("dagster_project.collect", "templates"),
    autoescape=select_autoescape(default=True),
    keep_trailing_newline=True,
)

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


def verdicts(problems: list[Problem]) -> dict[str, str]:
    errors, warnings = problem_counts(problems)
    if errors:
        return {
            "status": "rejected",
            "verdict_en": "not loaded",
            "verdict_cy": "heb ei llwytho",
            "summary_en": f"{errors:,} error(s) and {warnings:,} warning(s) found. Nothing from "
            "this file is loaded: fix every error below and send the whole file again.",
            "summary_cy": f"Canfuwyd {errors:,} gwall a {warnings:,} rhybudd. Ni lwythir dim o'r "
            "ffeil hon: cywirwch bob gwall isod ac anfonwch y ffeil gyfan eto.",
        }
    return {
        "status": "accepted_with_warnings" if warnings else "accepted",
        "verdict_en": "loaded" + (" with warnings" if warnings else ""),
        "verdict_cy": "wedi'i llwytho" + (" gyda rhybuddion" if warnings else ""),
        "summary_en": f"The file was loaded. {warnings:,} warning(s): check each figure below and "
        "resubmit the month if one is wrong.",
        "summary_cy": f"Llwythwyd y ffeil. {warnings:,} rhybudd: gwiriwch bob ffigur isod ac "
        "ailgyflwynwch y mis os oes un yn anghywir.",
    }


def report(parsed: ParsedFile, problems: list[Problem], received_at: str) -> dict:
    """The report as data: the JSON written, and the context of the HTML page."""
    return {
        "file": parsed.name,
        "content_hash": parsed.content_hash,
        "sender": parsed.sender,
        "received_at": received_at,
        **verdicts(problems),
        **dict(zip(("errors", "warnings"), problem_counts(problems), strict=True)),
        "problems": [p.as_dict() for p in problems],
    }


def text_report(content: dict, problems: list[Problem]) -> str:
    lines = [
        f"Submission {content['file']}: {content['verdict_en']}.",
        content["summary_en"],
        "",
        *(f"[{p.severity}] {p.describe('en')}\n    How to fix: {p.fix_en}" for p in problems),
        "",
        f"Cyflwyniad {content['file']}: {content['verdict_cy']}.",
        content["summary_cy"],
        "",
        *(
            f"[{'gwall' if p.severity == 'error' else 'rhybudd'}] {p.describe('cy')}\n"
            f"    Sut i'w gywiro: {p.fix_cy}"
            for p in problems
        ),
    ]
    return "\n".join(lines) + "\n"


def write_reports(
    target: Path, parsed: ParsedFile, problems: list[Problem], received_at: str
) -> list[Path]:
    """Write `<target>.report.json`, `.report.html` and `.report.txt`."""
    content = report(parsed, problems, received_at)
    paths = [target.with_name(target.name + f".report.{kind}") for kind in ("json", "html", "txt")]
    paths[0].write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html = _ENVIRONMENT.get_template("report.html.j2").render(**content)
    paths[1].write_text(html, encoding="utf-8")
    paths[2].write_text(text_report(content, problems), encoding="utf-8")
    return paths
