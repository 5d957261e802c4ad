"""The methodology and the dbt docs are written from the indicator dictionary, and follow it."""

import copy
import json
import re

from dagster_project.reference import load_reference
from dagster_project.resources import dbt_project
from exports.methodology import DBT_DOCS, dbt_docs_blocks, methodology


def _indicator(indicators, code):
    return next(i for i in indicators if i["indicator_code"] == code)


def _table_row(text, name):
    """The cells of the indicator table's row for `name`."""
    row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def _sensitivity_rows():
    """A small hand-made agreement table: three weight draws (ρ 0.9, 0.8, 0.95 → median 0.900,
    lowest 0.800) between two single variants."""

    def row(variant, group, en, cy, rho):
        return {
            "variant": variant,
            "variant_group": group,
            "description_en": en,
            "description_cy": cy,
            "spearman_rho": rho,
            "ranked_bodies": 38,
        }

    return [
        row(
            "without_online_take_up",
            "leave_one_out",
            "Online take-up left out",
            "Gadael defnydd ar-lein allan",
            0.91234,
        ),
        row("weights_01", "weights_perturbed", "Weights, draw 1", "Pwysiadau, tyniad 1", 0.9),
        row("weights_02", "weights_perturbed", "Weights, draw 2", "Pwysiadau, tyniad 2", 0.8),
        row("weights_03", "weights_perturbed", "Weights, draw 3", "Pwysiadau, tyniad 3", 0.95),
        row(
            "min_max_in_sector",
            "normalisation",
            "Min–max within the sector",
            "Isaf-uchaf o fewn y sector",
            0.7,
        ),
    ]


def test_dbt_docs_blocks_are_generated_from_the_current_dictionary():
    # `make manifest` regenerates them; this fails if the committed file has drifted.
    assert DBT_DOCS.read_text(encoding="utf-8") == dbt_docs_blocks(load_reference().indicators)


def test_dbt_docs_blocks_state_goalposts_scope_and_weight():
    docs = dbt_docs_blocks(load_reference().indicators)
    letters = docs.split("{% docs letters_per_1000 %}")[1].split("{% enddocs %}")[0]
    assert "Goalposts: 1,000 scores 0 points, 0 scores 1" in letters
    assert "Scope: the 12 months to the publication month." in letters
    assert "Smallest denominator: 100." in letters
    assert "Weight in the Digital Progress Score: 0.15." in letters
    assert "{% docs returns_received %}" in docs


def test_dbt_column_descriptions_come_from_the_dictionary():
    manifest = json.loads(dbt_project.manifest_path.read_text())
    league = manifest["nodes"]["model.digital_progress.league_table"]
    dictionary = {i["indicator_code"]: i for i in load_reference().indicators}
    description = league["columns"]["online_take_up"]["description"]
    assert dictionary["online_take_up"]["description_en"] in description
    assert "Weight in the Digital Progress Score: 0.30" in description
    assert league["config"]["contract"]["enforced"] is True


def test_methodology_states_every_indicator_weight_and_target_in_both_languages():
    indicators = load_reference().indicators
    english, welsh = methodology(indicators, "en"), methodology(indicators, "cy")
    assert "| Online take-up |" in english and "| 30% | 75% by December 2030" in english
    assert "| Defnydd ar-lein |" in welsh and "| 30% | 75% erbyn Rhagfyr 2030" in welsh
    assert "The threshold is **75%**" in english and "Y trothwy yw **75%**" in welsh
    assert "Known limitations" in english and "Cyfyngiadau hysbys" in welsh
    assert "## What changed from the previous method" in english
    assert "## Beth sydd wedi newid o'r dull blaenorol" in welsh


def test_both_languages_show_every_goalpost_and_smallest_denominator_from_the_dictionary():
    indicators = load_reference().indicators
    documents = {"en": methodology(indicators, "en"), "cy": methodology(indicators, "cy")}
    for indicator in (i for i in indicators if i["role"] == "score"):
        # rates as per cent, letters as plain numbers: 0 → "0%", 1 → "100%", 1000 → "1,000"
        if indicator["unit"] == "fraction":
            worst, best = (f"{100 * float(indicator[k]):g}%" for k in ("goal_worst", "goal_best"))
        else:
            worst, best = (f"{float(indicator[k]):,.0f}" for k in ("goal_worst", "goal_best"))
        for language, text in documents.items():
            cells = _table_row(text, indicator[f"name_{language}"])
            assert cells[5:8] == [worst, best, indicator["min_denominator"]], (language, cells)
    letters = _table_row(documents["en"], "Letters per 1,000 transactions")
    assert letters[5:8] == ["1,000", "0", "100"]
    assert _table_row(documents["cy"], "Defnydd ar-lein")[5:8] == ["0%", "100%", "100"]


def test_changing_the_dictionary_changes_the_methodology():
    indicators = copy.deepcopy(load_reference().indicators)
    take_up = _indicator(indicators, "online_take_up")
    take_up.update(weight="0.40", target_value="0.80", target_year="2029")
    _indicator(indicators, "coverage")["threshold"] = "0.6"
    text = methodology(indicators, "en")
    assert "| 40% | 80% by December 2029" in text and "The threshold is **60%**" in text
    # score example: 0.40 × 60 + 0.20 × 90 + 0.20 × 50 + 0.15 × 70 + 0.15 × 40 = 68.5 over 1.10
    assert "| Total | 1.10 | | 68.50 |" in text and "68.50 / 1.10 = **62.3**" in text
    # without contact share's 6.00: 62.50 / 1.10 = 56.8 kept, 62.50 / 0.95 = 65.8 re-scaled
    assert "62.50 / 1.10 = 56.8" in text and "62.50 / 0.95 = 65.8" in text
    # coverage example: at 60%, 90 of 150 expected service-months are needed
    assert "at least 90 of the 150 (60%)" in text


def test_changing_a_goalpost_or_smallest_denominator_changes_the_methodology():
    indicators = copy.deepcopy(load_reference().indicators)
    _indicator(indicators, "letters_per_1000")["goal_worst"] = "1200"
    _indicator(indicators, "online_take_up").update(goal_best="0.9", min_denominator="250")
    english, welsh = methodology(indicators, "en"), methodology(indicators, "cy")
    assert _table_row(english, "Letters per 1,000 transactions")[5:8] == ["1,200", "0", "100"]
    assert _table_row(welsh, "Defnydd ar-lein")[5:8] == ["0%", "90%", "250"]
    # 300 letters per 1,000: (300 − 1,200) / (0 − 1,200) = 0.75
    assert "(300 − 1,200) / (0 − 1,200) = 0.75" in english
    # take-up points: 0.75 / 0.9 = 0.8333, 0.5 / 0.9 = 0.5556;
    # (0.8333 + 0.5556 + 0 + 0) / 4 = 0.3472
    assert "(0.8333 + 0.5556 + 0 + 0) / 4 = 0.3472, published as 34.7" in english
    assert "(0.8333 + 0.5556 + 0 + 0) / 4 = 0.3472, a gyhoeddir fel 34.7" in welsh
    # at 250 transactions each is 0.4% of the total; 249 is below the smallest denominator
    assert "at 250 transactions, each transaction is 0.4% of the total" in english
    assert "a body with 249 transactions" in english and "corff â 249 o drafodion" in welsh


def test_the_sensitivity_table_summarises_the_weight_draws_by_median_and_lowest():
    indicators = load_reference().indicators
    english = methodology(indicators, "en", _sensitivity_rows())
    welsh = methodology(indicators, "cy", _sensitivity_rows())
    assert "### How far other choices agree with the published order" in english
    assert "| Online take-up left out | 0.912 | 38 |" in english
    assert "| Weights perturbed (3 draws) | median 0.900, lowest 0.800 | 38 |" in english
    assert "| Min–max within the sector | 0.700 | 38 |" in english
    assert "| Gadael defnydd ar-lein allan | 0.912 | 38 |" in welsh
    assert "| Pwysiadau wedi'u hamrywio (3 tyniad) | canolrif 0.900, isaf 0.800 | 38 |" in welsh
    # the draws appear only as their summary, and the design states how many there were
    assert "0.950" not in english and "Weights, draw 1" not in english
    assert "Weights perturbed: 3 draws" in english
    assert "sensitivity_agreement.csv" not in english


def test_an_even_number_of_draws_takes_the_mean_of_the_middle_two_as_median():
    rows = _sensitivity_rows() + [
        dict(_sensitivity_rows()[1], variant="weights_04", spearman_rho=0.85, ranked_bodies=36)
    ]
    english = methodology(load_reference().indicators, "en", rows)
    # ρ 0.8, 0.85, 0.9, 0.95: median (0.85 + 0.9) / 2 = 0.875; ranked bodies 36 to 38
    assert "| Weights perturbed (4 draws) | median 0.875, lowest 0.800 | 36–38 |" in english


def test_without_a_sensitivity_table_the_methodology_says_where_it_is_published():
    indicators = load_reference().indicators
    for language in ("en", "cy"):
        assert "`sensitivity_agreement.csv`" in methodology(indicators, language)
    assert "Weights perturbed: 50 draws" in methodology(indicators, "en")


def test_english_and_welsh_have_the_same_headings_and_table_rows():
    indicators = load_reference().indicators
    for sensitivity in (None, _sensitivity_rows()):
        english = methodology(indicators, "en", sensitivity)
        welsh = methodology(indicators, "cy", sensitivity)
        for pattern in (r"(?m)^#+ ", r"(?m)^\|"):
            assert len(re.findall(pattern, english)) == len(re.findall(pattern, welsh))
        assert [h.count("#") for h in re.findall(r"(?m)^#+", english)] == [
            h.count("#") for h in re.findall(r"(?m)^#+", welsh)
        ]


def test_the_worked_examples_add_up():
    text = methodology(load_reference().indicators, "en")
    assert "coverage = 147 / 150 = 98.0%" in text
    assert "(0.75 + 0.5 + 0 + 0) / 4 = 0.3125, published as 31.3" in text
    assert "(300 + 50) / (400 + 100) = 70.0%" in text
    assert "12 / 13 = 0.9231, 92.3 points" in text
    # 0.30 × 60 + 0.20 × 90 + 0.20 × 50 + 0.15 × 70 + 0.15 × 40 = 62.5
    assert "62.50 / 1.00 = **62.5**" in text and "56.50 / 0.85 = 66.5" in text
    # 45 of 60 bodies is 75.0%; 44 is 73.3%
    assert "(45 / 60 = 75.0%); with 44 (73.3%)" in text
    assert "re-normalised to 42.9%, 9.5%, 19.0%, 14.3%, 14.3%" in text


def test_methodology_is_published_as_open_data_and_as_pages(pipeline_run):
    open_data = pipeline_run.paths.open_data
    assert (open_data / "methodology.en.md").read_text().startswith("# Digital progress")
    assert (open_data / "methodology.cy.md").read_text().startswith("# Cynnydd digidol")
    pages = pipeline_run.paths.evidence / "pages"
    assert "Sgôr Cynnydd Digidol" in (pages / "cy" / "methodoleg.md").read_text()
