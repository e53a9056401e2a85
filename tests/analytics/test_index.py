"""The safety index: bounds, ordering, monotonicity (property test), configuration."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from analytics_synth import lake_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.analytics import index_from_counts, safety_index, score_ratio
from anju.deployment.loaders import load_index_config
from anju.errors import ConfigError
from shipped import INDEX, TAX

CODES = list(TAX.categories)
SEV = np.array([TAX[c].severity for c in CODES])
PREV = np.array([TAX[c].preventable for c in CODES])
SEVERE = [i for i, c in enumerate(CODES) if TAX[c].severity >= 3.0]


def test_score_ratio_is_decreasing() -> None:
    r = np.linspace(0, 10, 200)
    s = score_ratio(r)
    assert s[0] == 100 and np.all(np.diff(s) < 0)
    assert score_ratio([1.5])[0] == pytest.approx(50)


@st.composite
def districts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    n_areas = draw(st.integers(2, 8))
    cats = draw(st.lists(st.integers(0, len(CODES) - 1), min_size=1, max_size=6, unique=True))
    cats = sorted(set(cats) | {SEVERE[0]})
    cur = np.zeros((n_areas, len(CODES)))
    prev = np.zeros((n_areas, len(CODES)))
    for c in cats:
        cur[:, c] = draw(st.lists(st.integers(0, 60), min_size=n_areas, max_size=n_areas))
        prev[:, c] = draw(st.lists(st.integers(0, 60), min_size=n_areas, max_size=n_areas))
    pop = np.array(draw(st.lists(st.integers(20, 20000), min_size=n_areas, max_size=n_areas)), float)
    area = draw(st.integers(0, n_areas - 1))
    severe = draw(st.sampled_from(SEVERE))
    return cur, prev, pop, area, severe


@settings(max_examples=250, deadline=None)
@given(districts())
def test_adding_a_severe_incident_never_raises_the_index(d: tuple) -> None:
    cur, prev, pop, area, severe = d
    before = index_from_counts(cur, prev, pop, severity=SEV, preventable=PREV, days=184, days_prev=184)
    more = cur.copy()
    more[area, severe] += 1
    after = index_from_counts(more, prev, pop, severity=SEV, preventable=PREV, days=184, days_prev=184)
    assert after["index"].iloc[area] <= before["index"].iloc[area] + 1e-9
    for col in ("score_rate", "score_preventable", "score_trend"):
        assert after[col].iloc[area] <= before[col].iloc[area] + 1e-9
    assert ((after["index"] >= 0) & (after["index"] <= 100)).all()


def test_index_orders_by_harm_and_trend() -> None:
    pop = np.full(6, 5000.0)
    j = CODES.index("theft.burglary")
    cur = np.zeros((6, len(CODES)))
    prev = np.zeros((6, len(CODES)))
    cur[:, j] = [5, 10, 20, 40, 80, 160]
    prev[:, j] = [5, 10, 20, 40, 80, 160]
    out = index_from_counts(cur, prev, pop, severity=SEV, preventable=PREV)
    assert out["index"].is_monotonic_decreasing and out["index"].iloc[0] > out["index"].iloc[-1] + 30
    assert out["trend_ratio"].to_numpy() == pytest.approx(1.0)
    # same counts, but a community that halved scores higher on trend
    prev2 = prev.copy()
    prev2[2, j] = 40
    out2 = index_from_counts(cur, prev2, pop, severity=SEV, preventable=PREV)
    assert out2.loc[2, "score_trend"] > out.loc[2, "score_trend"]
    assert out2.loc[2, "index"] > out.loc[2, "index"]
    # severity matters: the same count of consultations (severity 0) changes nothing
    k = CODES.index("other.consult")
    cur3 = cur.copy()
    cur3[0, k] = 500
    out3 = index_from_counts(cur3, prev, pop, severity=SEV, preventable=PREV)
    assert out3.loc[0, "index"] == pytest.approx(out.loc[0, "index"])


def test_grades_and_small_population() -> None:
    cur = np.zeros((3, len(CODES)))
    cur[:, 0] = [1, 50, 3]
    out = index_from_counts(cur, cur, np.array([5000.0, 5000.0, 0.0]), severity=SEV, preventable=PREV)
    assert np.isnan(out.loc[2, "index"]) and pd.isna(out.loc[2, "grade"])
    cfg = load_index_config()
    for _, r in out.iloc[:2].iterrows():
        g = next(g for g in cfg.grade if r["index"] >= g.min)
        assert r["grade"] == g.code and r["grade_zh"] == g.zh


def test_safety_index_from_table_and_street_rollup(random_table: ibis.Table, random_areas: pd.DataFrame) -> None:
    out = safety_index(random_table, "2025H2", areas=random_areas, taxonomy=TAX, config=INDEX)
    assert len(out) == len(random_areas)
    assert out["index"].between(0, 100).all()
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    assert out.attrs["prior"]["fitted_on"] == "comparison"
    # the 60-resident community with as many calls as the others is the least safe
    assert out.iloc[-1]["area_id"] == random_areas.loc[random_areas.population.idxmin(), "area_id"]
    streets = pd.DataFrame({"area_id": ["S0", "S1"], "name": ["街道0", "街道1"]})
    st_out = safety_index(random_table, "2025H2", areas=streets, level="street", child_areas=random_areas, taxonomy=TAX, config=INDEX)
    pops = random_areas.groupby("parent_id")["population"].sum()
    assert st_out.set_index("area_id")["population"].to_dict() == pops.to_dict()
    assert st_out["index"].notna().all()


def test_safety_index_on_table_is_monotone() -> None:
    rng = np.random.default_rng(9)
    rows = []
    for year in (2024, 2025):
        for cid, lam in (("C1", 30), ("C2", 60), ("C3", 10)):
            for code in ("theft.burglary", "dispute.neighbour", "assault.injury"):
                for _ in range(rng.poisson(lam)):
                    rows.append({"reported_at": f"{year}-08-0{rng.integers(1, 9)} 12:00", "category": code,
                                 "community_id": cid})
    base = pd.DataFrame(rows)
    areas = pd.DataFrame({"area_id": ["C1", "C2", "C3"], "population": [4000.0, 9000.0, 800.0]})
    before = safety_index(ibis.memtable(lake_frame(base)), "2025H2", areas=areas, taxonomy=TAX, config=INDEX).set_index("area_id")
    extra = pd.concat([base, pd.DataFrame([{"reported_at": "2025-09-01 01:00", "category": "robbery.robbery",
                                             "community_id": "C3"}])], ignore_index=True)
    after = safety_index(ibis.memtable(lake_frame(extra)), "2025H2", areas=areas, taxonomy=TAX, config=INDEX).set_index("area_id")
    assert after.loc["C3", "index"] < before.loc["C3", "index"]


def test_index_config_override_and_errors(tmp_path: Path) -> None:
    (tmp_path / "index.toml").write_text("[weights]\nrate = 1.0\npreventable = 0\ntrend = 0\n", encoding="utf-8")
    cfg = load_index_config(data_dir=tmp_path)
    assert cfg.weights.rate == 1.0 and cfg.score.half_point == 1.5  # untouched keys keep shipped values
    cur = np.zeros((2, len(CODES)))
    cur[:, 0] = [5, 20]
    out = index_from_counts(cur, cur, np.array([1000.0, 1000.0]), severity=SEV, preventable=PREV, config=cfg)
    np.testing.assert_allclose(out["index"], out["score_rate"])
    (tmp_path / "index.toml").write_text("[score]\nhalf_point = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_index_config(data_dir=tmp_path)
    assert "index.toml" in str(exc.value) and "[score.half_point]" in str(exc.value)
