"""`digital-progress`: check a submission before sending it, or get the blank template.
Needs no Dagster: the same rules as the pipeline, from the same modules.

    digital-progress validate FILE... [--body CODE]
        exit 0: every file valid (warnings allowed); 1: a file has errors; 2: a file can't be read
    digital-progress template [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.collect.feedback import report, text_report
from dagster_project.collect.template import template_csv, template_xlsx
from dagster_project.collect.validate import ParsedFile, Problem, parse_submission, validate_files
from dagster_project.reference import load_reference

VALID, INVALID, UNREADABLE = 0, 1, 2


def validate_command(paths: list[Path], body: str | None) -> int:
    reference = load_reference()
    if body is not None and body not in {b["body_code"] for b in reference.bodies}:
        print(f"--body {body}: not a body code in the register", file=sys.stderr)
        return UNREADABLE
    files: list[ParsedFile] = []
    unreadable = False
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            print(
                f"{path}: cannot be read: {error.strerror or error}\n"
                f"{path}: ni ellir ei darllen: {error.strerror or error}\n"
            )
            unreadable = True
            continue
        files.append(parse_submission(str(path), data, sender=body))
    now = datetime.now(UTC)
    problems = validate_files(files, reference, now.date()) if files else {}
    has_errors = False
    for parsed in files:
        found: list[Problem] = problems[parsed.name]
        unreadable |= parsed.unreadable
        has_errors |= any(p.severity == "error" for p in found)
        if found:
            print(text_report(report(parsed, found, now.isoformat(timespec="seconds")), found))
        else:
            print(
                f"{parsed.name}: valid, {len(parsed.rows)} row(s) ready to send.\n"
                f"{parsed.name}: dilys, {len(parsed.rows)} rhes yn barod i'w hanfon.\n"
            )
    return UNREADABLE if unreadable else INVALID if has_errors else VALID


def template_command(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submission_template.csv").write_bytes(template_csv())
    (folder / "submission_template.xlsx").write_bytes(template_xlsx(load_reference()))
    print(f"Wrote {folder / 'submission_template.csv'} and {folder / 'submission_template.xlsx'}")
    return VALID


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="digital-progress", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check submission files before sending them")
    validate.add_argument("files", nargs="+", type=Path)
    validate.add_argument("--body", help="your body code: rows about another body are errors")
    template = commands.add_parser("template", help="write the blank template (CSV and XLSX)")
    template.add_argument("--out", type=Path, default=Path("."), help="folder to write into")
    arguments = parser.parse_args(argv)
    if arguments.command == "validate":
        return validate_command(arguments.files, arguments.body)
    return template_command(arguments.out)


if __name__ == "__main__":
    sys.exit(main())
