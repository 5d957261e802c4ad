"""Every rule in rules.py has its wording, in English and Welsh, in the string catalogue
(`rules.yaml`), and the catalogue has no wording for a rule that does not exist."""

import re

import pytest

from dagster_project.catalogue import LANGUAGES, catalogue, is_pair, placeholders, text
from dagster_project.collect.api import PullResult, payload_submission
from dagster_project.collect.contract import COLUMNS
from dagster_project.collect.rules import LIMITS, RULES, Problem
from dagster_project.collect.validate import parse_submission


def test_every_rule_has_its_messages_in_both_languages_and_no_message_is_orphaned():
    section = catalogue()["rules"]
    assert set(section) == set(RULES), (
        f"rules without wording: {sorted(set(RULES) - set(section))}; "
        f"wording without a rule: {sorted(set(section) - set(RULES))}"
    )
    for code, messages in section.items():
        assert set(messages) == {"expected", "fix"}, code
        for message in messages.values():
            assert is_pair(message) and all(message[lang] for lang in LANGUAGES), code


def test_a_rule_names_only_the_values_it_is_given():
    # {detail} and {value} come from the problem, the rest from the declared limits.
    allowed = {"detail", "value", *LIMITS}
    for code in RULES:
        for part in ("expected", "fix"):
            for language in LANGUAGES:
                used = placeholders(text(f"rules.{code}.{part}", language))
                assert used <= allowed, (code, part, language, used - allowed)


def test_every_contract_column_is_described_in_both_languages_and_nothing_else_is():
    assert set(catalogue()["contract"]) == {c.name for c in COLUMNS}
    periods = next(c for c in COLUMNS if c.name == "period")
    assert (periods.describe("en"), periods.describe("cy")) == (
        "Month reported, YYYY-MM",
        "Y mis yr adroddir amdano, BBBB-MM",
    )


# The platform's own descriptions of what it found, from the real readers, in Welsh too.
SHEET_OF_NOTHING = b"PK\x03\x04broken zip"
OLE = b"\xd0\xcf\x11\xe0" + b"\x00" * 600


@pytest.mark.parametrize(
    "name,data,welsh",
    [
        ("f.csv", b"body_code\x00,period\n", "cynnwys deuaidd"),
        ("f.xlsx", SHEET_OF_NOTHING, "llyfr gwaith wedi'i ddifrodi (BadZipFile)"),
        ("f.csv", "body_code,period\ncaf\u00e9,2026-01\n".encode() + b"\x81\n", "beit 0x81"),
        ("f.csv", b"a" + b",b" * 70 + b"\n", "71 cell"),
        ("f.xlsx", OLE, "llyfr gwaith .xls o'r hen fath"),
        ("notes", b"body_code\n", "(dim estyniad)"),
    ],
)
def test_what_the_reader_found_is_described_in_welsh(name, data, welsh):
    [problem] = parse_submission(name, data).problems
    assert RULES[problem.rule].described, problem.rule
    assert welsh in problem.found("cy"), (problem.value, problem.found("cy"))
    assert problem.found("en") == problem.value
    assert problem.as_dict()["value_cy"] == problem.found("cy")


@pytest.mark.parametrize(
    "payload,welsh",
    [
        (b"[]", "arae, nid gwrthrych"),
        (b'{"body_code": "W06000015"', "ar linell 1 colofn"),
        (b"{}", 'gwrthrych heb "submissions"'),
        (b"\xff{}", "beit 0xff yn safle 0"),
    ],
)
def test_what_an_api_payload_was_is_described_in_welsh(payload, welsh):
    pulled = PullResult("W06000015", "https://example.invalid/", "ok", 1, 200, "", payload)
    [problem] = payload_submission(pulled).problems
    found = problem.found("cy")
    assert welsh in found, (problem.value, found)
    assert not re.search(r"\b(an?|not|at|line|column|object|without|byte|offset)\b", found)


def test_an_internal_error_is_described_in_welsh_step_and_all():
    problem = Problem("f.csv", 0, "", "an internal error (RuntimeError) while reading the file",
                      "internal_error", "reading the file")  # fmt: skip
    assert problem.found("cy") == "gwall mewnol (RuntimeError) yn ystod y cam darllen y ffeil"
    assert problem.expected("cy").startswith(
        "ffeil y gall y casglwr ei phrosesu; methodd (darllen y ffeil)"
    )


def test_a_value_from_the_file_is_never_translated():
    # Only the platform's descriptions are: a cell that happens to read like one is quoted.
    problem = Problem("f.csv", 2, "letters_posted", "binary content", "whole_number")
    assert problem.found("cy") == "binary content"
