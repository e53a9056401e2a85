"""Route resident reports to the responsible department (立码办): kind → matter (text classifier) → rule → body.

The classifier is the project's one :class:`~anju.text.classify.TextClassifier` (TF-IDF words + character n-grams,
NB-SVM, Platt calibration), trained here on *matters* (police, lost, market, property, street_order, mediation,
consult) instead of call categories or 12345 departments. Rules are FixMyStreet's body × category: matter × area →
department from ``resident.toml``. The decision, per report:

1. the resident's *kind* may fix the matter (报警求助 → police, 寻人/失物 → lost): no classification;
2. otherwise the calibrated top probability must reach ``routing.threshold``; below it the report goes to the human
   dispatcher with the top-3 suggestions (matter, department, probability) — never a silent guess;
3. the first route whose matter and area match names the department (a police matter goes to the community's
   station, which the service resolves).

Training data: :func:`anju.resident.corpus.synthetic_reports` to bootstrap, the Teddy Cup 12345 messages mapped onto
matters (:data:`TEDDY_MATTERS`), and later the deployment's own handled reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anju.errors import AnjuError
from anju.resident.rules import ResidentRules
from anju.text.classify import TextClassifier
from anju.text.models import ModelInfo, evaluate_predictions, load_model, save_model

__all__ = ["MODEL_TASK", "TEDDY_MATTERS", "Routed", "load_router", "route_reports", "routing_accuracy", "save_router",
           "train_router"]

MODEL_TASK = "matter"

#: Teddy Cup 2020 first-level classes (12345 messages) → resident matters, for training on real citizen text.
TEDDY_MATTERS: dict[str, str] = {
    "商贸旅游": "market",
    "城乡建设": "property",
    "环境保护": "street_order",
    "交通运输": "consult",
    "教育文体": "consult",
    "劳动和社会保障": "consult",
    "卫生计生": "consult",
}


def train_router(texts: Sequence[str], matters: Sequence[str], *, threshold: float = 0.6,
                 calibration_cv: int = 3) -> TextClassifier:
    """Fit the report router on labelled texts (a :class:`TextClassifier` over matters)."""
    if len(texts) != len(matters):
        raise AnjuError(f"train_router: {len(texts)} texts but {len(matters)} labels")
    return TextClassifier(threshold=threshold, calibration_cv=calibration_cv, min_df=1).fit(list(texts),
                                                                                          list(matters))


def save_router(models_dir: str | Path, clf: TextClassifier, *, data_source: str, n_train: int,
                metrics: dict[str, object] | None = None) -> ModelInfo:
    """Save the router as the next ``text-matter-v<N>`` model with its card."""
    info = ModelInfo(task=MODEL_TASK, version=0, labels=[str(c) for c in clf.classes_], data_hash="",
                     data_source=data_source, n_train=n_train, n_test=0, metrics=dict(metrics or {}),
                     params=clf.get_params(), threshold=clf.threshold, split="none")
    return save_model(models_dir, clf, info)


def load_router(models_dir: str | Path) -> TextClassifier:
    """The latest saved router (checked against its card)."""
    model, _ = load_model(models_dir, MODEL_TASK)
    if not isinstance(model, TextClassifier):
        raise AnjuError(f"the {MODEL_TASK!r} model in {models_dir} is not a TextClassifier; retrain it")
    return model


@dataclass(frozen=True)
class Routed:
    """Column names of :func:`route_reports`' result (for readers)."""

    columns: tuple[str, ...] = ("matter", "department", "confidence", "method", "to_dispatcher", "suggestions")


def route_reports(clf: TextClassifier | None, texts: Sequence[str], kinds: Sequence[str],
                  area_codes: Sequence[str], *, rules: ResidentRules) -> pd.DataFrame:
    """Route a batch of reports; one row per report.

    Columns: ``matter`` (empty when unsure), ``department`` (a department code; the dispatcher when unsure),
    ``confidence`` (1.0 when the kind fixed the matter), ``method`` (``kind``, ``model``, ``model+rules`` or
    ``review``), ``to_dispatcher``, ``suggestions`` (top-3 list of ``{matter, department, p}``).
    Without a classifier every free-text report goes to the dispatcher.
    """
    n = len(texts)
    if not (len(kinds) == len(area_codes) == n):
        raise AnjuError("route_reports: texts, kinds and area_codes must have the same length")
    kind_map = rules.kinds()
    unknown = sorted({k for k in kinds if k not in kind_map})
    if unknown:
        raise AnjuError(f"unknown report kind(s) {unknown}; expected one of {sorted(kind_map)}")
    fixed = np.array([kind_map[k].matter for k in kinds], dtype=object)
    matter = fixed.copy()
    conf = np.where(fixed != "", 1.0, 0.0)
    method = np.where(fixed != "", "kind", "review").astype(object)
    suggestions: list[list[dict[str, object]]] = [[] for _ in range(n)]
    free = np.flatnonzero(fixed == "")
    if len(free) and clf is not None:
        sub = [texts[int(i)] for i in free]
        if clf.rules is not None:  # keyword rules may confirm low-confidence guesses: the classifier decides
            res = clf.classify(sub, threshold=rules.routing.threshold)
            proba = clf.predict_proba(sub)
        else:  # one pass: the same decision as TextClassifier.classify without rules
            proba = clf.predict_proba(sub)
            best = proba.max(axis=1)
            res = pd.DataFrame({"needs_review": best < rules.routing.threshold, "confidence": best,
                                "suggestion": np.asarray(clf.classes_, dtype=object)[proba.argmax(axis=1)],
                                "method": np.where(best >= rules.routing.threshold, "model", "review")})
        classes = np.asarray(clf.classes_, dtype=object)
        top3 = np.argsort(-proba, axis=1)[:, :3]
        review, sugg = res["needs_review"].to_numpy(), res["suggestion"].to_numpy()
        confidence, how = res["confidence"].to_numpy(), res["method"].to_numpy()
        for j, i in enumerate(free):  # plain arrays: this loop runs beside the public endpoint in the web process
            accepted = not bool(review[j])
            matter[i] = sugg[j] if accepted else ""
            conf[i] = float(confidence[j])
            method[i] = how[j]
            suggestions[i] = [{"matter": str(classes[k]),
                               "department": rules.route_for(str(classes[k]), area_codes[int(i)]),
                               "p": round(float(proba[j, k]), 4)} for k in top3[j]]
    dept = [rules.route_for(str(m), a) if m else rules.routing.dispatcher for m, a in zip(matter, area_codes,
                                                                                       strict=True)]
    return pd.DataFrame({
        "matter": matter,
        "department": dept,
        "confidence": conf,
        "method": method,
        "to_dispatcher": [d == rules.routing.dispatcher for d in dept],
        "suggestions": suggestions,
    })


def routing_accuracy(clf: TextClassifier, texts: Sequence[str], matters: Sequence[str], *,
                     threshold: float) -> dict[str, object]:
    """Held-out metrics of the matter classifier: accuracy, macro-F1, per class, and among accepted texts."""
    proba = clf.predict_proba(list(texts))
    accepted = proba.max(axis=1) >= threshold
    return evaluate_predictions(list(matters), proba, clf.classes_, accepted=accepted)
