"""Word analytics of call texts (词频分析): top terms per family, rising and falling terms, fraud techniques.

Segmentation, term counting, the weighted log-odds and amount extraction come from :mod:`anju.text` (rjieba with a
police-domain dictionary and stop words). Rising/falling terms use the weighted log-odds ratio with an informative
Dirichlet prior (Monroe, Colaresi & Quinn 2008): a term's z-score says how surely its share of words rose, so rare
words do not dominate as they do with raw ratios. Large periods may be sampled (``max_texts`` per group: the calls
of lowest seeded hash of their record key, the same calls on every engine); counts are then of the sample and the
sample size is in ``.attrs``.

Where the work runs: the engine selects the texts and counts repeats (``GROUP BY`` text); the segmentation and
counting (:func:`count_terms`) run per batch of rows where the rows are — in Spark's executors with ``mapInArrow``,
summed by Spark so only the term table reaches the driver, or in this process on DuckDB — through
:func:`anju.lake.engine.sum_batches`. Both engines give the same term tables (tests/lake/test_spark.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import partial
from itertools import chain
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from anju.analytics._common import AnalyticsError, as_period, category_filter, in_period
from anju.analytics.change import Method, change_table
from anju.analytics.periods import Period, resolve_comparison
from anju.lake.engine import hash_prefix, hash_threshold, sum_batches
from anju.taxonomy import Taxonomy

__all__ = ["distinctive_terms", "fraud_techniques", "rising_terms", "top_terms"]

_JUNK = re.compile(r"^[\d\W_*×xX]+$")
_ADDRESS = re.compile(r"^.{1,8}(?:路|弄|巷|大道|公路|大街|号楼|号院|小区|新村|花园|苑)$")
"""Place names (roads, lanes, estates): they say where, not what, and the maps show where."""


def _selected(incidents: ir.Table, period: Period, *, families: Iterable[str] | None, taxonomy: Taxonomy,
              by_family: bool, max_texts: int | None, seed: int, widen: bool = False
              ) -> tuple[ir.Table, dict[str, int]]:
    """The distinct texts of the period's calls with text and how often each occurs: ``_g`` (the family, or
    ``"all"``), ``text``, ``_n`` — an engine expression (a city-year's texts never travel to the driver).

    With ``max_texts``, a group larger than that keeps the ``max_texts`` calls of lowest key: the MD5 prefix of the
    record key (or of the text) salted with ``seed`` (:func:`~anju.lake.engine.hash_prefix`), ties broken by the
    key itself — a rule the engine evaluates alike on DuckDB and Spark, so both select the same calls. A cheap
    pre-filter on the hash keeps ~1.2 × ``max_texts`` rows per large group before the ranking (its bound is a
    prefix of the ranking's order, so the result is the same unless it keeps too few; then ``widen`` drops it).
    Also returns the sizes of the groups that were thinned.
    """
    t = category_filter(in_period(incidents, period), families=families, taxonomy=taxonomy)
    t = t.filter(t.text.notnull() & (t.text.length() > 0))
    t = t.mutate(_g=t.family if by_family else ibis.literal("all"))
    thinned: dict[str, int] = {}
    if max_texts is not None:
        sizes = t.group_by("_g").aggregate(n=ibis._.count()).to_pandas()
        big = sizes[sizes["n"] > max_texts]
        thinned = {str(g): int(n) for g, n in zip(big["_g"], big["n"], strict=True)}
        if len(big):
            base = t.record_key if "record_key" in t.columns else t.text
            t = t.mutate(_h=hash_prefix(base.concat(ibis.literal(f"#{seed}"))), _k=base)
            keep = ~t._g.isin(big["_g"].tolist())
            for g, n in zip(big["_g"], big["n"], strict=True):
                frac = 1.0 if widen else min(1.0, (1.2 * max_texts + 3 * max_texts**0.5 + 10) / n)
                keep = keep | ((t._g == g) & (t._h < hash_threshold(frac)))
            t = t.filter(keep)
            rank = ibis.row_number().over(group_by=t._g, order_by=[t._h, t._k])
            t = t.mutate(_i=rank)
            t = t.filter(~t._g.isin(big["_g"].tolist()) | (t._i < max_texts))
    return t.group_by(["_g", "text"]).aggregate(_n=ibis._.count()), thinned


def _keep(term: str, min_len: int) -> bool:
    return len(term) >= min_len and not _JUNK.match(term) and not _ADDRESS.match(term)


TERM_SCHEMA = pa.schema([pa.field("_g", pa.string()), pa.field("term", pa.string()),
                         pa.field("count", pa.int64()), pa.field("docs", pa.int64())])
"""A term table: per group and term, its occurrences and the calls containing it. The row with a null ``term``
carries the group's number of calls (texts) in both ``count`` and ``docs``."""


def count_terms(batch: pa.RecordBatch, segmenter: Any, min_len: int) -> pa.RecordBatch:
    """The term table (:data:`TERM_SCHEMA`) of a batch of ``_g``, ``text``, ``_n`` rows (a text of ``_n`` calls).

    Every count is a sum over calls, so term tables of any split of the rows add up to the table of the whole:
    Spark runs this per partition and sums, DuckDB runs it on its batches — the same function on both engines.
    Each distinct text is segmented once.
    """
    groups = batch.column("_g").to_pylist()
    texts = batch.column("text").to_pylist()
    mult = batch.column("_n").to_pylist()
    uniq = list(dict.fromkeys(texts))
    tokens = dict(zip(uniq, segmenter.cut_many(uniq), strict=True))
    rows: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        rows.setdefault(g, []).append(i)
    out_g: list[str] = []
    out_t: list[str | None] = []
    out_c: list[int] = []
    out_d: list[int] = []
    for g, idx in rows.items():
        once = [tokens[texts[i]] for i in idx if mult[i] == 1]
        raw: Counter[str] = Counter(chain.from_iterable(once))
        docs: Counter[str] = Counter(chain.from_iterable(set(doc) for doc in once))
        for i in idx:
            m = int(mult[i])
            if m > 1:
                doc = tokens[texts[i]]
                for w in doc:
                    raw[w] += m
                for w in set(doc):
                    docs[w] += m
        kept = [w for w in raw if _keep(w, min_len)]
        n = int(sum(mult[i] for i in idx))
        out_g += [g] * (len(kept) + 1)
        out_t += [*kept, None]
        out_c += [raw[w] for w in kept] + [n]
        out_d += [docs[w] for w in kept] + [n]
    return pa.RecordBatch.from_arrays([pa.array(out_g, pa.string()), pa.array(out_t, pa.string()),
                                       pa.array(out_c, pa.int64()), pa.array(out_d, pa.int64())],
                                      schema=TERM_SCHEMA)


_WORKER_SEGMENTERS: dict[str, Any] = {}
"""Per Python worker process (Spark executors): segmenters already built, by fingerprint, so a worker builds the
dictionary once (~0.25 s) instead of once per task."""


class TermCounter:
    """:func:`count_terms` with its segmenter, as one picklable batch function for
    :func:`~anju.lake.engine.sum_batches`: the segmenter travels with its dictionary and stop words (the deployment's
    included), and a worker that has built the same segmenter before reuses it."""

    def __init__(self, segmenter: Any, min_len: int) -> None:
        self.segmenter = segmenter
        self.min_len = min_len
        self.key = segmenter.fingerprint() if hasattr(segmenter, "fingerprint") else None

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.key is not None:
            self.segmenter = _WORKER_SEGMENTERS.setdefault(self.key, self.segmenter)

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return count_terms(batch, self.segmenter, self.min_len)


class TermTable:
    """Term counts per group: ``counts[g][term]``, ``docs[g][term]`` and ``texts[g]`` (calls counted)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.docs: dict[str, dict[str, int]] = {}
        self.texts: dict[str, int] = {}
        for g, grp in frame.groupby("_g", sort=True):
            words = grp[grp["term"].notna()]
            self.counts[str(g)] = dict(zip(words["term"], words["count"].astype(int), strict=True))
            self.docs[str(g)] = dict(zip(words["term"], words["docs"].astype(int), strict=True))
            self.texts[str(g)] = int(grp.loc[grp["term"].isna(), "docs"].sum())


StatsCache = dict[tuple[int, str], pd.DataFrame]
"""Term tables already computed in one job, keyed by ``(min_len, SQL of the selection)``; see :func:`top_terms`."""


def _term_frame(sel: ir.Table, segmenter: Any, min_len: int, cache: StatsCache | None) -> pd.DataFrame:
    key = (min_len, str(ibis.to_sql(sel)))
    hit = None if cache is None else cache.get(key)
    if hit is None:
        hit = sum_batches(sel, TermCounter(segmenter, min_len), TERM_SCHEMA, ("_g", "term"))
        if cache is not None:
            cache[key] = hit
    return hit


def _term_table(incidents: ir.Table, period: Period, *, families: Iterable[str] | None, taxonomy: Taxonomy,
                by_family: bool, max_texts: int | None, seed: int, segmenter: Any, min_len: int,
                cache: StatsCache | None) -> TermTable:
    """The term table of the period's call texts per family (or ``"all"``), segmented where the rows are.

    Without sampling the family table is computed and ``"all"`` is its sum (every count is a sum over calls), so a
    release's top terms, rising terms and distinctive terms of one period segment its texts once (``cache``).
    A caller that passes the same ``cache`` dict to several calls of one job shares the tables; the cache belongs
    to the caller, never to the module, so two requests with different dictionaries cannot see each other's terms.
    """
    select = partial(_selected, incidents, period, families=families, taxonomy=taxonomy, seed=seed)
    if max_texts is None:
        sel, _ = select(by_family=True, max_texts=None)
        frame = _term_frame(sel, segmenter, min_len, cache)
        if not by_family:
            frame = frame.assign(_g="all").groupby(["_g", "term"], dropna=False, as_index=False)[
                ["count", "docs"]].sum()
        return TermTable(frame)
    sel, thinned = select(by_family=by_family, max_texts=max_texts)
    table = TermTable(_term_frame(sel, segmenter, min_len, cache))
    if any(table.texts.get(g, 0) < max_texts for g in thinned):  # the pre-filter kept too few (very rare)
        sel, _ = select(by_family=by_family, max_texts=max_texts, widen=True)
        table = TermTable(_term_frame(sel, segmenter, min_len, cache))
    return table


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
    table = _term_table(incidents, p, families=families, taxonomy=tax, by_family=by == "family",
                        max_texts=max_texts, seed=seed, segmenter=seg, min_len=min_len, cache=cache)
    rows: list[pd.DataFrame] = []
    used = dict(table.texts)
    for fam in sorted(table.texts):
        cnt, docs = table.counts[fam], table.docs[fam]
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
        table = _term_table(incidents, per, families=families, taxonomy=tax, by_family=False, max_texts=max_texts,
                            seed=seed, segmenter=seg, min_len=min_len, cache=cache)
        used.append(table.texts.get("all", 0))
        counts_.append(table.counts.get("all", {}))
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
    table = _term_table(incidents, p, families=families, taxonomy=tax, by_family=True, max_texts=None, seed=0,
                        segmenter=segmenter, min_len=min_len, cache=cache)
    per = table.counts
    sizes = dict(table.texts)
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


FRAUD_SCHEMA = pa.schema([pa.field("category", pa.string()), pa.field("loss", pa.float64()),
                          pa.field("from_text", pa.bool_()), pa.field("n", pa.int64())])
"""Loss amounts of fraud calls as a histogram: per category, amount (null: none known) and whether it was read from
the text, the number of calls."""


class FraudAmounts:
    """The batch function of :func:`fraud_techniques` (picklable, for :func:`~anju.lake.engine.sum_batches`): the
    loss of each distinct (category, ``loss_yuan``, text) row — the column, else an amount written in the text — as
    histogram rows (:data:`FRAUD_SCHEMA`). Counts of calls per amount add up over any split of the rows."""

    def __init__(self, amounts_from_text: bool) -> None:
        self.amounts_from_text = amounts_from_text

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        loss = batch.column("loss_yuan").to_numpy(zero_copy_only=False).astype(float, copy=True)
        texts = batch.column("_text").to_pylist()
        given = ~np.isnan(loss)
        if self.amounts_from_text:
            miss = np.flatnonzero(~given & np.array([x is not None for x in texts], dtype=bool))
            if len(miss):
                from anju.text.extract import amounts_yuan

                loss[miss] = np.asarray(amounts_yuan([texts[i] for i in miss]), dtype=float)
        known = loss > 0
        return pa.RecordBatch.from_arrays(
            [batch.column("category").cast(pa.string()), pa.array(np.where(known, loss, 0.0), mask=~known),
             pa.array(known & ~given), batch.column("_n").cast(pa.int64())], schema=FRAUD_SCHEMA)


def _fraud_amounts(incidents: ir.Table, period: Period, family: str, amounts_from_text: bool) -> pd.DataFrame:
    """The histogram of the period's fraud losses (:data:`FRAUD_SCHEMA`), computed where the rows are: the engine
    groups the calls by category, ``loss_yuan`` and (where the column is empty) text; the amounts are read from the
    texts per batch (in Spark's executors on Spark)."""
    t = in_period(incidents, period)
    t = t.filter(t.family == family)
    empty = t.loss_yuan.isnull() | t.loss_yuan.isnan()
    text = empty.ifelse(t.text, ibis.null(str)) if amounts_from_text else ibis.null(str)
    sel = t.mutate(_text=text).group_by(["category", "loss_yuan", "_text"]).aggregate(_n=ibis._.count())
    hist = sum_batches(sel, FraudAmounts(amounts_from_text), FRAUD_SCHEMA, ("category", "loss", "from_text"))
    return hist.sort_values(["category", "loss", "from_text"], na_position="last").reset_index(drop=True)


def _loss_stats(hist: pd.DataFrame) -> pd.DataFrame:
    """Per category from the loss histogram: ``count``, ``loss_known``, ``loss_total``, ``loss_mean``,
    ``loss_median`` (exact: the middle amount, or the mean of the two middle ones), summed in amount order so every
    engine gives the same floats."""
    rows = []
    for cat, grp in hist.groupby("category", sort=True):
        known = grp[grp["loss"].notna()]
        k = int(known["n"].sum())
        vals, ns = known["loss"].to_numpy(float), known["n"].to_numpy(np.int64)
        total = float(sum(v * n for v, n in zip(vals.tolist(), ns.tolist(), strict=True))) if k else 0.0
        median = np.nan
        if k:
            ends = np.cumsum(ns)
            lo, hi = vals[np.searchsorted(ends, (k - 1) // 2, side="right")], vals[np.searchsorted(ends, k // 2,
                                                                                                side="right")]
            median = float((lo + hi) / 2)
        rows.append((cat, int(grp["n"].sum()), k, total, total / k if k else np.nan, median))
    return pd.DataFrame(rows, columns=["category", "count", "loss_known", "loss_total", "loss_mean", "loss_median"])


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
    hist = _fraud_amounts(incidents, p, family, amounts_from_text)
    stats = _loss_stats(hist).set_index("category")
    codes = tax.codes(family=family)
    out = pd.DataFrame({"category": codes})
    out["count"] = out["category"].map(stats["count"]).fillna(0).astype("int64")
    out["loss_known"] = out["category"].map(stats["loss_known"]).fillna(0).astype("int64")
    out["loss_total"] = out["category"].map(stats["loss_total"]).fillna(0.0).astype(float)
    out["loss_mean"] = out["category"].map(stats["loss_mean"]).astype(float)
    out["loss_median"] = out["category"].map(stats["loss_median"]).astype(float)
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
                     loss_from_text=int(hist.loc[hist["from_text"].astype(bool), "n"].sum()))
    return out
