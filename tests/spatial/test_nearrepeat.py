"""Knox near-repeat test: a six-event case enumerated by hand, exact permutation enumeration, brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from anju.errors import GeoError
from anju.spatial.nearrepeat import knox_test, time_in_days

# Six events: (x m, y m, day)
EVENTS = {
    "A": (0.0, 0.0, 0.0),
    "B": (0.0, 0.0, 3.0),  # same place as A
    "C": (60.0, 80.0, 10.0),  # 100 m from A and B
    "D": (300.0, 400.0, 12.0),
    "E": (150.0, 0.0, 40.0),
    "F": (1000.0, 0.0, 41.0),
}
# All 15 pairs worked out by hand: (distance m, gap days) → band (row, col) with
# rows: 0 m | (0,100] | (100,200] | > 200      cols: [0,7] | (7,14] | > 14
HAND_PAIRS = {
    "AB": (0.0, 3, 0, 0),
    "AC": (100.0, 10, 1, 1),
    "AD": (500.0, 12, 3, 1),
    "AE": (150.0, 40, 2, 2),
    "AF": (1000.0, 41, 3, 2),
    "BC": (100.0, 7, 1, 0),  # 7 days is in [0, 7]
    "BD": (500.0, 9, 3, 1),
    "BE": (150.0, 37, 2, 2),
    "BF": (1000.0, 38, 3, 2),
    "CD": (400.0, 2, 3, 0),
    "CE": (120.4, 30, 2, 2),
    "CF": (943.4, 31, 3, 2),
    "DE": (427.2, 28, 3, 2),
    "DF": (806.2, 29, 3, 2),
    "EF": (850.0, 1, 3, 0),
}
HAND_TABLE = [
    [1, 0, 0],  # AB
    [1, 1, 0],  # BC | AC
    [0, 0, 3],  # AE, BE, CE
    [2, 2, 5],  # CD, EF | AD, BD | AF, BF, CF, DE, DF
]


def _xyt():
    arr = np.array(list(EVENTS.values()))
    return arr[:, 0], arr[:, 1], arr[:, 2]


def _table_by_brute_force(x, y, t, s_edges, t_edges, same=True, metric="euclidean"):
    ns = len(s_edges) + (1 if same else 0) + 1
    out = np.zeros((ns, len(t_edges) + 1), dtype=int)
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        d = np.hypot(dx, dy) if metric == "euclidean" else abs(dx) + abs(dy)
        dt = abs(t[i] - t[j])
        if same and d == 0:
            s = 0
        else:
            s = (1 if same else 0) + next((k for k, e in enumerate(s_edges) if d <= e), len(s_edges))
        tb = next((k for k, e in enumerate(t_edges) if dt <= e), len(t_edges))
        out[s, tb] += 1
    return out


def test_hand_enumerated_six_events():
    x, y, t = _xyt()
    names = list(EVENTS)
    # the hand list covers every pair once, with the right distances and gaps
    assert sorted(HAND_PAIRS) == sorted(a + b for a, b in itertools.combinations(names, 2))
    table = np.zeros((4, 3), dtype=int)
    for pair, (dist, gap, r, c) in HAND_PAIRS.items():
        i, j = names.index(pair[0]), names.index(pair[1])
        assert np.hypot(x[i] - x[j], y[i] - y[j]) == pytest.approx(dist, abs=0.05)
        assert abs(t[i] - t[j]) == gap
        table[r, c] += 1
    assert table.tolist() == HAND_TABLE

    res = knox_test(x, y, t, space_bands=[100, 200], time_bands=[7, 14], permutations=0)
    assert res.observed.tolist() == HAND_TABLE
    assert res.space_labels == ["0 m", "(0, 100] m", "(100, 200] m", "> 200 m"]
    assert res.time_labels == ["[0, 7] d", "(7, 14] d", "> 14 d"]
    assert res.n_pairs == 15 and res.n_events == 6
    # exact expectation: N_s · M_t / N with N_s = row totals (1, 2, 3, 9), M_t = column totals (4, 3, 8)
    np.testing.assert_allclose(res.expected_exact, np.outer([1, 2, 3, 9], [4, 3, 8]) / 15)
    np.testing.assert_allclose(res.ratio[1, 0], 1 / (2 * 4 / 15))
    assert np.isnan(res.p_values).all()


def test_expectation_and_p_values_against_all_720_permutations():
    x, y, t = _xyt()
    tables = np.array([
        _table_by_brute_force(x, y, t[list(perm)], [100, 200], [7, 14])
        for perm in itertools.permutations(range(6))
    ])
    observed = np.array(HAND_TABLE)
    exact_mean = tables.mean(axis=0)
    exact_p = (tables >= observed).mean(axis=0)
    res = knox_test(x, y, t, space_bands=[100, 200], time_bands=[7, 14], permutations=4000, seed=1)
    np.testing.assert_allclose(res.expected_exact, exact_mean, atol=1e-12)
    np.testing.assert_allclose(res.expected, exact_mean, atol=0.06)
    np.testing.assert_allclose(res.p_values, exact_p, atol=0.03)
    again = knox_test(x, y, t, space_bands=[100, 200], time_bands=[7, 14], permutations=4000, seed=1)
    np.testing.assert_array_equal(res.p_values, again.p_values)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("same", [True, False])
def test_tables_match_brute_force_on_random_events(metric, same):
    rng = np.random.default_rng(2)
    x = np.round(rng.uniform(0, 2000, 250), -1)  # rounded → some coincident points
    y = np.round(rng.uniform(0, 2000, 250), -1)
    t = rng.integers(0, 120, 250).astype(float)
    s_edges, t_edges = [50, 150, 300, 600], [3, 10, 30]
    res = knox_test(x, y, t, space_bands=s_edges, time_bands=t_edges, permutations=0, same_location=same,
                    metric=metric)
    np.testing.assert_array_equal(res.observed, _table_by_brute_force(x, y, t, s_edges, t_edges, same, metric))
    # fractional times take the binary-search path; a common offset of 0.25 day leaves every gap unchanged
    res_f = knox_test(x, y, t + 0.25, space_bands=s_edges, time_bands=t_edges, permutations=0,
                      same_location=same, metric=metric)
    np.testing.assert_array_equal(res_f.observed, res.observed)


def test_planted_near_repeats_are_found_and_the_null_is_quiet():
    rng = np.random.default_rng(3)
    n = 3000
    x, y = rng.uniform(0, 6000, n), rng.uniform(0, 6000, n)
    t = rng.integers(0, 365, n).astype(float)
    null = knox_test(x, y, t, space_bands=[100, 200, 400], time_bands=[7, 14, 28], permutations=99, seed=4)
    assert (null.p_values[:-1] <= 0.01).sum() <= 2  # ~1 % of the within-band cells by chance
    assert np.all(np.abs(null.ratio[-1] - 1) < 0.01)  # the '> 400 m' row is the bulk of pairs
    # near repeats: 400 follow-ups within 60 m and 0–6 days of a random earlier event
    src = rng.integers(0, n, 400)
    ang = rng.uniform(0, 2 * np.pi, 400)
    rad = rng.uniform(0, 60, 400)
    x2 = np.r_[x, x[src] + rad * np.cos(ang)]
    y2 = np.r_[y, y[src] + rad * np.sin(ang)]
    t2 = np.r_[t, t[src] + rng.integers(0, 7, 400)]
    res = knox_test(x2, y2, t2, space_bands=[100, 200, 400], time_bands=[7, 14, 28], permutations=99, seed=5)
    table = res.table("ratio")
    assert table.loc["(0, 100] m", "[0, 7] d"] > 2
    assert res.p_values[1, 0] == pytest.approx(0.01)
    assert res.ratio[1, 3] == pytest.approx(1.0, abs=0.1)  # far apart in time: no excess
    long = res.to_frame()
    assert len(long) == 5 * 4 and set(long.columns) >= {"distance", "time", "observed", "expected", "ratio", "p"}


def test_datetimes_and_validation():
    ts = pd.to_datetime(["2025-01-01 23:00", "2025-01-02 01:00", "2025-01-09 12:00"])
    assert time_in_days(ts).tolist() == [20089.0, 20090.0, 20097.0]
    res = knox_test([0, 10, 20], [0, 0, 0], ts.to_numpy(), space_bands=[50], time_bands=[1], permutations=0)
    assert res.observed[1].tolist() == [1, 2]  # calendar days: gaps 1, 8, 7
    with pytest.raises(GeoError):
        knox_test([0, 1, 2], [0, 1, 2], [0, 1, 2], space_bands=[100, 50])
    with pytest.raises(GeoError):
        knox_test([0, 1, 2], [0, 1, np.nan], [0, 1, 2])
    with pytest.raises(GeoError):
        knox_test([0, 1, 2], [0, 1, 2], [0, 1, 2], metric="chebyshev")
