"""The effect of supervision net of regression to the mean (回归均值).

Communities listed for having the most thefts in a base year fall the next year even if nothing is done: part of
their high count was bad luck, which does not repeat. The raw drop of the listed set (Minhang's −59.2 %) mixes that
regression with the effect of the measures. Two estimates of the change *expected without intervention*:

1. **Empirical Bayes.** A gamma prior of community rates is fitted on every community's base-period count (with
   households as exposure, :func:`anju.analytics.shrinkage.fit_gamma_prior`). A listed community's expected count
   next period is its posterior mean rate × exposure × the district trend (the change of the unlisted communities),
   scaled to the evaluation period's length. Net effect = observed / expected, for the set; the interval adds the
   posterior variance of the prediction to the Poisson variance of the observed count (delta method on the log).
2. **Comparison group.** The next-ranked unlisted communities (ranks ``n+1 … n+k`` in the base period), similar in
   prior counts, give a difference-in-differences on counts: the ratio of ratios (T1/T0)/(C1/C0), which is the
   maximum-likelihood interaction of a Poisson model with community and period effects over two periods; its log
   has variance 1/T0 + 1/T1 + 1/C0 + 1/C1. The comparison group regresses too (less, being less extreme), so this
   estimate is conservative about the effect.

References: Marshall (1991) on empirical Bayes rates; Barnett, van der Pols & Dobson (2005), *Regression to the
mean: what it is and how to deal with it*, Int J Epidemiol 34:215–220; Hauer (1997), *Observational before–after
studies in road safety* (the EB method of road-safety evaluation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from anju.analytics._common import AnalyticsError

__all__ = ["net_effect"]


def _transient(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Transient (community × period) extra-Poisson variance ``1/k`` of counts from pairs of periods.

    For one community's counts ``y₀, y₁`` of two periods with district ratio ρ and a gamma multiplier of variance
    ``1/k`` per period, ``E[(y₁ − ρy₀)²] = λ₁ + ρ²λ₀ + (λ₁² + ρ²λ₀²)/k``; summing over communities, with
    ``λ₀ = S/(1+ρ)``, ``λ₁ = ρS/(1+ρ)``, ``S = y₀ + y₁`` and ``S² − S`` for an unbiased ``S²``, gives a method-of-
    moments ``1/k`` dominated, as it should be, by the large counts.
    """
    num = den = 0.0
    for y0, y1 in pairs:
        if y0.sum() <= 0 or y1.sum() <= 0:
            continue
        rho = float(y1.sum() / y0.sum())
        s = y0 + y1
        num += float(((y1 - rho * y0) ** 2 - y1 - rho**2 * y0).sum())
        den += float((2 * rho**2 * (s * s - s) / (1 + rho) ** 2).sum())
    return max(num / den, 0.0) if den > 0 else 0.0


def _prior_means(Y: np.ndarray, E: np.ndarray, x: np.ndarray | None) -> np.ndarray:
    """Each community's prior mean rate: the district rate, or — with profile covariates ``x`` — a Poisson
    regression of the pooled counts on them with log exposure as offset (the "similar communities" of Hauer's
    safety performance function)."""
    ok = E > 0
    m = np.full(len(Y), float(Y[ok].sum() / E[ok].sum()))
    if x is None or x.shape[1] == 0:
        return m
    import statsmodels.api as sm

    good = ok & np.isfinite(x).all(axis=1)
    if good.sum() < x.shape[1] + 5:
        return m
    xs = (x - x[good].mean(axis=0)) / np.where(x[good].std(axis=0) > 0, x[good].std(axis=0), 1.0)
    xc = sm.add_constant(xs, has_constant="add")
    res = sm.GLM(Y[good], xc[good], family=sm.families.Poisson(), offset=np.log(E[good])).fit()
    m[good] = np.exp(xc[good] @ res.params)
    return m


def _eb_levels(y: np.ndarray, e: np.ndarray, inv_k: float, x: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Posterior mean and variance of each community's *persistent* rate from its counts ``y`` (community × period)
    and exposures ``e`` (same shape; exposure × period trend × period length), under the two-level gamma–Poisson
    model: rate ~ Gamma(α, α/mᵢ) around the prior mean ``mᵢ`` of similar communities (:func:`_prior_means`), a
    transient Gamma(k, k) multiplier per period, Poisson counts.

    Given the persistent rate a period's count is negative binomial (variance λ + λ²/k); it carries the information
    of a Poisson count scaled by ``f = 1/(1 + λ/k)`` (equal variance of the rate estimate), so the conjugate update
    becomes ``(α + Σ f·y) / (α/mᵢ + Σ f·e)`` (iterated twice for λ). α by moments of the pooled rates relative to
    their prior means, net of the Poisson and transient parts of their variance.
    """
    Y, E = y.sum(axis=1), e.sum(axis=1)
    ok = E > 0
    m = _prior_means(Y, E, x)
    r = Y[ok] / E[ok] / m[ok]  # relative to the prior mean: mean 1, variance 1/α + transient + Poisson
    w = (e[ok] ** 2).sum(axis=1) / E[ok] ** 2  # Σ share² of the periods: the transient part that does not average
    # robust (median absolute deviation of the log ratios): a few planted or real outliers — a hot estate, a
    # capped one — must not make every community look unlike its peers
    lr = np.log(np.maximum(r, 0.5 / (E[ok] * m[ok])))
    spread = (1.4826 * float(np.median(np.abs(lr - np.median(lr))))) ** 2
    v = spread - inv_k * float(np.median(w)) - float(np.median(1 / (E[ok] * m[ok])))
    v = max(v, 1e-4)
    alpha = 1 / v
    beta = alpha / m
    mu = np.where(ok, (alpha + Y) / (beta + E), m)
    for _ in range(2):
        f = 1 / (1 + mu[:, None] * e * inv_k)
        a_post = alpha + (f * y).sum(axis=1)
        b_post = beta + (f * e).sum(axis=1)
        mu = a_post / b_post
    return mu, a_post / b_post**2, {"alpha": alpha, "mean": float(Y[ok].sum() / E[ok].sum()),
                                    "relative_var": v, "transient_cv": inv_k**0.5,
                                    "covariates": 0 if x is None else int(x.shape[1])}


def _did_glm(g: pd.DataFrame, cols: list[str], lens: np.ndarray, z: float) -> dict[str, Any]:
    """Difference-in-differences on counts: a Poisson model with community and period effects and a listed ×
    evaluation-period interaction, over every period (history, base, evaluation) of the listed and comparison
    communities; quasi-Poisson standard error (Pearson χ² scale, at least 1) for the year-to-year variation.
    With two periods the estimate is the ratio of ratios (T₁/T₀)/(C₁/C₀)."""
    import statsmodels.api as sm

    n, t = len(g), len(cols) + 1
    y = g[[*cols, "count_post"]].to_numpy(float).ravel()
    comm = np.repeat(np.arange(n), t)
    per = np.tile(np.arange(t), n)
    periods = (per[:, None] == np.arange(1, t)[None, :]).astype(float)  # period 0 is the communities' baseline
    comms = (comm[:, None] == np.arange(n)[None, :]).astype(float)
    treat = (np.repeat(g["listed"].to_numpy(), t) & (per == t - 1)).astype(float)
    x = np.column_stack([comms, periods, treat])
    res = sm.GLM(y, x, family=sm.families.Poisson(), offset=np.log(lens[per])).fit()
    dof = len(y) - x.shape[1]
    scale = max(float(res.pearson_chi2) / dof, 1.0) if dof > 0 else 1.0
    b, se = float(res.params[-1]), float(res.bse[-1]) * scale**0.5
    return {"effect": float(np.exp(b)), "lo": float(np.exp(b - z * se)), "hi": float(np.exp(b + z * se)),
            "dispersion": scale}


def net_effect(panel: pd.DataFrame, listed: Iterable[Any], *, length_ratio: float = 1.0, comparison_k: int | None = None,
               alpha: float = 0.05, history: Sequence[tuple[str, float]] = (),
               covariates: Sequence[str] = ()) -> dict[str, Any]:
    """Raw change, change expected without intervention and the net effect of a listed set.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per community (listed and not): ``area_id``, ``count_pre`` (base period), ``count_post``
        (evaluation period), optionally ``exposure`` (households; default 1 for all) and the history columns.
    listed : iterable
        The listed (supervised) community ids.
    length_ratio : float
        Evaluation period length / base period length (days), e.g. 184/366 for a half-year against a year.
    comparison_k : int, optional
        Size of the comparison group (next ranks); default twice the listed set.
    history : sequence of (column, length ratio)
        Earlier periods before the base period (oldest first), not used to draw the list: each column's counts and
        its length relative to the base period. They sharpen each community's persistent level and give the
        year-to-year variation directly.
    covariates : sequence of str
        Profile columns of the panel (floating share, fee collection, camera fault rate…) that predict a community's
        theft level: the empirical-Bayes prior mean of each community comes from a Poisson regression on them, so
        a listed community is shrunk towards similar communities rather than towards the district average.

    Returns
    -------
    dict
        ``raw_change`` (Σpost/(Σpre·length_ratio) − 1 for the listed set), ``trend`` (the unlisted communities'
        observed / their EB-predicted level), ``transient_cv`` (year-to-year variation beyond Poisson),
        ``eb`` {``expected``, ``expected_change``, ``effect`` (observed/expected), ``lo``, ``hi``,
        ``net_change`` = effect − 1}, ``did`` {``effect``, ``lo``, ``hi``, ``comparison_ids``, ``comparison_change``}
        and ``per_area`` (a DataFrame with the listed communities' ``expected`` counts).
    """
    for c in ("area_id", "count_pre", "count_post", *(h for h, _ in history), *covariates):
        if c not in panel.columns:
            raise AnalyticsError(f"the supervision panel lacks {c!r}")
    p = panel.copy()
    if "exposure" not in p.columns:
        p["exposure"] = 1.0
    p["exposure"] = p["exposure"].astype(float)
    ids = set(listed)
    p["listed"] = p["area_id"].isin(ids)
    if not p["listed"].any():
        raise AnalyticsError("none of the listed communities is in the panel")
    if (~p["listed"]).sum() < 5:
        raise AnalyticsError("at least 5 unlisted communities are needed to estimate the trend and the prior")
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = p[p["exposure"] > 0].reset_index(drop=True)
    lt_mask = p["listed"].to_numpy()
    un_mask = ~lt_mask
    lt = p[lt_mask]
    pre_l, post_l = float(lt["count_pre"].sum()), float(lt["count_post"].sum())
    raw = post_l / (pre_l * length_ratio) - 1 if pre_l > 0 else float("nan")

    # pre periods (history…, base): counts, and each period's district level relative to the base period
    cols = [h for h, _ in history] + ["count_pre"]
    lens = np.array([r for _, r in history] + [1.0])
    y = p[cols].to_numpy(float)
    tot = y.sum(axis=0)
    tau = tot / (tot[-1] * lens) if tot[-1] > 0 else np.ones(len(cols))  # every community: no selection bias
    ex = p["exposure"].to_numpy(float)
    e = ex[:, None] * (tau * lens)[None, :]
    # year-to-year variation: consecutive pre periods of every community; with no history, base → evaluation
    # period of the unlisted ones (slightly truncated by the listing, so a little conservative)
    post = p["count_post"].to_numpy(float)
    pairs = [(y[:, i] / lens[i], y[:, i + 1] / lens[i + 1]) for i in range(len(cols) - 1)] or \
        [(y[un_mask, -1], post[un_mask])]
    inv_k = _transient(pairs)
    xcov = p[list(covariates)].to_numpy(float) if covariates else None
    mu, var_mu, prior = _eb_levels(y, e, inv_k, xcov)

    # the trend to the evaluation period, from the unlisted communities against their own EB level (their base year
    # was a little below par — the listed took the luck — so observed/base would overstate the trend)
    lvl_u = mu[un_mask] * ex[un_mask] * length_ratio
    trend = float(post[un_mask].sum() / lvl_u.sum())
    var_log_trend = float((lvl_u * trend * (1 + lvl_u * trend * inv_k)).sum()) / max(post[un_mask].sum(), 1.0) ** 2
    scale = ex[lt_mask] * length_ratio * trend
    exp_i = mu[lt_mask] * scale
    expected = float(exp_i.sum())
    eff = post_l / expected
    # observed total: negative binomial around eff × expected; prediction: posterior variance of the levels
    lam_o = eff * exp_i
    var_obs = float((lam_o + lam_o**2 * inv_k).sum())
    se_log = float(np.sqrt(var_obs / max(post_l, 0.5) ** 2 + float((var_mu[lt_mask] * scale**2).sum()) / expected**2
                           + var_log_trend))
    eb = {"expected": expected, "expected_change": expected / (pre_l * length_ratio) - 1, "effect": eff,
          "lo": eff * np.exp(-z * se_log), "hi": eff * np.exp(z * se_log), "net_change": eff - 1,
          "prior": prior}

    ranked = p.sort_values(["count_pre", "area_id"], ascending=[False, True], kind="stable")
    k = comparison_k if comparison_k is not None else 2 * len(lt)
    comp = ranked[~ranked["listed"]].head(k)
    c0, c1 = float(comp["count_pre"].sum()), float(comp["count_post"].sum())
    if min(pre_l, post_l, c0, c1) > 0:
        did = _did_glm(pd.concat([lt, comp]), cols, np.append(lens, length_ratio), z)
    else:
        did = {"effect": float("nan"), "lo": float("nan"), "hi": float("nan")}
    did["comparison_ids"] = comp["area_id"].tolist()
    did["comparison_change"] = c1 / (c0 * length_ratio) - 1 if c0 > 0 else float("nan")
    per = lt[["area_id", "count_pre", "count_post"]].assign(expected=exp_i).reset_index(drop=True)
    return {"raw_change": raw, "trend": trend, "transient_cv": inv_k**0.5, "eb": eb, "did": did, "per_area": per,
            "length_ratio": length_ratio}
