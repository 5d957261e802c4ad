"""The methodology, written from the indicator dictionary: a document in English and in Welsh,
and the dbt docs blocks that describe every indicator column. Change a weight, a target or a
threshold in dbt/seeds/indicator_dictionary.csv and all of them change with it.

    python -m exports.methodology --dbt-docs   # rewrite dbt/models/_indicator_docs.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dagster_project.reference import load_reference
from exports.templating import template_environment

DBT_DOCS = Path(__file__).resolve().parents[1] / "dbt" / "models" / "_indicator_docs.md"
LANGUAGES = ("en", "cy")


def _context(indicators: list[dict]) -> dict:
    scored = [i for i in indicators if i["role"] == "score"]
    coverage = next(i for i in indicators if i["indicator_code"] == "coverage")
    return {
        "indicators": scored,
        "coverage": coverage,
        "threshold_pct": f"{float(coverage['threshold']):.0%}",
        "total_weight": sum(float(i["weight"]) for i in scored),
    }


def methodology(indicators: list[dict], language: str) -> str:
    """The methodology document (Markdown) in English ('en') or Welsh ('cy')."""
    template = template_environment().get_template(f"methodology.{language}.md.j2")
    return template.render(_context(indicators))


def dbt_docs_blocks(indicators: list[dict]) -> str:
    """One dbt docs block per indicator, for the column descriptions of the marts."""
    return (
        template_environment().get_template("dbt_indicator_docs.md.j2").render(_context(indicators))
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbt-docs", action="store_true", help=f"rewrite {DBT_DOCS}")
    arguments = parser.parse_args(argv)
    indicators = load_reference().indicators
    if arguments.dbt_docs:
        DBT_DOCS.write_text(dbt_docs_blocks(indicators), encoding="utf-8")
        print(f"Wrote {DBT_DOCS}")
    else:
        print(methodology(indicators, "en"))


if __name__ == "__main__":
    main()
