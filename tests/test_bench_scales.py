"""The bench's enlarged registers: every body onboarded by the scale's first month (else the
bench measures refusals, not loads: found when `uk`'s returns from 2016 were all refused as
before_onboarding), and the sizes each scale names."""

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.bench.scales import SCALES, enlarge_register

SEEDS = Path(__file__).resolve().parents[1] / "dbt" / "seeds"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_first_months_by_hand():
    assert SCALES["uk"].start == "2016-10"  # 120 months ending 2026-09
    assert SCALES["2k-bodies"].start == "2024-10"  # 24 months ending 2026-09
    assert SCALES["wales"].start == "2024-10"


@pytest.mark.parametrize("name", sorted(SCALES))
def test_every_body_is_onboarded_by_the_first_month(tmp_path, name):
    scale = SCALES[name]
    seeds = shutil.copytree(SEEDS, tmp_path / "seeds")
    enlarge_register(seeds, scale)
    bodies = _rows(seeds / "bodies.csv")
    assert all(b["onboarded"] <= scale.start for b in bodies)
    assert len(bodies) == (scale.bodies or len(_rows(SEEDS / "bodies.csv")))
    assert len({b["body_code"] for b in bodies}) == len(bodies)
    if scale.services is not None:
        per_body = Counter(link["body_code"] for link in _rows(seeds / "body_services.csv"))
        assert set(per_body.values()) == {scale.services}
