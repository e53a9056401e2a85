"""Word analytics of call texts (词频分析): top terms per family, rising and falling terms, fraud techniques.

Segmentation, term counting, the weighted log-odds and amount extraction come from :mod:`anju.text` (rjieba with a
police-domain dictionary and stop words). Rising/falling terms use the weighted log-odds ratio with an informative
Dirichlet prior (Monroe, Colaresi & Quinn 2008): a term's z-score says how surely its share of words rose, so rare
words do not dominate as they do with raw ratios. Large periods are sampled (``max_texts`` per group, seeded) to keep
a release fast (segmentation costs ~50–100 µs per text); counts are then of the sample and the sample size is
in ``.attrs``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import chain
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics._common import AnalyticsError, as_period, category_filter, in_period
from anju.analytics.change import Method, change_table
from anju.analytics.periods import Period, resolve_comparison
from anju.lake.engine import hash_prefix, hash_threshold
from anju.taxonomy import Taxonomy

__all__ = ["distinctive_terms", "fraud_techniques", "rising_terms", "top_terms"]

_JUNK = re.compile(r"^[\d\W_*×xX]+$")
_ADDRESS = re.compile(r"^.{1,8}(?:路|弄|巷|大道|公路|大街|号楼|号院|小区|新村|花园|苑)$")
"""Place names (roads, lanes, estates): they say where, not what, and the maps show where."""


def _texts(incidents: ir.Table, period: Period, *, families: Iterable[str] | None, taxonomy: Taxonomy,
           by_family: bool = True, max_texts: int | None = None, seed: int = 0) -> pd.DataFrame:
    """``family`` (or ``"all"``) and ``text`` of the period's calls with text.

    With ``max_texts``, groups larger than that are thinned in the engine first — the MD5 of the record key (or of
    the text), the same on every engine (:func:`~anju.lake.engine.hash_prefix`), keeps a little over 1.2 × ``max_texts`` rows — so a city-year never ships millions of texts; the
    exact seeded sample is then drawn by :func:`_sample`.
    """
    t = category_filter(in_period(incidents, period), families=families, taxonomy=taxonomy)
    t = t.filter(t.text.notnull() & (t.text.length() > 0))
    t = t.mutate(_g=t.family if by_family else ibis.literal("all"))
    if max_texts is not None:
        sizes = t.group_by("_g").aggregate(n=ibis._.count()).to_pandas()
        big = sizes[sizes["n"] > max_texts * 1.5]
        if len(big):
            base = t.record_key if "record_key" in t.columns else t.text
            bucket = hash_prefix(base.concat(ibis.literal(f"#{seed}")))
            keep = ~t._g.isin(big["_g"].tolist())
            for g, n in zip(big["_g"], big["n"], strict=True):
                frac = min(1.0, (1.2 * max_texts + 3 * max_texts**0.5 + 10) / n)
                keep = keep | ((t._g == g) & (bucket < hash_threshold(frac)))
            t = t.filter(keep)
    return t.select(family=t._g, text=t.text).to_pandas()


def _sample(texts: pd.Series, max_texts: int | None, seed: int) -> list[str]:
    vals = texts.astype(str).tolist()
    if max_texts is None or len(vals) <= max_texts:
        return vals
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(vals), size=max_texts, replace=False))
    return [vals[i] for i in idx]


def _keep(term: str, min_len: int) -> bool:
    return len(term) >= min_len and not _JUNK.match(term) and not _ADDRESS.match(term)


StatsCache = dict[tuple[int, bytes], tuple[dict[str, int], Counter[str]]]
"""Term statistics already computed in one job, keyed by ``(min_len, digest of the texts)``; see :func:`top_terms`."""


def _term_stats(seg: Any, texts: list[str], min_len: int,
                cache: StatsCache | None = None) -> tuple[dict[str, int], Counter[str]]:
    """Term counts and document frequencies of texts (fresh copies; the caller may change them).

    A release asks for the same sample twice (top terms overall and rising terms of the period); a caller that
    passes the same ``cache`` dict to both calls segments it once. The cache belongs to the caller (one job), never
    to the module, so two requests with different dictionaries cannot see each other's terms.
    """
    import hashlib

    if cache is None:
        return _term_stats_uncached(seg, texts, min_len)
    key = (min_len, hashlib.blake2b("\x1f".join(texts).encode("utf-8"), digest_size=16).digest())
    hit = cache.get(key)
    if hit is None:
        hit = _term_stats_uncached(seg, texts, min_len)
        cache[key] = hit
    return dict(hit[0]), Counter(hit[1])


def _term_stats_uncached(seg: Any, texts: list[str], min_len: int) -> tuple[dict[str, int], Counter[str]]:
    """Term counts and document frequencies of texts; each distinct text is segmented once (calls repeat)."""
    uniq = pd.Series(texts, dtype=object).value_counts(sort=False)
    tokens = seg.cut_many(uniq.index.tolist())
    mult = uniq.to_numpy()
    once = [doc for doc, m in zip(tokens, mult, strict=True) if m == 1]
    raw = _count(once)
    docs: Counter[str] = Counter(chain.from_iterable(set(doc) for doc in once))
    for doc, m in zip(tokens, mult, strict=True):
        if m > 1:
            for w in doc:
                raw[w] = raw.get(w, 0) + int(m)
            for w in set(doc):
                docs[w] += int(m)
    keep = {w for w in raw if _keep(w, min_len)}
    return {w: c for w, c in raw.items() if w in keep}, Counter({w: docs[w] for w in keep})


def _count(token_lists: list[list[str]]) -> dict[str, int]:
    try:
        from anju.text.terms import term_counts
    except ImportError:  # pragma: no cover
        return dict(Counter(chain.from_iterable(token_lists)))
    return dict(term_counts(token_lists))


def top_terms(
    incidents: ir.Table,
    period: Period | str,
    *,
    by: str | None = "family",
    families: Iterable[str] | None = None,
    top: int = 20,
    max_texts: int | None = 20_000,
    seed: int = 0,
    min_len: int = 2,
    segmenter: Any,
    taxonomy: Taxonomy,
    cache: StatsCache | None = None,
) -> pd.DataFrame:
    """The most frequent terms of call texts, per category family (``by="family"``) or overall (``by=None``).

    Returns ``family`` (``"all"`` when ``by=None``), ``label_zh``, ``label_en``, ``term``, ``count`` (occurrences),
    ``docs`` (texts containing it), ``share`` (of all kept tokens of the group), ``rank``. ``.attrs["texts"]``:
    texts segmented per group.
    """
    tax = taxonomy
    p = as_period(period)
    seg = segmenter
    if by not in (None, "family"):
        raise AnalyticsError(f"top_terms groups by 'family' or None; got {by!r}")
    df = _texts(incidents, p, families=families, taxonomy=tax, by_family=by == "family", max_texts=max_texts,
                seed=seed)
    rows: list[pd.DataFrame] = []
    used: dict[str, int] = {}
    for fam, grp in df.groupby("family", sort=True):
        texts = _sample(grp["text"], max_texts, seed)
        used[str(fam)] = len(texts)
        cnt, docs = _term_stats(seg, texts, min_len, cache)
        if not cnt:
            continue
        total = sum(cnt.values())
        best = sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        rows.append(pd.DataFrame({
            "family": str(fam), "term": [w for w, _ in best], "count": [c for _, c in best],
            "docs": [docs[w] for w, _ in best], "share": [c / total for _, c in best],
            "rank": np.arange(1, len(best) + 1)}))
    cols = ["family", "label_zh", "label_en", "term", "count", "docs", "share", "rank"]
    if not rows:
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(rows, ignore_index=True)
        out["label_zh"] = [tax.label(f, "zh") if f in tax.families else ("全部" if f == "all" else f)
                           for f in out["family"]]
        out["label_en"] = [tax.label(f, "en") if f in tax.families else ("All" if f == "all" else f)
                           for f in out["family"]]
        out = out[cols]
    out.attrs.update(period=p.code, texts=used)
    return out


def rising_terms(
    incidents: ir.Table,
    period: Period | str,
    *,
    comparison: Period | str | None = "yoy",
    families: Iterable[str] | None = None,
    top: int = 20,
    max_texts: int | None = 20_000,
    seed: int = 0,
    min_len: int = 2,
    min_count: int = 5,
    segmenter: Any,
    taxonomy: Taxonomy,
    cache: StatsCache | None = None,
) -> pd.DataFrame:
    """Terms whose share of words rose or fell most against the comparison period (weighted log-odds, informative
    Dirichlet prior).

    Returns up to ``top`` rising then ``top`` falling terms: ``term``, ``count``, ``count_prev``, ``delta``
    (log-odds difference), ``z`` (its z-score; ``|z| > 1.96`` ≈ 95 % sure), ``direction`` (``rising|falling``),
    ``rank`` within the direction. Terms seen fewer than ``min_count`` times in both periods together are skipped.
    """
    tax = taxonomy
    p = as_period(period)
    c = resolve_comparison(p, comparison)
    if c is None:
        raise AnalyticsError("rising_terms needs a comparison period ('yoy', 'pop' or a period)")
    seg = segmenter
    counts_: list[dict[str, int]] = []
    used = []
    for per in (p, c):
        df = _texts(incidents, per, families=families, taxonomy=tax, by_family=False, max_texts=max_texts,
                    seed=seed)
        texts = _sample(df["text"], max_texts, seed)
        used.append(len(texts))
        counts_.append(_term_stats(seg, texts, min_len, cache)[0])
    from anju.text.terms import weighted_log_odds

    cols = ["term", "count", "count_prev", "delta", "z", "direction", "rank"]
    if not counts_[0] or not counts_[1]:
        out = pd.DataFrame(columns=cols)
        out.attrs.update(period=p.code, comparison=c.code, texts=used)
        return out
    lo = weighted_log_odds(counts_[0], counts_[1])
    lo = lo.rename(columns={"count_a": "count", "count_b": "count_prev"})
    lo = lo[(lo["count"] + lo["count_prev"]) >= min_count]
    up = lo[lo["z"] > 0].sort_values(["z", "term"], ascending=[False, True]).head(top).assign(direction="rising")
    down = lo[lo["z"] < 0].sort_values(["z", "term"], ascending=[True, True]).head(top).assign(direction="falling")
    up["rank"] = np.arange(1, len(up) + 1)
    down["rank"] = np.arange(1, len(down) + 1)
    out = pd.concat([up, down], ignore_index=True)[cols]
    out["count"] = out["count"].astype("int64")
    out["count_prev"] = out["count_prev"].astype("int64")
    out.attrs.update(period=p.code, comparison=c.code, texts=used)
    return out


def distinctive_terms(
    incidents: ir.Table,
    period: Period | str,
    *,
    families: Iterable[str] | None = None,
    top: int = 8,
    min_count: int = 5,
    min_len: int = 2,
    segmenter: Any,
    taxonomy: Taxonomy,
    cache: StatsCache | None = None,
) -> pd.DataFrame:
    """The terms that set each category family apart from the others in the period's call texts.

    Each family's texts (all of them, no sampling) are compared with the texts of every other family by the weighted
    log-odds with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008); a term common to every family
    (boilerplate) scores near zero, so what is left says what the calls of a family are about.

    Returns ``family``, ``label_zh``, ``label_en``, ``term``, ``count`` (in the family), ``count_rest``, ``z`` and
    ``rank`` (1 = most distinctive), ``top`` rows per family with a positive ``z``, families by call count.
    """
    from anju.text.terms import weighted_log_odds

    tax = taxonomy
    p = as_period(period)
    df = _texts(incidents, p, families=families, taxonomy=tax, by_family=True, max_texts=None)
    per: dict[str, dict[str, int]] = {}
    sizes: dict[str, int] = {}
    for fam, grp in df.groupby("family", sort=True):
        per[str(fam)] = _term_stats(segmenter, grp["text"].astype(str).tolist(), min_len, cache)[0]
        sizes[str(fam)] = len(grp)
    total: Counter[str] = Counter()
    for cnt in per.values():
        total.update(cnt)
    cols = ["family", "label_zh", "label_en", "term", "count", "count_rest", "z", "rank"]
    rows: list[pd.DataFrame] = []
    if len(per) >= 2:
        for fam in sorted(per, key=lambda f: (-sizes[f], f)):
            cnt = per[fam]
            rest = {w: total[w] - cnt.get(w, 0) for w in total}
            lo = weighted_log_odds(cnt, rest, prior=total)
            lo = lo[(lo["count_a"] >= min_count) & (lo["z"] > 0)]
            lo = lo.sort_values(["z", "term"], ascending=[False, True]).head(top)
            rows.append(pd.DataFrame({"family": fam, "term": lo["term"].to_numpy(),
                                      "count": lo["count_a"].to_numpy(), "count_rest": lo["count_b"].to_numpy(),
                                      "z": lo["z"].to_numpy(), "rank": np.arange(1, len(lo) + 1)}))
    if not rows:
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(rows, ignore_index=True)
        out["count"] = out["count"].astype("int64")
        out["count_rest"] = out["count_rest"].astype("int64")
        out["label_zh"] = [tax.label(f, "zh") if f in tax.families else f for f in out["family"]]
        out["label_en"] = [tax.label(f, "en") if f in tax.families else f for f in out["family"]]
        out = out[cols]
    out.attrs.update(period=p.code, texts=sizes)
    return out


def _fraud_rows(incidents: ir.Table, period: Period, family: str, amounts_from_text: bool) -> pd.DataFrame:
    t = in_period(incidents, period)
    t = t.filter(t.family == family)
    df = t.select("category", "loss_yuan", "text").to_pandas()
    loss = pd.to_numeric(df["loss_yuan"], errors="coerce").to_numpy(float, copy=True)
    if amounts_from_text and len(df):
        miss = np.isnan(loss) & df["text"].notna().to_numpy()
        if miss.any():
            from anju.text.extract import amounts_yuan

            loss[miss] = np.asarray(amounts_yuan(df.loc[miss, "text"].astype(str).tolist()), dtype=float)
    df["loss"] = np.where(loss > 0, loss, np.nan)
    return df


def fraud_techniques(
    incidents: ir.Table,
    period: Period | str,
    *,
    comparison: Period | str | None = None,
    taxonomy: Taxonomy,
    family: str = "fraud",
    amounts_from_text: bool = True,
    method: Method = "binom",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Fraud techniques (诈骗手法): how often each is reported and what it costs victims.

    Losses come from the ``loss_yuan`` column (涉案金额) and, where it is empty, from amounts written in the call text
    (:func:`anju.text.extract.amounts_yuan`, e.g. "被骗3.5万元").

    Returns one row per fraud leaf of the taxonomy (zero rows included): ``category``, ``label_zh``, ``label_en``,
    ``count``, ``share`` (of fraud calls), ``loss_known`` (calls with an amount), ``loss_total``, ``loss_mean``,
    ``loss_median`` (yuan, over calls with an amount), ``loss_share`` (of all fraud losses), ``rank_loss``,
    ``costliest`` (the largest total loss) and, with ``comparison``, ``count_prev`` and the change columns; sorted by
    ``count``.
    """
    tax = taxonomy
    if family not in tax.families:
        raise AnalyticsError(f"unknown family {family!r}")
    p = as_period(period)
    df = _fraud_rows(incidents, p, family, amounts_from_text)
    codes = tax.codes(family=family)
    g = df.groupby("category")
    out = pd.DataFrame({"category": codes})
    out["count"] = out["category"].map(g.size()).fillna(0).astype("int64")
    out["loss_known"] = out["category"].map(g["loss"].count()).fillna(0).astype("int64")
    out["loss_total"] = out["category"].map(g["loss"].sum(min_count=1)).fillna(0.0)
    out["loss_mean"] = out["category"].map(g["loss"].mean())
    out["loss_median"] = out["category"].map(g["loss"].median())
    total = out["count"].sum()
    out["share"] = out["count"] / total if total else np.nan
    lt = out["loss_total"].sum()
    out["loss_share"] = out["loss_total"] / lt if lt > 0 else np.nan
    out["rank_loss"] = out["loss_total"].rank(ascending=False, method="min").astype("int64")
    out["costliest"] = (out["loss_total"] == out["loss_total"].max()) & (lt > 0)
    out.insert(1, "label_zh", [tax.label(x, "zh") for x in codes])
    out.insert(2, "label_en", [tax.label(x, "en") for x in codes])
    c = resolve_comparison(p, comparison) if comparison is not None else None
    if c is not None:
        t = in_period(incidents, c)
        prev = t.filter(t.family == family).group_by("category").aggregate(n=ibis._.count()).to_pandas()
        out["count_prev"] = out["category"].map(prev.set_index("category")["n"]).fillna(0).astype("int64")
        out = change_table(out, exposure=p.days, exposure_prev=c.days, method=method, alpha=alpha)
    out = out.sort_values(["count", "category"], ascending=[False, True]).reset_index(drop=True)
    out.attrs.update(period=p.code, comparison=c.code if c is not None else None,
                     loss_from_text=int((df["loss_yuan"].isna() & df["loss"].notna()).sum()) if len(df) else 0)
    return out
