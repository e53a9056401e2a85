"""Term statistics for word-frequency analysis: counts, TF-IDF keywords, and two-corpus comparison.

* :func:`term_counts` — how often each token occurs.
* :func:`tfidf_keywords` — the terms that characterise a corpus against a background corpus (TF-IDF: frequent
  here, rare across the background's documents).
* :func:`weighted_log_odds` — which terms are more typical of corpus A than of corpus B, with a z-score that says
  how sure that is: the weighted log-odds ratio with an informative Dirichlet prior of Monroe, Colaresi & Quinn
  (2008), see docs/methods/log-odds.md. Unlike raw frequency ratios it does not let rare words dominate.
* :func:`textrank_keywords` — jieba's TextRank over a segmenter with the police dictionary (the one jieba-only
  feature used here).

Token lists come from :meth:`anju.text.segment.Segmenter.cut_many`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from anju.errors import AnjuError

__all__ = ["background_idf", "term_counts", "textrank_keywords", "tfidf_keywords", "weighted_log_odds"]


def term_counts(token_lists: Iterable[Iterable[str]]) -> dict[str, int]:
    """Occurrences of each token over all token lists.

    >>> term_counts([["被盗", "电动车"], ["电动车", "电瓶"]])
    {'被盗': 1, '电动车': 2, '电瓶': 1}
    """
    return dict(Counter(chain.from_iterable(token_lists)))


def _doc_freq(token_lists: Iterable[Iterable[str]]) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    n = 0
    for doc in token_lists:
        df.update(set(doc))
        n += 1
    return df, n


def background_idf(token_lists: Iterable[Iterable[str]]) -> dict[str, float]:
    """Smoothed inverse document frequencies of a background corpus, ``log((1 + N) / (1 + df)) + 1``.

    The same formula as scikit-learn's ``TfidfVectorizer(smooth_idf=True)``; store the result to reuse a large
    background (e.g. all calls of three years) without keeping its texts. ``idf["<unseen>"]`` is the value for a
    term the background never saw.

    >>> idf = background_idf([["a", "b"], ["a"]])
    >>> round(idf["a"], 4), round(idf["b"], 4), round(idf["<unseen>"], 4)
    (1.0, 1.4055, 2.0986)
    """
    df, n = _doc_freq(token_lists)
    out = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}
    out["<unseen>"] = math.log(1 + n) + 1.0
    return out


def tfidf_keywords(
    token_lists: Sequence[Sequence[str]],
    background: Sequence[Sequence[str]] | Mapping[str, float] | None = None,
    top: int = 20,
    *,
    min_count: int = 2,
) -> pd.DataFrame:
    """Keywords of a corpus: terms frequent in ``token_lists`` and rare in the background's documents.

    Parameters
    ----------
    token_lists
        The target corpus, one token list per text.
    background
        Token lists of a background corpus, or an idf table from :func:`background_idf`. ``None`` uses the target
        corpus itself (classic within-corpus TF-IDF: common and concentrated terms).
    top
        How many keywords to return.
    min_count
        Ignore terms seen fewer times in the target corpus.

    Returns
    -------
    pandas.DataFrame
        ``term``, ``count`` (occurrences in the target), ``tf`` (share of the target's tokens), ``idf``, ``score``
        (``tf × idf``), best first (ties by term).

    Examples
    --------
    >>> target = [["刷单", "返利", "被骗"], ["刷单", "被骗"], ["刷单", "佣金"]]
    >>> bg = [["被骗", "转账"], ["被骗"], ["电动车", "被盗"], ["刷单"]]
    >>> tfidf_keywords(target, bg, top=2)["term"].tolist()
    ['刷单', '被骗']
    """
    counts = Counter(chain.from_iterable(token_lists))
    total = sum(counts.values())
    cols = ["term", "count", "tf", "idf", "score"]
    if total == 0:
        return pd.DataFrame(columns=cols)
    if background is None:
        idf = background_idf(token_lists)
    elif isinstance(background, Mapping):
        idf = dict(background)
    else:
        idf = background_idf(background)
    unseen = idf.get("<unseen>", max(idf.values(), default=1.0))
    terms = [w for w, c in counts.items() if c >= min_count]
    cnt = np.array([counts[w] for w in terms], dtype=np.int64)
    idf_v = np.array([idf.get(w, unseen) for w in terms], dtype=float)
    tf = cnt / total
    out = pd.DataFrame({"term": terms, "count": cnt, "tf": tf, "idf": idf_v, "score": tf * idf_v})
    out = out.sort_values(["score", "term"], ascending=[False, True]).head(top).reset_index(drop=True)
    return out


def weighted_log_odds(
    counts_a: Mapping[str, float],
    counts_b: Mapping[str, float],
    prior: Mapping[str, float] | None = None,
    *,
    alpha0: float | None = None,
    floor: float = 0.01,
) -> pd.DataFrame:
    r"""Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008).

    For term :math:`w` with counts :math:`y_{a w}, y_{b w}`, corpus sizes :math:`n_a, n_b`, prior counts
    :math:`\alpha_w` and :math:`\alpha_0 = \sum_w \alpha_w`:

    .. math::

        \delta_w = \log\frac{y_{aw} + \alpha_w}{n_a + \alpha_0 - y_{aw} - \alpha_w}
                 - \log\frac{y_{bw} + \alpha_w}{n_b + \alpha_0 - y_{bw} - \alpha_w},
        \qquad
        \sigma^2_w \approx \frac{1}{y_{aw} + \alpha_w} + \frac{1}{y_{bw} + \alpha_w},
        \qquad z_w = \delta_w / \sigma_w .

    Parameters
    ----------
    counts_a, counts_b
        Term counts of the two corpora (e.g. this half-year and the same half-year last year).
    prior
        Background term counts for the prior. ``None`` uses the pooled counts ``a + b`` (the usual choice when no
        larger background exists, as in tidylo). Terms missing from the prior get ``floor``.
    alpha0
        If given, rescale the prior so that it sums to ``alpha0`` (less → weaker shrinkage).
    floor
        Prior count for terms the prior lacks (must be > 0).

    Returns
    -------
    pandas.DataFrame
        ``term``, ``count_a``, ``count_b``, ``delta`` (> 0: more typical of A), ``z`` — one row per term of A ∪ B,
        sorted by ``z`` descending (ties by term). ``|z| > 1.96`` ≈ 95 % sure the use differs.

    Examples
    --------
    >>> out = weighted_log_odds({"刷单": 30, "被盗": 10}, {"刷单": 10, "被盗": 30})
    >>> out[["term", "count_a", "count_b"]].values.tolist()
    [['刷单', 30, 10], ['被盗', 10, 30]]
    >>> bool(out["z"].iloc[0] > 1.96), bool(abs(out["delta"].iloc[0] + out["delta"].iloc[1]) < 1e-12)
    (True, True)
    """
    if floor <= 0:
        raise AnjuError(f"weighted_log_odds: floor must be > 0; got {floor!r}")
    terms = sorted(set(counts_a) | set(counts_b))
    cols = ["term", "count_a", "count_b", "delta", "z"]
    if not terms:
        return pd.DataFrame(columns=cols)
    ya = np.array([counts_a.get(w, 0) for w in terms], dtype=float)
    yb = np.array([counts_b.get(w, 0) for w in terms], dtype=float)
    if (ya < 0).any() or (yb < 0).any():
        raise AnjuError("weighted_log_odds: counts must be non-negative")
    if prior is None:
        alpha = ya + yb
        extra = 0.0
    else:
        alpha = np.array([float(prior.get(w, 0.0)) for w in terms])
        extra = float(sum(v for w, v in prior.items() if w not in counts_a and w not in counts_b))
        if (alpha < 0).any() or extra < 0:
            raise AnjuError("weighted_log_odds: prior counts must be non-negative")
    alpha = np.where(alpha > 0, alpha, floor)
    a0 = float(alpha.sum()) + extra
    if alpha0 is not None:
        if alpha0 <= 0:
            raise AnjuError(f"weighted_log_odds: alpha0 must be > 0; got {alpha0!r}")
        alpha = alpha * (alpha0 / a0)
        a0 = float(alpha0)
    na, nb = ya.sum(), yb.sum()
    la = np.log(ya + alpha) - np.log(na + a0 - ya - alpha)
    lb = np.log(yb + alpha) - np.log(nb + a0 - yb - alpha)
    delta = la - lb
    z = delta / np.sqrt(1.0 / (ya + alpha) + 1.0 / (yb + alpha))
    int_a = all(float(v).is_integer() for v in ya)
    int_b = all(float(v).is_integer() for v in yb)
    out = pd.DataFrame({
        "term": terms,
        "count_a": ya.astype(np.int64) if int_a else ya,
        "count_b": yb.astype(np.int64) if int_b else yb,
        "delta": delta,
        "z": z,
    })
    return out.sort_values(["z", "term"], ascending=[False, True]).reset_index(drop=True)


def textrank_keywords(texts: Iterable[str], top: int = 20, *, segmenter: Any,
                      allow_pos: tuple[str, ...] = ("n", "nr", "ns", "nt", "nz", "vn", "v")) -> list[tuple[str, float]]:
    """TextRank keywords of the texts taken together (jieba.analyse.TextRank with the police dictionary).

    Slower than :func:`tfidf_keywords` (pure-Python jieba); meant for a few thousand texts.
    """
    import warnings

    from anju.text.normalize import normalize

    seg = segmenter
    tok = seg.jieba()
    with warnings.catch_warnings():  # jieba 0.42 has invalid escape sequences in its regexes
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        from jieba import analyse, posseg
    tr = analyse.TextRank()
    tr.tokenizer = tr.postokenizer = posseg.POSTokenizer(tok)
    tr.stop_words = set(tr.stop_words) | set(seg.stopwords)
    joined = "\n".join(normalize(texts))
    return [(str(w), float(s)) for w, s in tr.textrank(joined, topK=top, withWeight=True, allowPOS=allow_pos)]
