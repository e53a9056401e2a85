"""Text features for the linear classifiers: TF-IDF over words plus TF-IDF over character 1–2-grams.

Words come from the police-dictionary segmenter; character n-grams catch what segmentation misses (typos such as
电平车, unseen names, traditional leftovers). Both blocks use sublinear TF (``1 + log tf``), smoothed IDF and L2
row normalisation, like scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``, and are stacked side by side.

Why not ``TfidfVectorizer`` itself? Its analyzers run a Python loop per n-gram, which is the bottleneck at a
million texts. Here character n-grams are computed as arrays: the texts are laid end to end as UTF-32 code points,
unigram codes are the code points, bigram codes pack two code points into one int64, and the vocabulary is a sorted
array searched with ``np.searchsorted`` — no per-n-gram Python work. Word ids come from one ``dict.get`` mapped over
the flattened tokens. The result equals ``TfidfVectorizer`` on the same tokens (tests/text/test_features.py checks
it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from anju.errors import NotFittedError
from anju.text.normalize import normalize
from anju.text.segment import Segmenter

__all__ = ["CharNgrams", "TextFeatures", "WordTfidf", "char_codes"]

_SHIFT = np.int64(21)  # code points are < 2**21


def char_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, n-gram code) of every character unigram and bigram of ``texts``.

    Unigram codes are code points (< 2**21); bigram codes are ``(cp1 + 1) << 21 | cp2`` (≥ 2**21), so the two never
    collide. Whitespace characters are skipped as unigrams and do not form bigrams.
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    docs = np.repeat(np.arange(n, dtype=np.int64), lens)
    keep = cps != 32
    uni_docs, uni = docs[keep], cps[keep]
    if len(cps) > 1:
        same = (docs[1:] == docs[:-1]) & keep[1:] & keep[:-1]
        bi = ((cps[:-1][same] + 1) << _SHIFT) | cps[1:][same]
        bi_docs = docs[:-1][same]
    else:
        bi, bi_docs = np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([uni_docs, bi_docs]), np.concatenate([uni, bi])


def _tfidf_rows(rows: np.ndarray, cols: np.ndarray, n_rows: int, idf: np.ndarray) -> sp.csr_matrix:
    """Sparse TF-IDF (sublinear tf, L2-normalised rows) from (row, col) occurrence pairs.

    One sort of the packed ``row * n_cols + col`` keys gives the distinct cells in CSR order with their counts, so
    no COO → CSR conversion or duplicate summing is needed.
    """
    n_cols = len(idf)
    if len(rows) == 0 or n_cols == 0:
        return sp.csr_matrix((n_rows, n_cols))
    key = rows.astype(np.int64) * n_cols + cols
    if n_rows * n_cols < 2**32:  # a 32-bit sort is about twice as fast
        key = key.astype(np.uint32)
    uniq, counts = np.unique(key, return_counts=True)
    uniq = uniq.astype(np.int64)
    r = uniq // n_cols
    c = uniq - r * n_cols
    data = (1.0 + np.log(counts)) * idf[c]
    norms = np.sqrt(np.bincount(r, weights=data * data, minlength=n_rows))
    norms[norms == 0] = 1.0
    data /= norms[r]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    m = sp.csr_matrix((data, c.astype(np.int32), indptr), shape=(n_rows, n_cols))
    m.has_sorted_indices = True
    return m


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log((1.0 + n_docs) / (1.0 + df)) + 1.0


class CharNgrams(BaseEstimator, TransformerMixin):
    """TF-IDF over character unigrams and bigrams, vectorised with NumPy.

    Parameters
    ----------
    min_df
        Keep n-grams seen in at least this many training texts.
    max_features
        Keep at most this many n-grams (the most frequent by document frequency).
    """

    def __init__(self, *, min_df: int = 2, max_features: int | None = 300_000) -> None:
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str], y: Any = None) -> CharNgrams:
        docs, codes = char_codes(list(texts))
        n_docs = max(len(texts), 1)
        vocab, inv = np.unique(codes, return_inverse=True)
        pairs = np.unique(inv.astype(np.int64) * n_docs + docs)  # distinct (n-gram, doc) pairs
        df = np.bincount(pairs // n_docs, minlength=len(vocab))
        keep = df >= self.min_df
        vocab, df = vocab[keep], df[keep]
        if self.max_features is not None and len(vocab) > self.max_features:
            top = np.sort(np.argsort(-df, kind="stable")[: self.max_features])
            vocab, df = vocab[top], df[top]
        self.vocabulary_ = vocab
        self._ix = None
        self.idf_ = _idf(df, len(texts))
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("CharNgrams is not fitted; call fit(texts) first")
        texts = list(texts)
        docs, codes = char_codes(texts)
        vocab = self.vocabulary_
        if len(vocab) == 0:
            return sp.csr_matrix((len(texts), 0))
        idx = self._index().get_indexer(codes)
        hit = idx >= 0
        return _tfidf_rows(docs[hit], idx[hit], len(texts), self.idf_)

    def _index(self) -> pd.Index:
        # a hash index over the vocabulary (about 3× faster than searchsorted on millions of codes); not pickled
        ix = getattr(self, "_ix", None)
        if ix is None:
            ix = self._ix = pd.Index(self.vocabulary_)
        return ix

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_ix", None)
        return state


class WordTfidf(BaseEstimator, TransformerMixin):
    """TF-IDF over pre-segmented token lists (stop words never enter the vocabulary)."""

    def __init__(self, *, min_df: int = 2, max_features: int | None = 200_000) -> None:
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, token_lists: Sequence[Sequence[str]], y: Any = None) -> WordTfidf:
        df: Counter[str] = Counter()
        for doc in token_lists:
            df.update(set(doc))
        items = sorted((w, c) for w, c in df.items() if c >= self.min_df)
        if self.max_features is not None and len(items) > self.max_features:
            items = sorted(sorted(items, key=lambda wc: (-wc[1], wc[0]))[: self.max_features])
        self.vocabulary_ = {w: i for i, (w, _) in enumerate(items)}
        self.idf_ = _idf(np.array([c for _, c in items], dtype=float), len(token_lists))
        return self

    def transform(self, token_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("WordTfidf is not fitted; call fit(token_lists) first")
        n = len(token_lists)
        lens = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        total = int(lens.sum())
        ids = np.fromiter(map(self.vocabulary_.get, chain.from_iterable(token_lists), repeat(-1)),
                          dtype=np.int64, count=total)
        rows = np.repeat(np.arange(n, dtype=np.int64), lens)
        hit = ids >= 0
        return _tfidf_rows(rows[hit], ids[hit], n, self.idf_)


class TextFeatures(BaseEstimator, TransformerMixin):
    """Normalise → segment → [word TF-IDF | char 1–2-gram TF-IDF] in one transformer.

    Parameters
    ----------
    word_weight, char_weight
        Multipliers of the two L2-normalised blocks.
    min_df
        Minimum document frequency of words and n-grams.
    dictionary
        Extra dictionary entries ``(word, freq, tag)`` for the segmenter (the shipped police dictionary is always
        used). Stored with the model, so a fitted model segments the same way after the dictionary files change.
    stopwords
        Extra stop words.

    The segmenter itself (a Rust object) is not pickled; it is rebuilt from the stored entries on load.
    """

    def __init__(self, *, word_weight: float = 1.0, char_weight: float = 1.0, min_df: int = 2,
                 dictionary: Sequence[tuple[str, int | None, str | None]] = (),
                 stopwords: Sequence[str] = ()) -> None:
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.min_df = min_df
        self.dictionary = dictionary
        self.stopwords = stopwords

    # the segmenter is rebuilt lazily (it cannot be pickled)
    def _segmenter(self) -> Segmenter:
        seg = getattr(self, "_seg", None)
        if seg is None:
            seg = Segmenter(stopwords=self.stopwords)
            for word, freq, tag in self.dictionary:
                seg._jieba_rs.add_word(word, freq, tag)
            self._seg = seg
        return seg

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_seg", None)
        return state

    def tokens(self, normalized: Sequence[str]) -> list[list[str]]:
        """Segment already-normalised texts (stop words and punctuation dropped)."""
        seg = self._segmenter()
        filt = seg._filter
        cut = seg.raw_cut
        return [filt(cut(t)) if t else [] for t in normalized]

    def fit(self, texts: Sequence[str | None], y: Any = None) -> TextFeatures:
        norm = normalize(texts)
        self.words_ = WordTfidf(min_df=self.min_df).fit(self.tokens(norm))
        self.chars_ = CharNgrams(min_df=self.min_df).fit(norm)
        return self

    def transform(self, texts: Sequence[str | None]) -> sp.csr_matrix:
        if not hasattr(self, "words_"):
            raise NotFittedError("TextFeatures is not fitted; call fit(texts) first")
        norm = normalize(texts)
        return self.transform_normalized(norm)

    def raw_tokens(self, normalized: Sequence[str]) -> list[list[str]]:
        """All tokens of already-normalised texts (stop words included: they are not in the vocabulary)."""
        cut = self._segmenter().raw_cut
        return [cut(t) if t else [] for t in normalized]

    def transform_normalized(self, norm: Sequence[str]) -> sp.csr_matrix:
        """Features of texts that are already normalised (skips :func:`anju.text.normalize.normalize`)."""
        w = self.words_.transform(self.raw_tokens(norm))
        c = self.chars_.transform(norm)
        if self.word_weight != 1.0:
            w = w * self.word_weight
        if self.char_weight != 1.0:
            c = c * self.char_weight
        return sp.hstack([w, c], format="csr")

    @property
    def n_features_(self) -> int:
        return len(self.words_.vocabulary_) + len(self.chars_.vocabulary_)
