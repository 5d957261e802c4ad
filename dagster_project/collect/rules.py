"""Every rule a submission is checked against: its code, whether it rejects the file (error) or
loads it with a flag (warning), and whether breaking it means the file could not be read at all.
What the body sees when it breaks one (what was expected, how to fix it, in English and Welsh)
is in the string catalogue, keyed by the rule's code (`dagster_project/catalogue/rules.yaml`);
the pipeline, the CLI and the reports all read it from there. Beside the rules, `Problem`: one
breach of a rule, located for the body to fix."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from dagster_project.catalogue import strings, text
from dagster_project.collect.contract import COLUMNS
from dagster_project.collect.read import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_PROBLEMS_LISTED,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    MAX_WORKBOOK_PART_BYTES,
    MAX_WORKBOOK_TEXT_CHARS,
)
from dagster_project.reference import load_reference

ERROR, WARNING = "error", "warning"

# The declared limits a rule's wording may name, rendered once ({max_rows} etc. in rules.yaml).
LIMITS = {
    "max_rows": f"{MAX_ROWS:,}",
    "max_columns": f"{MAX_COLUMNS}",
    "max_cell_chars": f"{MAX_CELL_CHARS:,}",
    "max_listed": f"{MAX_PROBLEMS_LISTED}",
    "max_unpacked_bytes": f"{MAX_UNPACKED_BYTES:,}",
    "max_part_bytes": f"{MAX_WORKBOOK_PART_BYTES:,}",
    "max_text_chars": f"{MAX_WORKBOOK_TEXT_CHARS:,}",
    "template_columns": f"{len(COLUMNS)}",
}


class _Unfilled(dict):
    """Leaves a placeholder the caller did not fill as it is, e.g. {detail} in a rule's wording."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Rule:
    """A rule's facts; its wording is `rules.<code>.expected` and `.fix` in the catalogue."""

    code: str
    severity: str
    unreadable: bool = False  # the file could not be read at all
    # What was found is the platform's description (e.g. "binary content", "12 cells"), not a
    # value from the file: the Welsh side shows it in Welsh (found_in).
    described: bool = False

    def expected(self, language: str, **values: object) -> str:
        """What was expected, with the limits filled in and {detail}/{value} from `values`."""
        template = text(f"rules.{self.code}.expected", language)
        return template.format_map(_Unfilled(LIMITS, **values))

    def fix(self, language: str) -> str:
        return text(f"rules.{self.code}.fix", language)


# Rules whose detail is a sector code (from the register): reports show the sector's name.
NAMES_A_SECTOR = frozenset({"known_service"})


@cache
def _sector_names(language: str) -> dict[str, str]:
    return load_reference().sector_names(language)


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        # The file as a whole
        Rule("file_too_large", ERROR, unreadable=True, described=True),
        Rule("empty_file", ERROR, unreadable=True),
        Rule("encoding", ERROR, unreadable=True, described=True),
        Rule("not_a_regular_file", ERROR, unreadable=True, described=True),
        Rule("internal_error", ERROR, unreadable=True, described=True),
        Rule("not_a_spreadsheet", ERROR, unreadable=True, described=True),
        Rule("password_protected", ERROR, unreadable=True, described=True),
        Rule("unclosed_quote", ERROR, unreadable=True),
        Rule("workbook_too_large", ERROR, unreadable=True, described=True),
        Rule("too_many_rows", ERROR, unreadable=True, described=True),
        Rule("too_many_columns", ERROR, unreadable=True, described=True),
        Rule("cell_too_long", ERROR, unreadable=True, described=True),
        Rule("malformed_json", ERROR, unreadable=True, described=True),
        Rule("unknown_sender", ERROR, described=True),
        # The header
        Rule("missing_column", ERROR),
        Rule("unknown_column", ERROR),
        Rule("duplicate_column", ERROR),
        Rule("money_unit", ERROR),
        Rule("no_rows", ERROR, described=True),
        # A row
        Rule("row_length", ERROR, described=True),
        Rule("required", ERROR),
        Rule("whole_number", ERROR),
        Rule("too_large", ERROR),
        Rule("yes_no", ERROR),
        Rule("period_format", ERROR),
        Rule("period_future", ERROR),
        Rule("before_onboarding", ERROR),
        Rule("known_body", ERROR),
        Rule("wrong_body", ERROR),
        Rule("one_body_per_file", ERROR),
        Rule("known_service", ERROR),
        Rule("online_not_above_total", ERROR),
        Rule("channels_add_up", ERROR),
        Rule("duplicate_row", ERROR),
        # Warnings: the file loads, flagged
        Rule("channels_exceed_total", WARNING),
        # The optional measures of contract v2 (errors, kept together here)
        Rule("money", ERROR),
        Rule("started_not_below_online", ERROR),
        Rule("satisfied_needs_responses", ERROR),
        Rule("satisfied_not_above_responses", ERROR),
        Rule("welsh_not_above_online", ERROR),
        Rule("volume_outlier", WARNING),
        # The list of problems itself, capped per file
        Rule("more_errors", ERROR),
        Rule("more_warnings", WARNING),
        Rule("totals_row_ignored", WARNING),
        # An assessment return (collect/assessments.py); the rules above that mean the same
        # (known_body, wrong_body, known_service, required, the header's) apply to it too.
        Rule("assessed_on_format", ERROR),
        Rule("assessed_on_future", ERROR),
        Rule("assessed_on_too_early", ERROR),
        Rule("standard_number", ERROR),
        Rule("assessment_result", ERROR),
        Rule("duplicate_standard", ERROR),
        Rule("standards_incomplete", ERROR),
        Rule("assessed_service_delivered", ERROR),
    )
}


# What each {name} of a found_values phrase may match; any other name matches any text.
_FOUND_PARTS = {
    "count": r"[0-9][0-9,]*",
    "size": r"[0-9][0-9,]*",
    "offset": r"[0-9]+",
    "line": r"[0-9]+",
    "col": r"[0-9]+",
    "byte": r"0x[0-9a-f]{2}",
    "error": r"[A-Za-z_][A-Za-z0-9_]*",
    "column": r"[A-Z]{1,3}",
}


@cache
def _found_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each English phrase of `reports.found_values` as a pattern capturing its {names}."""
    patterns = []
    for key, english in strings("en", "reports")["found_values"].items():
        regex = ""
        for literal, name, _, _ in string.Formatter().parse(english):
            regex += re.escape(literal)
            if name:
                regex += f"(?P<{name}>{_FOUND_PARTS.get(name, '.+?')})"
        patterns.append((re.compile(regex), key))
    return tuple(patterns)


def found_in(described: str, language: str) -> str:
    """The platform's own description of what it found ("12 cells", "a symbolic link") in
    `language`: the English as written, or its phrase in `reports.found_values`, its parts
    translated in turn. A description with no phrase there is kept as it is."""
    if language == "en" or not described:
        return described
    for pattern, key in _found_patterns():
        match = pattern.fullmatch(described)
        if match:
            parts = {name: found_in(part, language) for name, part in match.groupdict().items()}
            return text(f"reports.found_values.{key}", language, **parts)
    return described


def row_ranges(rows: Iterable[int]) -> str:
    """Row numbers as runs of consecutive rows: [2, 3, 4, 5, 8, 10, 11] -> "2–5, 8, 10–11"."""
    ordered = sorted(set(rows))
    runs: list[list[int]] = []
    for row in ordered:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in runs)


def location(rows: Iterable[int], column: str, language: str) -> str:
    """Where a problem is, in `language`: "rows 2–5, 8, column 'period'", or "whole file"."""
    rows = sorted({row for row in rows if row})
    if not rows:
        return text("reports.whole_file", language)
    form = "one" if len(rows) == 1 else "other"
    where = text(f"reports.row.{form}", language, rows=row_ranges(rows))
    if column:
        where += ", " + text("reports.column", language, column=column)
    return where


def service_line(service_codes: Iterable[str], language: str, shown: int = 5) -> str:
    """ "Service code: la_parking_permit", or the first `shown` codes and how many more."""
    codes = list(dict.fromkeys(code for code in service_codes if code))
    if not codes:
        return ""
    listed = ", ".join(repr(code) for code in codes[:shown])
    if len(codes) > shown:
        listed += " " + text("reports.and_more", language, count=len(codes) - shown)
    form = "one" if len(codes) == 1 else "other"
    return text(f"reports.service_line.{form}", language, services=listed)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a submission, located well enough for the body to fix it."""

    file: str
    row: int  # the row number the body sees (header = 1); 0 for the whole file
    column: str
    value: str
    rule: str
    detail: str = ""  # fills the rule's {detail}, e.g. the total online was compared with
    service_code: str = ""  # the row's service_code as written, "" for the whole file
    # An unknown service code: the codes it most resembles, nearest first, and the codes the
    # body may use when they are few enough to list (validate.service_suggestions).
    nearest: tuple[str, ...] = ()
    valid: tuple[str, ...] = ()

    @property
    def severity(self) -> str:
        return RULES[self.rule].severity

    def expected(self, language: str) -> str:
        """What was expected, in `language`; for an unknown service code, the likely ones."""
        detail = found_in(self.detail, language)
        if self.rule in NAMES_A_SECTOR:  # the sector's name, never its code
            detail = _sector_names(language).get(self.detail, self.detail)
        said = RULES[self.rule].expected(language, detail=detail, value=self.value)
        if self.nearest:
            said += ". " + text("reports.nearest_services", language, codes=_quoted(self.nearest))
        if self.valid:
            said += " " if self.nearest else ". "
            said += text("reports.valid_services", language, codes=_quoted(self.valid))
        return said

    def fix(self, language: str) -> str:
        return RULES[self.rule].fix(language)

    def found(self, language: str) -> str:
        """The value found, as written in the file; or, where it is the platform's description
        of what it found, that description in `language`."""
        return found_in(self.value, language) if RULES[self.rule].described else self.value

    def describe(self, language: str = "en") -> str:
        """One line: file, where, what was found, what was expected, the rule."""
        return describe(self, [self.row], language)

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "service_code": self.service_code,
            "value": self.value,
            **({"value_cy": self.found("cy")} if self.found("cy") != self.value else {}),
            "rule": self.rule,
            "severity": self.severity,
            "expected_en": self.expected("en"),
            "expected_cy": self.expected("cy"),
            "fix_en": self.fix("en"),
            "fix_cy": self.fix("cy"),
            **({"nearest": list(self.nearest)} if self.nearest else {}),
            **({"valid": list(self.valid)} if self.valid else {}),
        }


def _quoted(codes: Iterable[str]) -> str:
    return ", ".join(f"'{code}'" for code in codes)


def describe(problem: Problem, rows: Iterable[int], language: str) -> str:
    """`problem` found on `rows` as one line in `language`; the value is quoted as found."""
    found = (
        text("reports.found", language, value=repr(problem.found(language)))
        if problem.value
        else text("reports.found_nothing", language)
    )
    return text(
        "reports.problem",
        language,
        file=problem.file,
        where=location(rows, problem.column, language),
        found=found,
        expected=problem.expected(language),
        rule=problem.rule,
    )
