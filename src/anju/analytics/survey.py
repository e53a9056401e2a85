"""The monthly resident phone survey (电话访评): a reproducible stratified sample and rates with intervals.

:func:`draw_sample` picks ``n`` residents per community, allocated over buildings in proportion to their size
(largest remainders) and drawn at random within each building from a seed derived from (seed, month, community), so
the same frame, month and seed always give the same list. :func:`survey_rates` turns the answers into the
safety-feeling (安全感) and satisfaction (满意度) rates per community and per street with Wilson score intervals
(``statsmodels.stats.proportion.proportion_confint``; Brown, Cai & DasGupta 2001 recommend Wilson for small n —
20 per community is small). The district figure weights each community by its households (respondents are equally
many per community, households are not), so its variance carries Kish's design effect
``deff = n·Σw²/(Σw)²``; its interval is Wilson on the effective sample size ``n/deff`` (Korn–Graubard style).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from anju.analytics._common import AnalyticsError

__all__ = ["QUESTIONS", "district_rate", "draw_sample", "survey_rates", "wilson"]

QUESTIONS = (
    ("feel_safe", "您觉得本小区治安状况安全吗？", "Do you feel safe in your community?"),
    ("satisfied", "您对小区保安和社区民警的工作满意吗？", "Are you satisfied with the guards' and community police's work?"),
    ("saw_patrol", "最近一个月您是否见到保安夜间巡逻？", "Did you see guards patrol at night in the last month?"),
)
"""The questionnaire: answer columns (1 = yes, 0 = no, empty = no answer) with their Chinese and English wording."""


def wilson(count: Any, nobs: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (arrays); NaN where ``nobs`` is 0."""
    c = np.asarray(count, dtype=float)
    n = np.asarray(nobs, dtype=float)
    ok = n > 0
    lo = np.full(c.shape, np.nan)
    hi = np.full(c.shape, np.nan)
    if ok.any():
        lo_, hi_ = proportion_confint(c[ok], n[ok], alpha=alpha, method="wilson")
        lo[ok], hi[ok] = lo_, hi_
    return lo, hi


def _stream(seed: int, month: str, community: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(month.encode()), zlib.crc32(str(community).encode())])


def draw_sample(frame: pd.DataFrame, month: str, *, n: int = 20, seed: int = 0) -> pd.DataFrame:
    """A reproducible sample of ``n`` residents per community, stratified by building.

    Parameters
    ----------
    frame : pandas.DataFrame
        The sampling frame: ``community_id``, ``building``, ``resident_ref`` (a pseudonymous id; the phone number
        stays in the frame's source system, never in the sample or the reports).
    month : str
        ``YYYY-MM``; part of the random stream, so each month draws afresh.

    Returns
    -------
    pandas.DataFrame
        ``community_id``, ``building``, ``resident_ref``, ``month``, ``order`` (call order within the community).

    Examples
    --------
    >>> fr = pd.DataFrame({"community_id": ["c"] * 30, "building": [1] * 20 + [2] * 10,
    ...                    "resident_ref": [f"r{i}" for i in range(30)]})
    >>> s = draw_sample(fr, "2025-11", n=6, seed=1)
    >>> s.groupby("building").size().to_dict(), s.equals(draw_sample(fr, "2025-11", n=6, seed=1))
    ({1: 4, 2: 2}, True)
    """
    for c in ("community_id", "building", "resident_ref"):
        if c not in frame.columns:
            raise AnalyticsError(f"the survey frame lacks {c!r}; expected community_id, building, resident_ref")
    if n < 1:
        raise AnalyticsError(f"the sample size per community must be at least 1; got {n}")
    fr = frame.drop_duplicates("resident_ref").sort_values(["community_id", "building", "resident_ref"],
                                                          kind="stable")
    comm = fr["community_id"].astype(str).to_numpy()
    bld = fr["building"].to_numpy()
    uc, first = np.unique(comm, return_index=True)
    bounds = np.append(first, len(fr))
    take_idx: list[np.ndarray] = []
    order_no: list[np.ndarray] = []
    for j, cid in enumerate(uc):
        lo, hi = bounds[j], bounds[j + 1]
        rng = _stream(seed, month, str(cid))
        _, bcode, sizes = np.unique(bld[lo:hi], return_inverse=True, return_counts=True)
        take_n = min(n, hi - lo)
        quota = sizes / sizes.sum() * take_n
        alloc = np.floor(quota).astype(int)
        rest = take_n - int(alloc.sum())
        if rest:
            frac = quota - alloc
            alloc[np.lexsort((np.arange(len(frac)), -frac))[:rest]] += 1
        keys = rng.random(hi - lo)
        srt = np.lexsort((keys, bcode))  # by building, then at random
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rank = np.empty(hi - lo, dtype=int)
        rank[srt] = np.arange(hi - lo) - starts[bcode[srt]]
        chosen = np.flatnonzero(rank < alloc[bcode]) + lo
        chosen = chosen[rng.permutation(len(chosen))]
        take_idx.append(chosen)
        order_no.append(np.arange(1, len(chosen) + 1))
    if not take_idx:
        return pd.DataFrame(columns=["community_id", "building", "resident_ref", "month", "order"])
    out = fr.iloc[np.concatenate(take_idx)][["community_id", "building", "resident_ref"]].copy()
    out["month"] = month
    out["order"] = np.concatenate(order_no)
    return out.reset_index(drop=True)


def survey_rates(answers: pd.DataFrame, *, by: str = "community_id", alpha: float = 0.05) -> pd.DataFrame:
    """Per-group rates of every question with Wilson intervals.

    ``answers`` holds one row per sampled resident: the ``by`` column, ``reached`` (the call was answered) and the
    question columns (1/0/empty). Returns ``by``, ``sampled``, ``reached``, and for each question ``<q>_n`` (answers),
    ``<q>_yes``, ``<q>_rate``, ``<q>_lo``, ``<q>_hi``; ``satisfaction_rate`` and ``feel_safe_rate`` are aliases the
    rubric reads.
    """
    if by not in answers.columns:
        raise AnalyticsError(f"the survey answers lack the grouping column {by!r}")
    a = answers.copy()
    reached = a["reached"].astype(bool) if "reached" in a.columns else pd.Series(True, index=a.index)
    a["_reached"] = reached
    out = a.groupby(by).agg(sampled=("_reached", "size"), reached=("_reached", "sum"))
    for q, _, _ in QUESTIONS:
        if q not in a.columns:
            continue
        v = pd.to_numeric(a[q], errors="coerce").where(reached)
        if ((v != 0) & (v != 1) & v.notna()).any():
            raise AnalyticsError(f"survey answers to {q!r} must be 1 (yes), 0 (no) or empty")
        g = pd.DataFrame({by: a[by], "v": v}).groupby(by)["v"]
        out[f"{q}_n"] = g.count()
        out[f"{q}_yes"] = g.sum()
        out[f"{q}_rate"] = np.where(out[f"{q}_n"] > 0, out[f"{q}_yes"] / out[f"{q}_n"].clip(lower=1), np.nan)
        lo, hi = wilson(out[f"{q}_yes"], out[f"{q}_n"], alpha)
        out[f"{q}_lo"], out[f"{q}_hi"] = lo, hi
    if "satisfied_rate" in out.columns:
        out["satisfaction_rate"] = out["satisfied_rate"]
    if "feel_safe_rate" not in out.columns:
        out["feel_safe_rate"] = np.nan
    return out.reset_index()


def district_rate(rates: pd.DataFrame, weights: pd.Series, question: str = "satisfied",
                  alpha: float = 0.05) -> dict[str, float]:
    """The district figure of ``question`` from per-community rates, weighted by ``weights`` (households, indexed
    by community), with Kish's design effect and a Wilson interval on the effective sample size.

    Returns ``rate``, ``lo``, ``hi``, ``n`` (answers), ``deff``, ``n_eff``.

    Examples
    --------
    >>> r = pd.DataFrame({"community_id": ["a", "b"], "satisfied_n": [20, 20], "satisfied_yes": [18, 10]})
    >>> d = district_rate(r, pd.Series({"a": 3000, "b": 1000}))
    >>> round(d["rate"], 3), round(d["deff"], 3), round(d["n_eff"], 1)
    (0.8, 1.25, 32.0)
    """
    n_col, y_col = f"{question}_n", f"{question}_yes"
    r = rates[rates[n_col] > 0]
    if r.empty:
        return {"rate": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0.0, "deff": float("nan"),
                "n_eff": 0.0}
    n_h = r[n_col].to_numpy(float)
    p_h = r[y_col].to_numpy(float) / n_h
    w_h = weights.reindex(r["community_id"]).fillna(0).to_numpy(float)
    if w_h.sum() <= 0:
        raise AnalyticsError("the community weights of the district survey figure are all zero or missing")
    share = w_h / w_h.sum()
    rate = float((share * p_h).sum())
    n = float(n_h.sum())
    w_i = np.repeat(share / n_h, n_h.astype(int))  # each respondent's weight
    deff = float(len(w_i) * (w_i ** 2).sum() / w_i.sum() ** 2)
    n_eff = n / deff
    lo, hi = wilson(np.array([rate * n_eff]), np.array([n_eff]), alpha)
    return {"rate": rate, "lo": float(lo[0]), "hi": float(hi[0]), "n": n, "deff": deff, "n_eff": n_eff}
