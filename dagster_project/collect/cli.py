"""`digital-progress`: check a submission, get the blank template, rebuild the warehouse.
Needs no Dagster: the same rules as the pipeline, from the same modules; `rebuild` brings a
damaged or lost warehouse's raw tables back from the archive.

    digital-progress validate FILE... [--body CODE]
        exit 0: every file valid (warnings allowed); 1: a file has errors; 2: a file can't be read
        (the same when its output is cut short: `... | head -1` ends quietly)
    digital-progress template [--out DIR] [--body CODE | --sector SECTOR] [--assessment]
    digital-progress rebuild [--data DIR]
        exit 0: raw rebuilt (then run the pipeline again); 2: the archive cannot give it back
"""

from __future__ import annotations

import argparse
import difflib
import errno
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.catalogue import LANGUAGES, text
from dagster_project.collect import assessments
from dagster_project.collect.feedback import count, report, text_report
from dagster_project.collect.template import template_csv, template_xlsx
from dagster_project.collect.validate import ParsedFile, Problem, parse_submission, validate_files
from dagster_project.reference import load_reference
from dagster_project.settings import DATA_ROOT_ENV, DataPaths, default_data_root
from dagster_project.warehouse import RebuildError, rebuild_raw

VALID, INVALID, UNREADABLE = 0, 1, 2
# The catalogue's words for the operating system's errors a body meets when naming a file.
OS_ERRORS = {
    errno.ENOENT: "not_found",
    errno.ENOTDIR: "not_found",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.EISDIR: "is_a_folder",
}


def os_error_reason(error: OSError, language: str) -> str:
    """Why a file cannot be opened, in the catalogue's words: never the OS's English message."""
    key = OS_ERRORS.get(error.errno or 0, "other")
    code = errno.errorcode.get(error.errno or 0, type(error).__name__)
    return text(f"cli.os_error.{key}", language, code=code)


def both_languages(key: str, **values: object) -> str:
    return "\n".join(text(key, language, **values) for language in LANGUAGES)


def stdout_closed() -> None:
    """The reader of our output has gone (`... | head -1`): write nothing more, and point
    stdout at /dev/null so the interpreter's last flush at exit cannot fail with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def emit(blocks: list[str]) -> None:
    """Print each block; stop quietly when stdout is a pipe whose reader has gone."""
    try:
        for block in blocks:
            print(block)
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_closed()


def body_of(parsed: ParsedFile, registered: set[str]) -> str | None:
    """The body a file is about, when every row names the same registered body."""
    named = {row["body_code"] for row in parsed.rows}
    return next(iter(named)) if len(named) == 1 and named <= registered else None


def refuse_unknown(option: str, code: str, known: set[str]) -> int:
    """A --body or --sector that is not in the register, with the nearest codes that are."""
    nearest = difflib.get_close_matches(code, sorted(known), n=3, cutoff=0.6)
    for language in LANGUAGES:
        line = text(f"cli.unknown_{option}", language, **{option: code})
        if nearest:
            line += " " + text("cli.nearest_codes", language, codes=", ".join(nearest))
        print(line, file=sys.stderr)
    return UNREADABLE


def validate_command(paths: list[Path], body: str | None) -> int:
    """Check each file as the pipeline would, without loading it; print what would happen."""
    reference = load_reference()
    registered = {b["body_code"] for b in reference.bodies}
    if body is not None and body not in registered:
        return refuse_unknown("body", body, registered)
    blocks: list[str] = []
    files: list[ParsedFile] = []
    unreadable = False
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            reasons = {language: os_error_reason(error, language) for language in LANGUAGES}
            blocks.append(
                "\n".join(
                    text("cli.cannot_read", language, file=str(path), reason=reasons[language])
                    for language in LANGUAGES
                )
                + "\n"
            )
            unreadable = True
            continue
        files.append(parse_submission(str(path), data, sender=body))
    moment = datetime.now(UTC)
    now = moment.isoformat(timespec="seconds")
    problems = validate_files(files, reference, moment.date()) if files else {}
    has_errors = False
    for parsed in files:
        found: list[Problem] = problems[parsed.name]
        unreadable |= parsed.unreadable
        has_errors |= any(p.severity == "error" for p in found)
        content = report(parsed, found, now, dry_run=True, body=body or body_of(parsed, registered))
        if found:
            blocks.append(text_report(content, found))
            continue
        lines = []
        for language in LANGUAGES:
            rows = count("rows", len(parsed.rows), language)
            lines += [
                text("cli.valid", language, file=parsed.name, rows=rows),
                content[f"next_{language}"],
            ]
        blocks.append("\n".join(lines) + "\n")
    emit(blocks)
    return UNREADABLE if unreadable else INVALID if has_errors else VALID


def template_command(
    folder: Path, body: str | None = None, sector: str | None = None, assessment: bool = False
) -> int:
    """Write the monthly return's template, or with `assessment` the assessment return's."""
    reference = load_reference()
    if body is not None and body not in (known := {b["body_code"] for b in reference.bodies}):
        return refuse_unknown("body", body, known)
    if sector is not None and sector not in (known := set(reference.sector_names("en"))):
        return refuse_unknown("sector", sector, known)
    if assessment:
        stem, csv_bytes = "assessment_template", assessments.template_csv(reference, body)
        workbook = assessments.template_xlsx(reference, body=body, sector=sector)
    else:
        stem, csv_bytes = "submission_template", template_csv()
        workbook = template_xlsx(reference, body=body, sector=sector)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    csv_path.write_bytes(csv_bytes)
    xlsx_path.write_bytes(workbook)
    emit([both_languages("cli.template_written", csv=csv_path, xlsx=xlsx_path)])
    return VALID


def rebuild_command(root: Path | None) -> int:
    paths = DataPaths(root.expanduser().resolve() if root else default_data_root())
    print(f"Rebuilding raw in {paths.warehouse} from {paths.archive} ...")
    try:
        rebuilt = rebuild_raw(paths)
    except RebuildError as error:
        print(f"Cannot rebuild: {error}", file=sys.stderr)
        return UNREADABLE
    print(
        f"Rebuilt raw from {rebuilt.files} receipt(s) in {rebuilt.batches} batch(es): "
        f"{rebuilt.accepted} file(s) accepted, {rebuilt.rows} row(s)."
    )
    if rebuilt.kept is not None:
        print(f"The file it replaced is kept as {rebuilt.kept}.")
    print(
        "raw.collection_attempts (the log of API pulls) is not in the archive: it starts empty.\n"
        "Now run the pipeline (make run) to rebuild the models and the publications."
    )
    return VALID


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="digital-progress", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check submission files before sending them")
    validate.add_argument("files", nargs="+", type=Path)
    validate.add_argument("--body", help="your body code: rows about another body are errors")
    template = commands.add_parser("template", help="write the blank template (CSV and XLSX)")
    template.add_argument("--out", type=Path, default=Path("."), help="folder to write into")
    scope = template.add_mutually_exclusive_group()
    scope.add_argument("--body", help="your body code: drop-downs offer it and its services")
    scope.add_argument("--sector", help="a sector code: drop-downs offer its bodies and services")
    template.add_argument(
        "--assessment",
        action="store_true",
        help="the Digital Service Standard assessment return's template instead",
    )
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild the warehouse's raw tables from archive/ (damaged or deleted warehouse)",
    )
    rebuild.add_argument(
        "--data", type=Path, help=f"the data root (default: ${DATA_ROOT_ENV}, else ./data)"
    )
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "validate":
            return validate_command(arguments.files, arguments.body)
        if arguments.command == "rebuild":
            return rebuild_command(arguments.data)
        return template_command(
            arguments.out, arguments.body, arguments.sector, arguments.assessment
        )
    except BrokenPipeError:  # a print outside `emit`, e.g. rebuild's progress lines
        stdout_closed()
        return INVALID


if __name__ == "__main__":
    sys.exit(main())
