"""The methodology and the dbt docs are written from the indicator dictionary, and follow it."""

import copy
import json

from dagster_project.reference import load_reference
from dagster_project.resources import dbt_project
from exports.methodology import DBT_DOCS, dbt_docs_blocks, methodology


def test_dbt_docs_blocks_are_generated_from_the_current_dictionary():
    # `make manifest` regenerates them; this fails if the committed file has drifted.
    assert DBT_DOCS.read_text(encoding="utf-8") == dbt_docs_blocks(load_reference().indicators)


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
    assert "| Online take-up |" in english and "| 30% | 0.75 by December 2030" in english
    assert "| Defnydd ar-lein |" in welsh and "| 30% | 0.75 erbyn Rhagfyr 2030" in welsh
    assert "The threshold is **75%**" in english and "Y trothwy yw **75%**" in welsh
    assert "Known limitations" in english and "Cyfyngiadau hysbys" in welsh


def test_changing_the_dictionary_changes_the_methodology():
    indicators = copy.deepcopy(load_reference().indicators)
    take_up = next(i for i in indicators if i["indicator_code"] == "online_take_up")
    take_up.update(weight="0.40", target_value="0.80", target_year="2029")
    coverage = next(i for i in indicators if i["indicator_code"] == "coverage")
    coverage["threshold"] = "0.6"
    text = methodology(indicators, "en")
    assert "| 40% | 0.80 by December 2029" in text and "The threshold is **60%**" in text


def test_methodology_is_published_as_open_data_and_as_pages(pipeline_run):
    open_data = pipeline_run.paths.open_data
    assert (open_data / "methodology.en.md").read_text().startswith("# Digital progress")
    assert (open_data / "methodology.cy.md").read_text().startswith("# Cynnydd digidol")
    pages = pipeline_run.paths.evidence / "pages"
    assert "Sgôr Cynnydd Digidol" in (pages / "methodoleg.md").read_text()
