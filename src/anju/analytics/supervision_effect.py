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

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from anju.analytics._common import AnalyticsError
from anju.analytics.shrinkage import fit_gamma_prior

__all__ = ["net_effect"]


def net_effect(panel: pd.DataFrame, listed: Iterable[Any], *, length_ratio: float = 1.0, comparison_k: int | None = None,
               alpha: float = 0.05) -> dict[str, Any]:
    """Raw change, change expected without intervention and the net effect of a listed set.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per community (listed and not): ``area_id``, ``count_pre`` (base period), ``count_post``
        (evaluation period) and optionally ``exposure`` (households; default 1 for all).
    listed : iterable
        The listed (supervised) community ids.
    length_ratio : float
        Evaluation period length / base period length (days), e.g. 184/366 for a half-year against a year.
    comparison_k : int, optional
        Size of the comparison group (next ranks); default twice the listed set.

    Returns
    -------
    dict
        ``raw_change`` (Σpost/(Σpre·length_ratio) − 1 for the listed set), ``trend`` (the unlisted communities'
        ratio), ``eb`` {``expected``, ``expected_change``, ``effect`` (observed/expected), ``lo``, ``hi``,
        ``net_change`` = effect − 1}, ``did`` {``effect``, ``lo``, ``hi``, ``comparison_ids``} and ``per_area`` (a
        DataFrame with the listed communities' ``expected`` counts).
    """
    for c in ("area_id", "count_pre", "count_post"):
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
    lt, un = p[p["listed"]], p[~p["listed"]]
    pre_l, post_l = float(lt["count_pre"].sum()), float(lt["count_post"].sum())
    trend = float(un["count_post"].sum() / (un["count_pre"].sum() * length_ratio))
    raw = post_l / (pre_l * length_ratio) - 1 if pre_l > 0 else float("nan")

    ok = p["exposure"] > 0
    prior = fit_gamma_prior(p.loc[ok, "count_pre"].to_numpy(float), p.loc[ok, "exposure"].to_numpy(float))
    a_post = prior.alpha + lt["count_pre"].to_numpy(float)
    b_post = prior.beta + lt["exposure"].to_numpy(float)
    scale = lt["exposure"].to_numpy(float) * trend * length_ratio
    exp_i = a_post / b_post * scale
    var_i = a_post / b_post**2 * scale**2
    expected = float(exp_i.sum())
    eff = post_l / expected
    se_log = float(np.sqrt(1 / max(post_l, 0.5) + var_i.sum() / expected**2))
    eb = {"expected": expected, "expected_change": expected / (pre_l * length_ratio) - 1, "effect": eff,
          "lo": eff * np.exp(-z * se_log), "hi": eff * np.exp(z * se_log), "net_change": eff - 1,
          "prior": prior.to_dict()}

    ranked = p.sort_values(["count_pre", "area_id"], ascending=[False, True], kind="stable")
    k = comparison_k if comparison_k is not None else 2 * len(lt)
    comp = ranked[~ranked["listed"]].head(k)
    c0, c1 = float(comp["count_pre"].sum()), float(comp["count_post"].sum())
    if min(pre_l, post_l, c0, c1) > 0:
        did_eff = (post_l / pre_l) / (c1 / c0)
        se = float(np.sqrt(1 / pre_l + 1 / post_l + 1 / c0 + 1 / c1))
        did = {"effect": did_eff, "lo": did_eff * np.exp(-z * se), "hi": did_eff * np.exp(z * se)}
    else:
        did = {"effect": float("nan"), "lo": float("nan"), "hi": float("nan")}
    did["comparison_ids"] = comp["area_id"].tolist()
    did["comparison_change"] = c1 / (c0 * length_ratio) - 1 if c0 > 0 else float("nan")
    per = lt[["area_id", "count_pre", "count_post"]].assign(expected=exp_i).reset_index(drop=True)
    return {"raw_change": raw, "trend": trend, "eb": eb, "did": did, "per_area": per, "length_ratio": length_ratio}
