"""Text classification: keyword rules plus a calibrated linear model, with "needs review" below a threshold.

Two layers, one decision:

1. :class:`KeywordRules` — each label has keywords (for call categories: the taxonomy's ``keywords``; for fraud
   techniques: the fraud leaves' keywords; for departments: ``departments.toml``). A text scores, per label, the
   summed length of the keywords found (longest match first, so 电瓶被盗 beats 电瓶 and 被盗). Rules need no
   training data and explain themselves.
2. :class:`TextClassifier` — TF-IDF over words and character 1–2-grams (:class:`~anju.text.features.TextFeatures`)
   and a linear SVM whose scores are turned into probabilities by Platt scaling fitted on cross-validated
   predictions (``CalibratedClassifierCV(method="sigmoid", ensemble=False)``), so a reported 0.8 means right about
   80 % of the time on held-out data. The default SVM is :class:`NBSVM` (Wang & Manning 2012): one-vs-rest linear
   SVMs on features scaled by each class's naive-Bayes log-count ratio — still one linear model at prediction time,
   about one macro-F1 point better than a plain ``LinearSVC`` on the Teddy Cup messages (docs/methods/
   classification.md).

:meth:`TextClassifier.classify` decides per text:

* model probability ≥ ``threshold`` → the model's label (``method="model"``);
* otherwise, if the rules' label agrees with the model's and the probability is at least ``threshold / 2`` →
  accepted (``method="model+rules"``);
* otherwise → ``label = "needs_review"`` with the model's best guess in ``suggestion`` (``method="review"``);
  a record is never silently guessed.

Without a trained model (:meth:`KeywordRules.classify`) the rules decide alone: a label is accepted when its score
is at least ``min_score`` and at least ``min_share`` of all keyword score; otherwise the text needs review.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import signal
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from anju.errors import AnjuError, NotFittedError
from anju.text.features import TextFeatures
from anju.text.normalize import normalize

__all__ = ["NBSVM", "NEEDS_REVIEW", "KeywordRules", "TextClassifier", "rules_from_taxonomy"]

#: Label given to texts that no layer classifies confidently.
NEEDS_REVIEW = "needs_review"

_COLUMNS = ["label", "confidence", "suggestion", "method", "needs_review"]
CHUNK_ROWS = 8192  # texts per feature/predict chunk
LARGE_TRAIN = 20_000  # above this many training texts the calibration uses at most 3 folds


class KeywordRules:
    """Keyword rules: label → keywords; score = summed length of the keywords found (longest match first).

    Examples
    --------
    >>> rules = KeywordRules({"theft.battery": ["电瓶被盗", "电瓶"], "theft.other": ["被盗"]})
    >>> rules.classify(["电动车电瓶被盗", "车被盗了", "天气很好"])["label"].tolist()
    ['theft.battery', 'theft.other', 'needs_review']
    """

    def __init__(self, keywords: Mapping[str, Iterable[str]], *, min_score: float = 2.0,
                 min_share: float = 0.6) -> None:
        self.keywords = {lab: tuple(k for k in kws if k) for lab, kws in keywords.items()}
        self.min_score = min_score
        self.min_share = min_share
        owners: dict[str, list[str]] = {}
        for lab, kws in self.keywords.items():
            for k in kws:
                owners.setdefault(k, []).append(lab)
        self._owners = owners
        self.labels = list(self.keywords)
        self._index = {lab: i for i, lab in enumerate(self.labels)}
        words = sorted(owners, key=lambda w: (-len(w), w))
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Score matrix (texts × labels) of already-normalised texts."""
        out = np.zeros((len(texts), len(self.labels)))
        if self._pattern is None:
            return out
        idx, owners, pat = self._index, self._owners, self._pattern
        for i, t in enumerate(texts):
            if not t:
                continue
            for m in pat.finditer(t):
                w = m.group(0)
                for lab in owners[w]:
                    out[i, idx[lab]] += len(w)
        return out

    def best(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(label or None, score, share of all score) of the top label per already-normalised text."""
        s = self.scores(texts)
        if not self.labels:
            n = len(texts)
            return np.full(n, None, dtype=object), np.zeros(n), np.zeros(n)
        top = s.argmax(axis=1)
        best = s[np.arange(len(texts)), top]
        total = s.sum(axis=1)
        share = np.divide(best, total, out=np.zeros_like(best), where=total > 0)
        labels = np.array(self.labels, dtype=object)[top]
        # a tie at the top is not a decision
        ties = (s == best[:, None]).sum(axis=1) > 1
        labels[(best <= 0) | ties] = None
        return labels, best, share

    def classify(self, texts: Iterable[str | None]) -> pd.DataFrame:
        """Rules alone: ``label`` (or ``needs_review``), ``confidence`` (share of keyword score), ``suggestion``,
        ``method`` (``rules`` | ``review``), ``needs_review``."""
        norm = normalize(texts)
        labels, score, share = self.best(norm)
        ok = np.array([lab is not None for lab in labels]) & (score >= self.min_score) & (share >= self.min_share)
        out = pd.DataFrame({
            "label": np.where(ok, labels, NEEDS_REVIEW).astype(object),
            "confidence": share,
            "suggestion": labels,
            "method": np.where(ok, "rules", "review").astype(object),
            "needs_review": ~ok,
        })
        return out[_COLUMNS]


def rules_from_taxonomy(taxonomy: Any, *, family: str | None = None, labels: Sequence[str] | None = None
                        ) -> KeywordRules:
    """Keyword rules from the taxonomy's ``keywords`` (optionally one family, or only the given leaf codes)."""
    keep = set(labels) if labels is not None else None
    kws = {c.code: c.keywords for c in taxonomy.categories.values()
           if (family is None or c.family == family) and (keep is None or c.code in keep) and c.keywords}
    return KeywordRules(kws)


_PARALLEL_MIN_WORK = 20_000_000  # stored feature values × classes; about 10 s of liblinear at 30 k texts


def _fit_one_vs_rest(X: sp.csr_matrix, xb: sp.csr_matrix, pos: np.ndarray, C: float,
                     alpha: float) -> tuple[np.ndarray, float]:
    """One NB-SVM binary fit: the log-count ratio ``r`` scales the features, the SVM weights fold ``r`` back in."""
    p = np.asarray(xb[pos].sum(axis=0)).ravel() + alpha
    q = np.asarray(xb[~pos].sum(axis=0)).ravel() + alpha
    r = np.log((p / p.sum()) / (q / q.sum()))
    svm = LinearSVC(C=C, dual=True, random_state=0).fit(X @ sp.diags(r), pos)
    return svm.coef_.ravel() * r, float(svm.intercept_[0])


class NBSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs on naive-Bayes-scaled features (NB-SVM, Wang & Manning 2012).

    For class :math:`c`, with binarised features :math:`\\hat x`, :math:`p = \\alpha + \\sum_{y=c} \\hat x`,
    :math:`q = \\alpha + \\sum_{y\\ne c} \\hat x` and :math:`r_c = \\log\\frac{p/\\lVert p\\rVert_1}{q/\\lVert q\\rVert_1}`, a
    binary ``LinearSVC`` is fitted on :math:`x \\circ r_c`; its weights are folded back (:math:`w_c \\circ r_c`), so
    ``decision_function`` is a single sparse product ``X @ coef_.T + intercept_``.

    ``n_jobs`` > 1 fits the classes in worker processes (``None``: every core once the work is large enough); the model
    is the same, bit for bit, whatever the number of workers.
    """

    def __init__(self, C: float = 0.5, alpha: float = 1.0, n_jobs: int | None = None) -> None:
        self.C = C
        self.alpha = alpha
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any) -> NBSVM:
        X = sp.csr_matrix(X)
        y = np.asarray(y, dtype=object)
        self.classes_ = np.unique(y)
        xb = X.copy()
        xb.data[:] = 1.0
        # two classes: one SVM for classes_[1] (scikit-learn's binary convention: a 1-D decision function)
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_

        if self.n_jobs is None:
            # automatic: worker processes only when the fits outweigh starting them (~1-2 s)
            jobs = (os.cpu_count() or 1) if X.nnz * len(targets) > _PARALLEL_MIN_WORK else 1
        else:
            jobs = max(1, self.n_jobs)
        if jobs > 1 and len(targets) > 1:
            # Worker processes, not threads: liblinear draws its coordinate order from the C library's one global
            # rand(), so concurrent threads interleave the draws and the fit depends on scheduling.
            fitted = Parallel(n_jobs=min(jobs, len(targets)), backend="loky")(
                delayed(_fit_one_vs_rest)(X, xb, y == c, self.C, self.alpha) for c in targets)
        else:
            fitted = [_fit_one_vs_rest(X, xb, y == c, self.C, self.alpha) for c in targets]
        self.coef_ = np.vstack([f[0] for f in fitted])
        self.intercept_ = np.asarray([f[1] for f in fitted])
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        d = np.asarray(X @ self.coef_.T) + self.intercept_
        return d.ravel() if len(self.classes_) == 2 else d

    def predict(self, X: Any) -> np.ndarray:
        d = self.decision_function(X)
        idx = (d > 0).astype(int) if d.ndim == 1 else d.argmax(axis=1)
        return np.asarray(self.classes_[idx], dtype=object)


class TextClassifier:
    """TF-IDF (words + character 1–2-grams) → linear SVM → Platt-calibrated probabilities, with rules and review.

    Parameters
    ----------
    threshold
        Minimum calibrated probability to accept the model's label.
    model
        ``"nbsvm"`` (:class:`NBSVM`, default) or ``"svm"`` (plain ``LinearSVC``).
    C
        Inverse regularisation of the linear SVM.
    calibration_cv
        Folds for the calibration (reduced to the smallest class size; no calibration is possible below 2).
    rules
        Optional :class:`KeywordRules` that can confirm a low-confidence prediction.
    word_weight, char_weight, min_df, dictionary
        Passed to :class:`~anju.text.features.TextFeatures`.

    Examples
    --------
    >>> texts = ["电动车被盗", "电瓶车被偷了", "车棚电动车丢了", "楼上噪音扰民", "邻居装修噪音", "半夜噪音很吵"] * 3
    >>> labels = ["theft", "theft", "theft", "noise", "noise", "noise"] * 3
    >>> clf = TextClassifier(threshold=0.5, calibration_cv=3).fit(texts, labels)
    >>> clf.predict(["小区电动车被盗", "楼下装修噪音"]).tolist()
    ['theft', 'noise']
    """

    def __init__(self, *, threshold: float = 0.5, model: str = "nbsvm", C: float = 0.5, calibration_cv: int = 5,
                 rules: KeywordRules | None = None, word_weight: float = 1.0, char_weight: float = 2.0,
                 min_df: int = 2, dictionary: Sequence[tuple[str, int | None, str | None]] = ()) -> None:
        self.threshold = threshold
        self.model = model
        self.C = C
        self.calibration_cv = calibration_cv
        self.rules = rules
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.min_df = min_df
        self.dictionary = dictionary

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (without the rules object), for the model card."""
        return {"threshold": self.threshold, "model": self.model, "C": self.C, "calibration_cv": self.calibration_cv,
                "word_weight": self.word_weight, "char_weight": self.char_weight, "min_df": self.min_df,
                "dictionary_entries": len(self.dictionary), "rules": self.rules is not None}

    def fit(self, texts: Sequence[str | None], labels: Sequence[str]) -> TextClassifier:
        """Fit features and the calibrated SVM on labelled texts."""
        texts = list(texts)
        y = np.asarray([str(v) for v in labels], dtype=object)
        if len(texts) != len(y):
            raise AnjuError(f"fit: got {len(texts)} texts but {len(y)} labels; they must pair up")
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise AnjuError(f"fit: need at least two labels to learn from; got {classes.tolist()}")
        self.features_ = TextFeatures(word_weight=self.word_weight, char_weight=self.char_weight,
                                      min_df=self.min_df, dictionary=self.dictionary).fit(texts)
        X = self.features_.transform(texts)
        cv = int(min(self.calibration_cv, counts.min()))
        if len(texts) > LARGE_TRAIN:  # plenty of held-out scores per fold: fewer folds, faster training
            cv = min(cv, 3)
        if cv < 2:
            small = classes[counts < 2].tolist()
            raise AnjuError(f"fit: labels {small} have a single example; calibration needs at least 2 per label "
                            "— add examples or merge the label")
        if self.model not in ("nbsvm", "svm"):
            raise AnjuError(f"model must be 'nbsvm' or 'svm'; got {self.model!r}")
        base = NBSVM(C=self.C) if self.model == "nbsvm" else LinearSVC(C=self.C, random_state=0)
        self.model_ = CalibratedClassifierCV(base, method="sigmoid", cv=cv, ensemble=False)
        with warnings.catch_warnings(record=True) as caught:
            # liblinear may stop at max_iter on (nearly) separable data; count it instead of flooding the console
            warnings.simplefilter("always", ConvergenceWarning)
            self.model_.fit(X, y)
        #: number of SVM fits (folds × labels) that stopped at liblinear's iteration limit
        self.not_converged_ = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.classes_ = np.asarray(self.model_.classes_, dtype=object)
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("TextClassifier is not fitted; call fit(texts, labels) or load a trained model "
                                 "(anju text train)")

    def predict_proba_normalized(self, norm: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities (texts × ``classes_``) of already-normalised texts.

        Works in chunks of :attr:`chunk_rows` texts: the sorts behind the sparse features stay in cache, which
        makes a million texts several times faster than one big batch.
        """
        self._check()
        norm = list(norm)
        if len(norm) <= CHUNK_ROWS:
            return np.asarray(self.model_.predict_proba(self.features_.transform_normalized(norm)))
        out = np.empty((len(norm), len(self.classes_)))
        for start in range(0, len(norm), CHUNK_ROWS):
            part = norm[start:start + CHUNK_ROWS]
            out[start:start + len(part)] = self.model_.predict_proba(self.features_.transform_normalized(part))
        return out

    def predict_proba(self, texts: Sequence[str | None]) -> np.ndarray:
        """Calibrated probabilities (texts × ``classes_``)."""
        return self.predict_proba_normalized(normalize(texts))

    def predict(self, texts: Sequence[str | None]) -> np.ndarray:
        """The most probable label of each text (no threshold; see :meth:`classify`)."""
        p = self.predict_proba(texts)
        return np.asarray(self.classes_[p.argmax(axis=1)], dtype=object)

    def classify(self, texts: Sequence[str | None], *, threshold: float | None = None,
                 n_jobs: int = 1) -> pd.DataFrame:
        """Labels with review: ``label`` (or ``needs_review``), ``confidence``, ``suggestion``, ``method``,
        ``needs_review`` — see the module docstring for the decision.

        ``n_jobs`` > 1 (or -1 for every core) splits large batches over forked worker processes (POSIX only).
        """
        texts = list(texts)
        jobs = (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs)
        if jobs > 1 and len(texts) >= 4 * CHUNK_ROWS and "fork" in mp.get_all_start_methods():
            return self._classify_parallel(texts, threshold, jobs)
        return self.classify_normalized(normalize(texts), threshold=threshold)

    def _classify_parallel(self, texts: list[str | None], threshold: float | None, jobs: int) -> pd.DataFrame:
        self._check()
        step = max(CHUNK_ROWS, -(-len(texts) // (jobs * 4)))
        parts = [texts[i:i + step] for i in range(0, len(texts), step)]
        # the model reaches the workers by fork (no pickling); only the children set their worker slot, so the
        # calling process keeps no state between calls and two classifiers never share a pool
        with mp.get_context("fork").Pool(jobs, initializer=_init_worker, initargs=(self, threshold)) as pool:
            results = pool.map(_classify_part, parts)
            pool.close()  # the children exit on their own; terminate (on leaving the block) then has nothing to do
            pool.join()
        return pd.concat(results, ignore_index=True)

    def classify_normalized(self, norm: Sequence[str], *, threshold: float | None = None) -> pd.DataFrame:
        """:meth:`classify` for already-normalised texts."""
        thr = self.threshold if threshold is None else threshold
        if not 0 <= thr <= 1:
            raise AnjuError(f"threshold must be between 0 and 1; got {thr!r}")
        n = len(norm)
        if n == 0:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
        p = self.predict_proba_normalized(norm)
        top = p.argmax(axis=1)
        conf = p[np.arange(n), top]
        guess = np.asarray(self.classes_[top], dtype=object)
        method = np.where(conf >= thr, "model", "review").astype(object)
        low = np.flatnonzero(conf < thr)
        if self.rules is not None and len(low):
            rl, rs, _ = self.rules.best([norm[int(i)] for i in low])
            agree = np.array([r is not None and r == g for r, g in zip(rl, guess[low], strict=True)], dtype=bool)
            agree &= (conf[low] >= thr / 2) & (rs >= self.rules.min_score)
            method[low[agree]] = "model+rules"
        accepted = method != "review"
        return pd.DataFrame({
            "label": np.where(accepted, guess, NEEDS_REVIEW).astype(object),
            "confidence": conf,
            "suggestion": guess,
            "method": method,
            "needs_review": ~accepted,
        })[_COLUMNS]


_WORKER: tuple[TextClassifier, float | None] | None = None
"""Set only inside a forked worker process of :meth:`TextClassifier._classify_parallel` (never in the caller)."""


def _init_worker(clf: TextClassifier, threshold: float | None) -> None:
    global _WORKER
    # a forked child inherits the parent's Python signal handlers (e.g. a worker's "stop on SIGTERM" flag), which
    # would make Pool.terminate wait for it forever: the children take the default actions
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _WORKER = (clf, threshold)


def _classify_part(texts: list[str | None]) -> pd.DataFrame:
    """Worker side of :meth:`TextClassifier.classify` with ``n_jobs`` > 1 (the model arrives by fork)."""
    assert _WORKER is not None
    clf, threshold = _WORKER
    return clf.classify_normalized(normalize(texts), threshold=threshold)
