"""The methodology, written from the indicator dictionary: a document in English and in Welsh,
and the dbt docs blocks that describe every indicator column. Change a weight, a target, a
goalpost or a threshold in dbt/seeds/indicator_dictionary.csv and all of them change with it:
the worked examples are computed here from the dictionary's rows, so their arithmetic follows.

    python -m exports.methodology --dbt-docs   # rewrite dbt/models/_indicator_docs.md
"""

from __future__ import annotations

import argparse
import math
import statistics
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from dagster_project.reference import load_reference
from exports.templating import template_environment

DBT_DOCS = Path(__file__).resolve().parents[1] / "dbt" / "models" / "_indicator_docs.md"
DBT_PROJECT = DBT_DOCS.parents[1] / "dbt_project.yml"


def _dbt_vars() -> dict:
    """The vars of the dbt project: the sensitivity analysis's design is stated there, once."""
    import yaml

    return yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))["vars"]


# The design of the sensitivity analysis, as the dbt models run it (int_score_variants). When a
# release's agreement table is given, the number of draws is read from it instead.
_VARS = _dbt_vars()
WEIGHT_DRAWS = int(_VARS["sensitivity_weight_draws"])
WEIGHT_FACTOR_RANGE = (
    1 - float(_VARS["sensitivity_weight_spread"]),
    1 + float(_VARS["sensitivity_weight_spread"]),
)
RANK_RANGE_PERCENTILES = tuple(round(100 * q) for q in _VARS["rank_range_percentiles"])
PERTURBED_GROUP = "weights_perturbed"

# Made-up inputs of the worked examples; every figure derived from them is computed below.
EXAMPLE_POINTS = (60.0, 90.0, 50.0, 70.0, 40.0)  # score example, by dictionary order
EXAMPLE_FACTORS = (1.5, 0.5, 1.0, 1.0, 1.0)  # one weight-perturbation draw
EXAMPLE_BODIES_EXPECTED = 60  # bodies expected to report a month
EXAMPLE_EXPECTED_SERVICE_MONTHS = 150  # 12 services x 12 months + 1 service x 6 months


def _plain(value: float) -> str:
    """A number as a reader writes it: thousands separated, no trailing zeros (1,000; 0.75)."""
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def _percent(fraction: float, decimals: int | None = None) -> str:
    if decimals is None:
        return _plain(100 * fraction) + "%"
    return f"{100 * fraction:.{decimals}f}%"


def _goalpost(value: str, unit: str) -> str:
    """A goalpost in the indicator's unit: rates as per cent (0%, 100%), counts as numbers."""
    return _percent(float(value)) if unit == "fraction" else _plain(float(value))


def _optional_goalpost(value: str, unit: str) -> str | None:
    """A target or baseline the dictionary may leave empty (a measure reported, not scored)."""
    return _goalpost(value, unit) if value not in ("", None) else None


def _one_decimal(value: float) -> str:
    """A score as the warehouse publishes it: one decimal, halves away from zero (31.25 -> 31.3),
    as DuckDB's round() does, not Python's round-half-even."""
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _points(value: float, worst: float, best: float) -> float:
    """Points between the goalposts, kept within 0–1 (the same rule the dbt models apply)."""
    return min(1.0, max(0.0, (value - worst) / (best - worst)))


def _goalposts(indicator: dict) -> tuple[float, float]:
    return float(indicator["goal_worst"]), float(indicator["goal_best"])


def _coverage_example(coverage: dict) -> dict:
    expected = EXAMPLE_EXPECTED_SERVICE_MONTHS
    reported = 12 * 12 + 3
    threshold = float(coverage["threshold"])
    return {
        "expected": expected,
        "reported": reported,
        "coverage": _percent(reported / expected, 1),
        # round() first: 0.1 x 30 is 3.0000000000000004 in floating point, and needs 3, not 4
        "needed": max(1, math.ceil(round(threshold * expected, 9))),
    }


def _take_up_example(take_up: dict) -> dict:
    """Four expected service-months: 300/400, 50/100, not reported, reported with 0 transactions."""
    worst, best = _goalposts(take_up)
    points_a, points_b = _points(300 / 400, worst, best), _points(50 / 100, worst, best)
    mean = (points_a + points_b + 0 + 0) / 4
    minimum = int(take_up["min_denominator"])
    return {
        "worst": _plain(worst),
        "best": _plain(best),
        "points_a": _plain(round(points_a, 4)),
        "points_b": _plain(round(points_b, 4)),
        "mean": f"{mean:.4f}",
        "mean_published": _one_decimal(100 * mean),
        "value": _percent(350 / 500, 1),
        "headline_points": f"{100 * _points(350 / 500, worst, best):.1f}",
        "min_denominator": minimum,
        "below": minimum - 1,
        "one_transaction_pct": _plain(round(100 / minimum, 2)),
    }


def _letters_example(letters: dict) -> dict:
    """A service-month at 300 letters per 1,000 transactions, and one beyond the worst goalpost."""
    worst, best = _goalposts(letters)
    beyond = worst + (worst - best) / 2
    return {
        "worst": _plain(worst),
        "best": _plain(best),
        "points": _plain(round(_points(300, worst, best), 4)),
        "beyond_rate": _plain(beyond),
        "beyond_letters": _plain(beyond * 400 / 1000),
    }


def _availability_example(availability: dict) -> dict:
    """The council of the method spec: 13 services delivered, 12 reported, all 12 online."""
    worst, best = _goalposts(availability)
    yes, no = _points(1, worst, best), _points(0, worst, best)
    return {
        "yes": _plain(round(yes, 4)),
        "no": _plain(round(no, 4)),
        "left_out": f"{100 * (12 * yes + 0) / 13:.1f}",
        "reported_no": f"{100 * (12 * yes + no) / 13:.1f}",
        "reported_yes": f"{100 * (13 * yes) / 13:.1f}",
        "fraction": f"{(12 * yes + 0) / 13:.4f}",
        "previous": f"{100 * (12 * yes) / 12:.1f}",
    }


def _score_example(scored: list[dict]) -> dict:
    """Made-up points for each score indicator, the weighted score, and what happens when the
    indicator with the fewest points has none: kept weight (now) against re-scaled (before)."""
    rows = []
    for position, indicator in enumerate(scored):
        weight = float(indicator["weight"])
        points = EXAMPLE_POINTS[position % len(EXAMPLE_POINTS)]
        rows.append({"indicator": indicator, "weight": weight, "points": points})
    total_weight = sum(r["weight"] for r in rows)
    total = sum(r["weight"] * r["points"] for r in rows)
    missing = min(rows, key=lambda r: r["points"])
    remaining = total - missing["weight"] * missing["points"]
    remaining_weight = total_weight - missing["weight"]
    return {
        "rows": [
            {
                "indicator": r["indicator"],
                "weight": f"{r['weight']:.2f}",
                "points": f"{r['points']:.1f}",
                "product": f"{r['weight'] * r['points']:.2f}",
            }
            for r in rows
        ],
        "total_weight": f"{total_weight:.2f}",
        "sum": f"{total:.2f}",
        "score": f"{total / total_weight:.1f}",
        "missing": missing["indicator"],
        "missing_points": f"{missing['points']:.1f}",
        "remaining": f"{remaining:.2f}",
        "remaining_weight": f"{remaining_weight:.2f}",
        "kept": f"{remaining / total_weight:.1f}",
        "rescaled": f"{remaining / remaining_weight:.1f}",
    }


def _perturbation_example(scored: list[dict]) -> dict:
    weights = [float(i["weight"]) for i in scored]
    factors = [EXAMPLE_FACTORS[n % len(EXAMPLE_FACTORS)] for n in range(len(weights))]
    drawn = [w * f for w, f in zip(weights, factors, strict=True)]
    return {
        "factors": ", ".join(_plain(f) for f in factors),
        "weights": ", ".join(_percent(w) for w in weights),
        "drawn": ", ".join(_percent(round(d, 6)) for d in drawn),
        "drawn_total": _percent(round(sum(drawn), 6)),
        "renormalised": ", ".join(_percent(d / sum(drawn), 1) for d in drawn),
    }


def _returns_example(returns: dict) -> dict:
    expected = EXAMPLE_BODIES_EXPECTED
    needed = max(1, math.ceil(round(float(returns["threshold"]) * expected, 9)))
    return {
        "expected": expected,
        "needed": needed,
        "needed_pct": _percent(needed / expected, 1),
        "short": needed - 1,
        "short_pct": _percent((needed - 1) / expected, 1),
    }


def _sensitivity_rows(sensitivity: list[dict]) -> list[dict]:
    """One row per variant, in the order given, except that the weight-perturbation draws are
    summarised in one row (median and lowest ρ, number of draws) where the first draw stands."""
    rows: list[dict] = []
    draws = [v for v in sensitivity if v["variant_group"] == PERTURBED_GROUP]
    for variant in sensitivity:
        if variant["variant_group"] != PERTURBED_GROUP:
            rows.append(
                {
                    "group": False,
                    "description_en": variant["description_en"],
                    "description_cy": variant["description_cy"],
                    "rho": f"{float(variant['spearman_rho']):.3f}",
                    "ranked_bodies": str(int(variant["ranked_bodies"])),
                }
            )
        elif variant is draws[0]:
            rhos = [float(d["spearman_rho"]) for d in draws]
            bodies = sorted({int(d["ranked_bodies"]) for d in draws})
            rows.append(
                {
                    "group": True,
                    "draws": len(draws),
                    "median": f"{statistics.median(rhos):.3f}",
                    "lowest": f"{min(rhos):.3f}",
                    "ranked_bodies": (
                        str(bodies[0]) if len(bodies) == 1 else f"{bodies[0]}–{bodies[-1]}"
                    ),
                }
            )
    return rows


def _standard_groups(standards: list[dict]) -> list[dict]:
    """The standards by group, in their numbered order, for the methodology's table."""
    groups: dict[str, dict] = {}
    for s in sorted(standards, key=lambda s: int(s["standard"])):
        group = groups.setdefault(s["group_code"], {**s, "standards": []})
        group["standards"].append(s)
    return list(groups.values())


def _context(
    indicators: list[dict],
    sensitivity: list[dict] | None = None,
    standards: list[dict] | None = None,
) -> dict:
    by_code = {i["indicator_code"]: i for i in indicators}
    scored = [
        dict(
            i,
            goal_worst_text=_goalpost(i["goal_worst"], i["unit"]),
            goal_best_text=_goalpost(i["goal_best"], i["unit"]),
            target_text=_goalpost(i["target_value"], i["unit"]),
            baseline_text=_goalpost(i["baseline_value"], i["unit"]),
        )
        for i in indicators
        if i["role"] == "score"
    ]
    named = {i["indicator_code"]: i for i in scored}
    # Published and benchmarked beside the score, never in it: a body that does not report one
    # has no value (never 0), and its score is as if the measure did not exist.
    reported = [
        dict(
            i,
            target_text=_optional_goalpost(i["target_value"], i["unit"]),
            baseline_text=_optional_goalpost(i["baseline_value"], i["unit"]),
            given_text=_percent(float(i["threshold"])) if i["threshold"] else "–",
        )
        for i in indicators
        if i["role"] == "reported"
    ]
    coverage = by_code["coverage"]
    returns = by_code["returns_received"]
    draws = (
        sum(1 for v in sensitivity if v["variant_group"] == PERTURBED_GROUP)
        if sensitivity
        else WEIGHT_DRAWS
    )
    return {
        "indicators": scored,
        "named": named,
        "coverage": coverage,
        "returns": returns,
        "quality": [i for i in indicators if i["role"] == "quality"],
        "reported": reported,
        "standards": standards if standards is not None else load_reference().standards,
        "standard_groups": _standard_groups(
            standards if standards is not None else load_reference().standards
        ),
        "threshold_pct": _percent(float(coverage["threshold"])),
        "returns_pct": _percent(float(returns["threshold"])),
        "total_weight": sum(float(i["weight"]) for i in scored),
        "examples": {
            "coverage": _coverage_example(coverage),
            "take_up": _take_up_example(named["online_take_up"]),
            "letters": _letters_example(named["letters_per_1000"]),
            "availability": _availability_example(named["online_availability"]),
            "score": _score_example(scored),
            "perturbation": _perturbation_example(scored),
            "returns": _returns_example(returns),
        },
        "design": {
            "draws": draws,
            "factor_low": _plain(WEIGHT_FACTOR_RANGE[0]),
            "factor_high": _plain(WEIGHT_FACTOR_RANGE[1]),
            "low_percentile": RANK_RANGE_PERCENTILES[0],
            "high_percentile": RANK_RANGE_PERCENTILES[1],
        },
        "sensitivity": _sensitivity_rows(sensitivity) if sensitivity else None,
    }


def methodology(
    indicators: list[dict],
    language: str,
    sensitivity: list[dict] | None = None,
    standards: list[dict] | None = None,
) -> str:
    """The methodology document (Markdown) in English ('en') or Welsh ('cy'). `sensitivity`:
    the release's agreement rows (marts.sensitivity_agreement) to show as a table; None says
    where the table is published instead."""
    template = template_environment().get_template(f"methodology.{language}.md.j2")
    return template.render(_context(indicators, sensitivity, standards))


def dbt_docs_blocks(indicators: list[dict]) -> str:
    """One dbt docs block per indicator, for the column descriptions of the marts."""
    return (
        template_environment().get_template("dbt_indicator_docs.md.j2").render(_context(indicators))
    )


def write_dbt_docs(project_dir: Path = DBT_DOCS.parents[1]) -> Path:
    """Rewrite the docs blocks of the dbt project at `project_dir` from its own dictionary."""
    docs = project_dir / DBT_DOCS.relative_to(DBT_DOCS.parents[1])
    indicators = load_reference(project_dir / "seeds").indicators
    docs.write_text(dbt_docs_blocks(indicators), encoding="utf-8")
    return docs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbt-docs", action="store_true", help=f"rewrite {DBT_DOCS}")
    arguments = parser.parse_args(argv)
    if arguments.dbt_docs:
        print(f"Wrote {write_dbt_docs()}")
    else:
        print(methodology(load_reference().indicators, "en"))


if __name__ == "__main__":
    main()
