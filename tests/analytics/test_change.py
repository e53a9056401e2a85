"""Exact Poisson change tests against scipy/statsmodels references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.multitest import multipletests

from anju.analytics._common import AnalyticsError
from anju.analytics.change import bh_adjust, change_table, poisson_test, rate_ratio_ci

counts = st.integers(0, 400)
exposures = st.sampled_from([1.0, 28.0, 30.0, 31.0, 90.0, 181.0, 184.0, 365.0])


@settings(max_examples=300, deadline=None)
@given(counts, counts, exposures, exposures)
def test_binom_matches_scipy_binomtest(k: int, k0: int, t1: float, t0: float) -> None:
    got = float(poisson_test(k, k0, t1, t0)[()])
    if k + k0 == 0:
        assert got == 1.0
        return
    ref = stats.binomtest(k, k + k0, t1 / (t1 + t0)).pvalue
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-15)


def test_binom_vectorised_equals_rowwise() -> None:
    rng = np.random.default_rng(3)
    k = rng.poisson(rng.uniform(0, 3000, 500))
    k0 = rng.poisson(rng.uniform(0, 3000, 500))
    vec = poisson_test(k, k0, 184, 181)
    ref = [stats.binomtest(int(a), int(a + b), 184 / 365).pvalue if a + b else 1.0 for a, b in zip(k, k0, strict=True)]
    np.testing.assert_allclose(vec, ref, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("alt", ["larger", "smaller"])
def test_one_sided(alt: str) -> None:
    k, k0 = np.array([5, 30, 12, 0]), np.array([15, 18, 12, 4])
    got = poisson_test(k, k0, alternative=alt)
    scipy_alt = "greater" if alt == "larger" else "less"
    ref = [stats.binomtest(int(a), int(a + b), 0.5, alternative=scipy_alt).pvalue for a, b in zip(k, k0, strict=True)]
    np.testing.assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.parametrize(("k", "k0", "t1", "t0"), [(3, 10, 1, 1), (20, 5, 184, 181), (0, 7, 1, 1), (40, 40, 2, 1),
                                                   (1, 1, 1, 1), (150, 110, 30, 31), (9, 0, 1, 1)])
def test_etest_matches_statsmodels(k: int, k0: int, t1: float, t0: float) -> None:
    got = float(poisson_test(k, k0, t1, t0, method="etest")[()])
    ref = sm_rates.test_poisson_2indep(k, t1, k0, t0, method="etest-wald").pvalue
    assert got == pytest.approx(ref, rel=1e-6, abs=1e-12)


def test_etest_large_counts_fall_back_to_binom() -> None:
    got = poisson_test([20000], [19000], method="etest")
    assert got[0] == pytest.approx(poisson_test([20000], [19000])[0])


def test_exact_test_keeps_its_level_under_the_null() -> None:
    rng = np.random.default_rng(11)
    lam = rng.uniform(2, 40, 20000)
    k, k0 = rng.poisson(lam), rng.poisson(lam)
    reject = (poisson_test(k, k0) < 0.05).mean()
    assert reject <= 0.05  # exact conditional tests are conservative
    assert reject > 0.02  # … but not absurdly so
    big = rng.poisson(lam * 1.5)
    assert (poisson_test(big, k0) < 0.05).mean() > reject * 3  # and they have power


def test_rate_ratio_ci_inverts_the_test() -> None:
    k, k0, t1, t0 = np.array([30, 3, 120]), np.array([50, 9, 100]), 184.0, 181.0
    lo, hi = rate_ratio_ci(k, k0, t1, t0)
    n = k + k0
    for i in range(len(k)):
        p_lo = lo[i] * t1 / (lo[i] * t1 + t0)
        p_hi = hi[i] * t1 / (hi[i] * t1 + t0)
        assert stats.binom.sf(k[i] - 1, n[i], p_lo) == pytest.approx(0.025, rel=1e-6)
        assert stats.binom.cdf(k[i], n[i], p_hi) == pytest.approx(0.025, rel=1e-6)
    lo0, hi0 = rate_ratio_ci([0, 5], [5, 0])
    assert lo0[0] == 0 and np.isinf(hi0[1])


def test_bh_matches_statsmodels() -> None:
    p = np.array([0.001, 0.2, 0.03, np.nan, 0.04, 0.5, 0.0001])
    ok = ~np.isnan(p)
    ref = multipletests(p[ok], method="fdr_bh")[1]
    np.testing.assert_allclose(bh_adjust(p)[ok], ref)
    assert np.isnan(bh_adjust(p)[3])


def test_change_table_flags_and_verdicts() -> None:
    df = pd.DataFrame({"count": [30, 3, 0, 9, 100, 5], "count_prev": [50, 1, 0, 0, 100, 0]})
    out = change_table(df, exposure=184, exposure_prev=184, adjust="none")
    assert out["change_pct"].iloc[0] == pytest.approx(-40.0)
    assert out["significant"].tolist() == [True, False, False, True, False, False]
    assert out["small"].tolist() == [False, True, True, True, False, True]
    assert np.isnan(out["change_pct"].iloc[3])  # no raw % against zero
    assert out["verdict_zh"].tolist() == ["显著下降", "样本过少", "样本过少", "显著上升", "无显著变化", "样本过少"]
    assert out["direction"].tolist() == ["down", "up", "flat", "up", "flat", "up"]


def test_change_table_verdict_uses_bh_q_per_family() -> None:
    """By default one call is one family of tests: 显著 follows the Benjamini–Hochberg q-value, not the raw p."""
    df = pd.DataFrame({"count": [30, 3, 0, 9, 100, 5], "count_prev": [50, 1, 0, 0, 100, 0]})
    out = change_table(df, exposure=184, exposure_prev=184)
    ref_q = multipletests(out["p_value"].to_numpy(), method="fdr_bh")[1]
    np.testing.assert_allclose(out["q_value"].to_numpy(), ref_q)
    assert out["significant"].tolist() == (ref_q < 0.05).tolist()
    # 30 vs 50 has p = 0.033 alone, but not among six tests (q = 0.099): no longer called a fall
    assert out["p_value"].iloc[0] < 0.05 < out["q_value"].iloc[0]
    assert not out["significant"].iloc[0] and out["verdict_zh"].iloc[0] == "无显著变化"
    assert out["significant"].iloc[3] and out.attrs["adjust"] == "bh"
    with pytest.raises(AnalyticsError, match="adjust"):
        change_table(df, adjust="holm")  # type: ignore[arg-type]


def test_change_table_adjusts_for_exposure() -> None:
    out = change_table(pd.DataFrame({"count": [181], "count_prev": [184]}), exposure=181, exposure_prev=184)
    assert out["change_pct"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert out["direction"].iloc[0] == "flat"
