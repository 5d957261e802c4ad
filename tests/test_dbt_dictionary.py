"""The indicator dictionary is the one source of the list of indicators: the dbt files derived
from it (dagster_project/transform/dictionary.py) are current, and the league table's Great
Expectations suite writes its per-indicator expectations from it."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import yaml

from dagster_project.reference import load_reference
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.transform.dictionary import (
    COMMAND,
    generated_files,
    indicator_codes_macro,
    marts_yml,
)
from expectations.runner import expand_suite, load_suite_definition

PUBLISHED = [
    "online_take_up",
    "online_availability",
    "digital_by_default_rate",
    "letters_per_1000",
    "digital_contact_share",
    "completion_rate",
    "user_satisfaction",
    "cost_per_transaction",
    "welsh_language_share",
    "standards_met",
]


def test_the_generated_dbt_files_follow_the_dictionary():
    for path, text in generated_files().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `{COMMAND}`"


def test_the_published_indicators_are_the_dictionarys_score_and_reported_rows_in_order():
    macro = (DBT_PROJECT_DIR / "macros" / "indicator_codes.sql").read_text(encoding="utf-8")
    assert re.findall(r"'([a-z_0-9]+)'", macro.split("return(")[1]) == PUBLISHED
    roles = {i["indicator_code"]: i["role"] for i in load_reference().indicators}
    assert {roles[c] for c in PUBLISHED[5:]} == {"reported"}
    assert {c for c, r in roles.items() if r == "quality"} == {"coverage", "returns_received"}


def _contract_columns(model: str) -> list[str]:
    marts = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "_marts.yml").read_text())
    entry = next(m for m in marts["models"] if m["name"] == model)
    return [c["name"] for c in entry["columns"]]


def test_every_wide_contract_has_each_published_indicator():
    league = _contract_columns("league_table")
    for code in PUBLISHED:
        for suffix in ("", "_points", "_pace", "_direction", "_target_status", "_status"):
            assert league.count(code + suffix) == 1, code + suffix
        assert code in _contract_columns("indicators_headline")
        assert code in _contract_columns("indicators_monthly")


def _fixture_dictionary(extra_code: str) -> list[dict[str, str]]:
    """The real dictionary plus one indicator of role reported, as a user would add it."""
    rows = [dict(r) for r in load_reference().indicators]
    new = {**rows[0], "indicator_code": extra_code, "role": "reported", "weight": "0"}
    new["unit"] = "pounds per transaction"
    return [*rows, new]


def test_a_new_dictionary_row_reaches_the_macro_and_every_contract():
    indicators = _fixture_dictionary("paper_forms_share")
    macro = indicator_codes_macro(indicators)
    assert re.findall(r"'([a-z_0-9]+)'", macro.split("return(")[1]) == [
        *PUBLISHED,
        "paper_forms_share",
    ]
    text = (DBT_PROJECT_DIR / "models" / "marts" / "_marts.yml").read_text(encoding="utf-8")
    written = yaml.safe_load(marts_yml(text, indicators))
    by_model = {m["name"]: [c["name"] for c in m["columns"]] for m in written["models"]}
    for model in ("indicators_monthly", "indicators_headline", "league_table"):
        assert "paper_forms_share" in by_model[model]
    assert "paper_forms_share_target_status" in by_model["league_table"]
    # a unit other than a fraction is only held at 0 and above
    monthly = next(m for m in written["models"] if m["name"] == "indicators_monthly")
    column = next(c for c in monthly["columns"] if c["name"] == "paper_forms_share")
    assert column["data_tests"] == [
        {"value_between": {"arguments": {"min_value": 0, "max_value": 1000000}}}
    ]


def test_an_unknown_block_kind_is_refused():
    with pytest.raises(ValueError, match="unknown indicator column block"):
        marts_yml(
            "  # >>> indicator columns: colour\n  # <<< indicator columns\n",
            load_reference().indicators,
        )


def test_the_league_table_suite_writes_its_indicator_expectations_from_the_dictionary():
    definition = load_suite_definition("league_table")
    typed = [c for c in PUBLISHED if c in json.dumps(definition)]
    assert typed == [], "the suite names indicators: they belong to the dictionary"
    indicators = load_reference().published_indicators()
    suite = expand_suite(definition, indicators)
    [columns] = [
        e["kwargs"]["column_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_table_columns_to_match_set"
    ]
    for code in PUBLISHED:
        assert {code, f"{code}_points", f"{code}_status"} <= set(columns)
    by_column = {}
    for e in suite["expectations"]:
        by_column.setdefault(e["kwargs"].get("column"), []).append(e)
    # fractions in [0, 1]; pounds and letters at least 0; reported indicators have no points
    assert by_column["completion_rate"][0]["kwargs"] == {
        "column": "completion_rate",
        "min_value": 0,
        "max_value": 1,
    }
    assert by_column["cost_per_transaction"][0]["kwargs"] == {
        "column": "cost_per_transaction",
        "min_value": 0,
    }
    assert [e["type"] for e in by_column["standards_met_points"]] == [
        "expect_column_values_to_be_null"
    ]
    assert [e["type"] for e in by_column["online_take_up_points"]] == [
        "expect_column_values_to_be_between"
    ]
    with pytest.raises(ValueError, match="needs the published indicators"):
        expand_suite(definition, None)


def test_the_dictionary_is_well_formed_for_every_published_indicator():
    """What the models need of each row: a formula, goalposts, a smallest denominator and a
    scope; role reported has no weight; a target needs its baseline."""
    text = (DBT_PROJECT_DIR / "seeds" / "indicator_dictionary.csv").read_text(encoding="utf-8")
    formulas = (DBT_PROJECT_DIR / "macros" / "indicator_formulas.sql").read_text()
    for row in csv.DictReader(io.StringIO(text)):
        if row["role"] not in ("score", "reported"):
            continue
        code = row["indicator_code"]
        assert f"'{code}': {{" in formulas, code
        assert row["goal_worst"] and row["goal_best"] and row["min_denominator"], code
        assert row["scope"] in ("window", "month"), code
        assert row["name_cy"] and row["description_cy"], code
        if row["role"] == "reported":
            assert float(row["weight"] or 0) == 0, code
        if row["target_value"]:
            assert row["baseline_value"] and row["baseline_period"] and row["target_year"], code
