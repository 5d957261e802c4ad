"""`digital-progress`: check a submission, get the blank template, rebuild the warehouse.
Needs no Dagster: the same rules as the pipeline, from the same modules; `rebuild` brings a
damaged or lost warehouse's raw tables back from the archive.

    digital-progress validate FILE... [--body CODE]
        exit 0: every file valid (warnings allowed); 1: a file has errors; 2: a file can't be read
    digital-progress template [--out DIR]
    digital-progress rebuild [--data DIR]
        exit 0: raw rebuilt (then run the pipeline again); 2: the archive cannot give it back
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
from dagster_project.settings import DATA_ROOT_ENV, DataPaths, default_data_root
from dagster_project.warehouse import RebuildError, rebuild_raw

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
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild the warehouse's raw tables from archive/ (damaged or deleted warehouse)",
    )
    rebuild.add_argument(
        "--data", type=Path, help=f"the data root (default: ${DATA_ROOT_ENV}, else ./data)"
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "validate":
        return validate_command(arguments.files, arguments.body)
    if arguments.command == "rebuild":
        return rebuild_command(arguments.data)
    return template_command(arguments.out)


if __name__ == "__main__":
    sys.exit(main())
