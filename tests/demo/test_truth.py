"""The planted truth: computed without generating calls, consistent, separated, and JSON-serialisable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anju.demo import build_district, build_plan, truth
from anju.demo.model import FAMILY_SHARE, LEAF_MIX, LEAVES, LOCATION, LOSS
from anju.demo.texts import TEMPLATES, amount_phrase
from anju.taxonomy import load_mapping, load_taxonomy


def test_model_tables_match_the_taxonomy() -> None:
    tax = load_taxonomy()
    generated = set(LEAVES)
    assert generated == set(tax.codes()) - {"other.unknown"}  # every leaf but the fallback is generated
    assert set(FAMILY_SHARE) == set(tax.families)
    assert sum(FAMILY_SHARE.values()) == pytest.approx(1.0)
    for fam, mix in LEAF_MIX.items():
        assert sum(mix.values()) == pytest.approx(1.0), fam
    assert set(LOCATION) == generated and set(TEMPLATES) == generated
    assert set(LOSS) <= generated
    # every generated leaf label maps back to its code through the shipped cn110 mapping
    mapping = load_mapping("cn110", taxonomy=tax)
    codes, known = mapping.map([tax.families[c.split(".")[0]].zh for c in LEAVES], [tax[c].zh for c in LEAVES])
    assert known.all() and list(codes) == list(LEAVES)


@pytest.mark.parametrize("seed", [42, 7, 2024])
def test_planted_sets_are_separated(seed: int) -> None:
    d = build_district(seed)
    plan = build_plan(d, end_year=2025)
    theft = [c for c in plan.leaves if c.startswith("theft.")]
    y24 = [i for i, (y, _) in enumerate(plan.months) if y == 2024]
    h2 = [i for i, (y, m) in enumerate(plan.months) if y == 2025 and m > 6]
    counts = plan.community_expected(theft, y24)
    order = np.argsort(-counts)
    assert set(order[:10]) == set(plan.supervised)
    assert counts[order[10]] <= 0.85 * counts[order[9]] + 1e-9
    hh = d.communities.attrs["households"]
    rate = plan.community_expected(["theft.burglary", "theft.nonmotor", "theft.parcel"], h2) / hh
    r_order = np.argsort(-rate)
    assert set(r_order[:5]) == set(plan.hot)
    assert rate[r_order[5]] * 1.5 <= rate[r_order[4]] * (1 + 1e-9)
    assert not set(plan.hot) & set(plan.supervised)


def test_truth_contents() -> None:
    t = truth(42, 1.0, end_year=2025)
    json.dumps(t)  # JSON-able
    assert t["periods"] == {"release": "2025H2", "comparison": "2024H2", "supervision_base": "2024",
                            "first": "2023-01-01", "last": "2025-12-31"}
    assert 1.34e6 < t["expected_rows"] < 1.40e6  # ≈ 450k a year; 7.5× gives 10M+
    assert t["expected_rows"] * 7.5 > 10e6
    assert all(0.47 < v < 0.53 for v in t["dispute_share_by_year"].values())
    sup = t["supervised"]
    assert len(sup["community_ids"]) == 10 and sup["expected_change_release_vs_comparison"] < -0.4
    # regression to the mean: without supervision the listed set would fall by itself (persistent level × trend
    # against a base year inflated by transient shocks and spikes), less than its planted raw fall
    assert sup["true_effect"] == 0.75 and set(sup["listed_on_a_spike"]) <= set(sup["community_ids"])
    assert sup["expected_change_year"] < sup["expected_change_without_intervention_year"] < -0.15
    assert sup["expected_change_others_release_vs_comparison"] > -0.15
    assert t["fraud"]["costliest_by_mean"] == t["fraud"]["costliest_by_total"] == "fraud.investment"
    assert t["fraud"]["most_common"] == "fraud.rebate"
    assert t["nightlife"]["drunk_dispute_peak_hours"] == [22, 23]
    assert set(t["nightlife"]["main_community_ids"]) <= set(t["nightlife"]["community_ids"])
    assert len(t["fraud_hot"]["community_ids"]) == 3
    assert sorted(t["fraud_hot"]["ranking_top3_release"]) == t["fraud_hot"]["community_ids"]
    assert t == truth(42, 1.0, end_year=2025)  # deterministic
    assert truth(43, 1.0, end_year=2025)["supervised"]["community_ids"] != sup["community_ids"]


@pytest.mark.parametrize(("value", "style", "text"), [
    (12800, 0, "12800元"), (12800, 1, "12,800元"), (12800, 2, "人民币12800元"), (30000, 3, "3万元"),
    (25000, 3, "2.5万元"), (12300, 3, "1.23万"), (5300, 4, "五千余元"), (31000, 4, "三万余元"), (5000, 4, "5000元"), (2000, 5, "约2000元"),
    (30000, 6, "三万元"), (800, 6, "八百元"), (2999.5, 0, "2999.5元"), (151000, 4, "15万余元"), (150000, 4, "150000元"),
    (2100, 4, "两千余元"), (20000, 6, "两万元"), (12000, 6, "12000元"), (120000, 6, "十二万元"),
])
def test_amount_phrases(value: float, style: int, text: str) -> None:
    assert amount_phrase(value, style) == text
