"""The text classification tasks as services: training data, train, evaluate, classify (what the CLI calls).

==========  =============================================  ===================================  ==========
task        labels                                         default training data                threshold
==========  =============================================  ===================================  ==========
category    taxonomy leaf codes (``theft.burglary``…)     the lake: coded records with text    0.6
fraud       fraud leaf codes (``fraud.rebate``…)           the lake: fraud records with text    0.5
department  ``departments.toml`` names (7 Teddy classes)    ``--data`` (Teddy Cup folder/file)   0.5
charge      theft / fraud / assault (CAIL2018 charges)     ``--data`` (CAIL2018 folder/file)    0.5
==========  =============================================  ===================================  ==========

Every task uses the same :class:`~anju.text.classify.TextClassifier` and the same fixed held-out split
(:func:`anju.text.corpora.fixed_split`, 20 %); the model saved is the one fitted on the training part, so its card's
metrics describe exactly the saved model. Keyword rules come from the taxonomy (category, fraud, charge) or from
``departments.toml`` (department).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from anju.config import read_toml, validate_config
from anju.errors import ConfigError, DataNotFoundError, IngestError
from anju.taxonomy import Taxonomy
from anju.text.classify import NEEDS_REVIEW, KeywordRules, TextClassifier, rules_from_taxonomy
from anju.text.corpora import (
    CAIL_CHARGES,
    data_hash,
    fixed_split,
    load_cail_charges,
    load_labelled_file,
    load_teddy_messages,
    read_table,
)
from anju.text.models import ModelInfo, evaluate_predictions, list_models, load_model, save_model
from anju.text.normalize import normalize
from anju.text.segment import read_dictionary

if TYPE_CHECKING:
    from anju.config import Settings
    from anju.deployment import Deployment

__all__ = [
    "TASKS",
    "Departments",
    "TaskSpec",
    "classify_file",
    "classify_texts",
    "evaluate_task",
    "load_departments",
    "rules_for",
    "train_task",
    "training_data",
]

TEST_SIZE = 0.2


@dataclass(frozen=True)
class TaskSpec:
    """One classification task."""

    name: str
    zh: str
    threshold: float
    needs_data: bool


TASKS: dict[str, TaskSpec] = {
    "category": TaskSpec("category", "警情类别", 0.6, False),
    "fraud": TaskSpec("fraud", "诈骗手法", 0.5, False),
    "department": TaskSpec("department", "分派部门", 0.5, True),
    "charge": TaskSpec("charge", "罪名（盗窃/诈骗/故意伤害）", 0.5, True),
}


def _spec(task: str) -> TaskSpec:
    if task not in TASKS:
        raise ConfigError(f"unknown text task {task!r}; expected one of {list(TASKS)}", key="task")
    return TASKS[task]


# ------------------------------------------------------------------------------------------ departments
class _Department(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    en: str = ""
    keywords: list[str] = []


class _DepartmentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meta: dict[str, Any] = {}
    department: list[_Department]


@dataclass(frozen=True)
class Departments:
    """The department set of a deployment (``departments.toml``)."""

    names: tuple[str, ...]
    en: dict[str, str]
    keywords: dict[str, tuple[str, ...]]
    source: str

    def rules(self) -> KeywordRules:
        return KeywordRules(self.keywords)


def load_departments(data_dir: str | Path | None = None) -> Departments:
    """``<data_dir>/text/departments.toml`` if present, else the shipped set (7 Teddy Cup classes)."""
    path = None
    if data_dir is not None and (Path(data_dir) / "text" / "departments.toml").exists():
        path = Path(data_dir) / "text" / "departments.toml"
    p = path or Path(str(resources.files("anju.text") / "data" / "departments.toml"))
    raw = read_toml(p)
    parsed = validate_config(_DepartmentsFile, raw, path=p)
    names = [d.name for d in parsed.department]
    if len(set(names)) != len(names) or not names:
        raise ConfigError("department names must be unique and at least one must be listed", path=p,
                          key="department")
    return Departments(tuple(names), {d.name: d.en for d in parsed.department},
                       {d.name: tuple(d.keywords) for d in parsed.department}, str(p))


# ------------------------------------------------------------------------------------------ data
def _lake_data(settings: Settings, task: str, taxonomy: Taxonomy, max_rows: int) -> pd.DataFrame:
    from anju.lake.engine import open_lake

    with open_lake(settings) as lake:
        t = lake.incidents()
        t = t.filter(t.text.notnull() & (t.text.length() > 0) & t.category_known & (t.category != "other.unknown"))
        if task == "fraud":
            t = t.filter(t.family == "fraud")
        t = t.select(text=t.text, label=t.category, key=t.record_key)
        t = t.order_by(t.key.hash()).limit(max_rows)
        df = t.to_pandas()
    if df.empty:
        what = "fraud records" if task == "fraud" else "coded records"
        raise DataNotFoundError(f"the lake in {settings.paths.lake} has no {what} with text to train the {task!r} "
                                f"model on; import calls with `anju ingest FILE` or pass --data FILE (text,label)")
    out = pd.DataFrame({"text": normalize(df["text"].tolist()), "label": df["label"].astype(str).tolist()})
    return out[out["text"].str.len() > 0].drop_duplicates("text").reset_index(drop=True)


def training_data(dep: Deployment, task: str, data: str | Path | None = None, *,
                  text_column: str | None = None, label_column: str | None = None,
                  max_rows: int = 100_000) -> tuple[pd.DataFrame, str]:
    """Labelled texts (``text``, ``label``) for a task and a description of where they came from."""
    _spec(task)
    settings, tax = dep.settings, dep.taxonomy
    if data is None:
        if task in ("category", "fraud"):
            return _lake_data(settings, task, tax, max_rows), f"lake:{settings.paths.lake}"
        default = [settings.data_dir / "text" / f"{task}_training{ext}" for ext in (".csv", ".xlsx")]
        found = [p for p in default if p.exists()]
        if not found:
            hint = ("../shared/data/teddy-cup-2020-c-gov-messages" if task == "department"
                    else "../shared/data/cail2018-small")
            raise DataNotFoundError(f"no training data for the {task!r} task: pass --data (e.g. {hint}) or put a "
                                    f"labelled file at {default[0]}")
        data = found[0]
    p = Path(data)
    if not p.exists():
        raise DataNotFoundError(f"training data {p} does not exist")
    if task == "charge" and (p.is_dir() or p.suffix == ".json"):
        df = load_cail_charges(p)
        src = f"cail2018:{p} (encoding {df.attrs.get('encoding')})"
    elif p.is_dir():
        df = load_teddy_messages(p)
        src = f"teddy-cup-2020-c:{p}"
    else:
        df = load_labelled_file(p, text_column=text_column, label_column=label_column)
        src = f"file:{p}"
    df = df[["text", "label"]].copy()
    _check_labels(task, df["label"], tax, settings, src)
    return df, src


def _check_labels(task: str, labels: pd.Series, tax: Taxonomy, settings: Settings, src: str) -> None:
    got = set(labels.astype(str))
    if task == "category":
        allowed, where = set(tax.categories), f"taxonomy {tax.source}"
    elif task == "fraud":
        allowed, where = set(tax.codes(family="fraud")), f"the fraud family of taxonomy {tax.source}"
    elif task == "department":
        deps = load_departments(settings.data_dir)
        allowed, where = set(deps.names), f"departments file {deps.source}"
    else:
        allowed, where = set(CAIL_CHARGES.values()), "theft/fraud/assault"
    bad = sorted(got - allowed)
    if bad:
        raise IngestError(f"{src}: labels {bad[:10]} are not in {where}; fix the labels or extend the "
                          f"configuration")


# ------------------------------------------------------------------------------------------ models
def rules_for(task: str, dep: Deployment, labels: Sequence[str] | None = None) -> KeywordRules | None:
    """The keyword rules of a task (restricted to ``labels`` when given), from the deployment's taxonomy."""
    settings, tax = dep.settings, dep.taxonomy
    if task == "category":
        return rules_from_taxonomy(tax, labels=labels)
    if task == "fraud":
        return rules_from_taxonomy(tax, family="fraud", labels=labels)
    if task == "department":
        return load_departments(settings.data_dir).rules()
    if task == "charge":
        return KeywordRules({fam: [k for c in tax.categories.values() if c.family == fam for k in c.keywords]
                             for fam in CAIL_CHARGES.values()})
    return None


def _deployment_dictionary(settings: Settings) -> list[tuple[str, int | None, str | None]]:
    p = settings.data_dir / "text" / "user_dict.txt"
    return read_dictionary(p) if p.exists() else []


def train_task(dep: Deployment, task: str, data: str | Path | None = None, *, text_column: str | None = None,
               label_column: str | None = None, threshold: float | None = None, C: float = 0.5,
               max_rows: int = 100_000,
               frame: pd.DataFrame | None = None, source: str | None = None) -> ModelInfo:
    """Train a task's model on the fixed split, evaluate it on the held-out part and save it with its card.

    ``frame`` (columns ``text``, ``label``) bypasses :func:`training_data` (used by tests and callers that already
    hold the data).
    """
    spec = _spec(task)
    settings, tax = dep.settings, dep.taxonomy
    if frame is None:
        df, src = training_data(dep, task, data, text_column=text_column, label_column=label_column,
                                max_rows=max_rows)
    else:
        df, src = frame[["text", "label"]].copy(), source or "frame"
        _check_labels(task, df["label"], tax, settings, src)
    texts = df["text"].astype(str).tolist()
    labels = df["label"].astype(str).tolist()
    test = fixed_split(texts, labels, TEST_SIZE)
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    label_set = sorted(set(labels))
    clf = TextClassifier(threshold=spec.threshold if threshold is None else threshold, C=C,
                         rules=rules_for(task, dep, label_set),
                         dictionary=_deployment_dictionary(settings))
    clf.fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
    metrics = _evaluate(clf, [texts[i] for i in test_idx], [labels[i] for i in test_idx])
    info = ModelInfo(task=task, version=0, labels=[str(c) for c in clf.classes_],
                     data_hash=data_hash(texts, labels), data_source=src, n_train=len(train_idx),
                     n_test=len(test_idx), metrics=metrics, params=clf.get_params(), threshold=clf.threshold,
                     split=f"fixed content-hash stratified split, test_size={TEST_SIZE} (anju.text.corpora."
                           f"fixed_split)",
                     extra={"svm_fits_not_converged": int(getattr(clf, "not_converged_", 0)),
                            "n_features": int(clf.features_.n_features_)})
    return save_model(settings.paths.models, clf, info)


def _evaluate(clf: TextClassifier, texts: list[str], labels: list[str]) -> dict[str, Any]:
    if not texts:
        return {"n": 0}
    norm = normalize(texts)
    proba = clf.predict_proba_normalized(norm)
    decided = clf.classify_normalized(norm)
    metrics = evaluate_predictions(labels, proba, clf.classes_, accepted=~decided["needs_review"].to_numpy())
    if clf.rules is not None:
        r = clf.rules.classify(norm)
        ok = ~r["needs_review"].to_numpy()
        truth = np.asarray(labels, dtype=object)
        metrics["rules_only"] = {
            "coverage": float(ok.mean()),
            "accepted_accuracy": float((r["label"].to_numpy()[ok] == truth[ok]).mean()) if ok.any() else None,
        }
    return metrics


def evaluate_task(dep: Deployment, task: str, data: str | Path | None = None, *, version: int | None = None,
                  text_column: str | None = None, label_column: str | None = None) -> dict[str, Any]:
    """Re-evaluate a saved model on the held-out part of its data (``data``, else the card's source).

    Returns ``{"info": ModelInfo, "metrics": dict, "data_matches_card": bool, "source": str}``; when the data is
    no longer available, the card's stored metrics are returned with ``source="card"``.
    """
    clf, info = load_model(dep.model_store, task, version)
    if data is None:
        src = info.data_source
        if src.startswith("lake:"):
            data_arg: str | Path | None = None
        else:
            path = src.split(":", 1)[1].split(" (", 1)[0] if ":" in src else ""
            data_arg = path if path and Path(path).exists() else None
            if data_arg is None:
                return {"info": info, "metrics": info.metrics, "data_matches_card": None, "source": "card"}
    else:
        data_arg = data
    df, src = training_data(dep, task, data_arg, text_column=text_column, label_column=label_column)
    texts, labels = df["text"].astype(str).tolist(), df["label"].astype(str).tolist()
    test = fixed_split(texts, labels, TEST_SIZE)
    metrics = _evaluate(clf, [t for t, m in zip(texts, test, strict=True) if m],
                        [y for y, m in zip(labels, test, strict=True) if m])
    return {"info": info, "metrics": metrics, "data_matches_card": data_hash(texts, labels) == info.data_hash,
            "source": src}


# ------------------------------------------------------------------------------------------ classify
def _classifier(dep: Deployment, task: str) -> tuple[Any, ModelInfo | None]:
    if list_models(dep.model_store, task):
        return load_model(dep.model_store, task)
    if task == "charge":
        raise DataNotFoundError(f"no trained 'charge' model in {dep.model_store}; train it with "
                                "`anju text train --task charge --data ../shared/data/cail2018-small`",
                                zh=f"{dep.model_store} 中没有训练好的 charge 模型；请先运行 "
                                   "`anju text train --task charge --data ../shared/data/cail2018-small`")
    return rules_for(task, dep), None


def classify_texts(dep: Deployment, task: str, texts: Sequence[str | None], *,
                   threshold: float | None = None) -> tuple[pd.DataFrame, ModelInfo | None]:
    """Classify texts with the task's latest model (keyword rules alone when none is trained yet)."""
    _spec(task)
    clf, info = _classifier(dep, task)
    if isinstance(clf, KeywordRules):
        return clf.classify(texts), None
    return clf.classify(texts, threshold=threshold), info


#: the most characters an Excel cell holds
XLSX_CELL_LIMIT = 32_767

PERSONAL_NAME_COLUMNS = ("报警人", "caller", "姓名", "留言用户", "当事人")
PERSONAL_PHONE_COLUMNS = ("报警电话", "phone", "联系电话", "手机", "电话")


ID_COLUMN_HINTS = ("编号", "单号", "序号", "流水号", "id", "key", "no")


def _is_id_column(name: object) -> bool:
    """A record-id column by its name (接警编号, 警情编号, 订单号, incident_id, record_key, No.)."""
    n = str(name).strip().lower().replace(".", "").replace("_", " ")
    return any(h in n for h in ID_COLUMN_HINTS[:4]) or (n.endswith("号") and "电话" not in n and "证" not in n) \
        or n.split(" ")[-1] in ID_COLUMN_HINTS[4:]


def _mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Mask personal columns (names, phones) and personal numbers inside every text column."""
    from anju.text.mask import mask_pii

    out = df.copy()
    for col in out.columns:
        vals = out[col]
        if col in PERSONAL_NAME_COLUMNS:
            s = vals.fillna("").astype(str)
            out[col] = [(v[0] + "*" * (len(v) - 1)) if len(v) > 1 else ("*" if v else "") for v in s]
        elif col in PERSONAL_PHONE_COLUMNS:
            s = vals.fillna("").astype(str).str.replace(r"\D", "", regex=True)
            out[col] = [(v[:3] + "*" * (len(v) - 7) + v[-4:]) if len(v) >= 8 else ("*" * len(v)) for v in s]
        elif _is_id_column(col):
            continue  # record ids and order numbers are not personal data (J320105202403020001 stays whole)
        elif vals.dtype == object or pd.api.types.is_string_dtype(vals):
            mask = vals.notna().to_numpy()
            masked = mask_pii(vals[mask].astype(str).tolist())
            new = vals.astype(object).copy()
            new[mask] = masked
            out[col] = new
    return out


def classify_file(dep: Deployment, task: str, in_path: str | Path, out_path: str | Path, *,
                  text_column: str | None = None, threshold: float | None = None, chunk_rows: int = 20_000,
                  on_progress: Callable[[int, int], None] | None = None, lang: str | None = None
                  ) -> dict[str, Any]:
    """Classify the text column of a CSV/XLSX file and write the rows with the results to CSV/XLSX.

    Added columns: ``<task>`` (label or ``needs_review``), ``<task>_label`` (display name), ``<task>_confidence``,
    ``<task>_suggestion``, ``<task>_method``, ``needs_review``. An empty text cell is not classified: it gets
    ``needs_review`` with method ``empty`` (counted in the summary's ``empty``), and so does an empty line of a
    CSV (every line of the input is a row of the output). Excel cells hold at most 32,767
    characters: longer texts are cut and the summary's ``truncated_cells`` says how many. Personal columns (报警人,
    报警电话…) are masked and phone / ID numbers inside every text column are masked before writing. ``on_progress(done, total)`` is called
    after each chunk.
    """
    from anju.text.corpora import TEXT_COLUMNS

    _spec(task)
    out_p = Path(out_path)
    if out_p.suffix.lower() not in (".csv", ".xlsx"):
        raise IngestError(f"output {out_p} must end in .csv or .xlsx",
                          zh=f"输出文件 {out_p} 的扩展名应为 .csv 或 .xlsx")
    df = read_table(in_path, keep_blank_lines=True)  # an empty line is an empty text: counted, never dropped
    tc = text_column
    if tc is None:
        tc = next((c for c in TEXT_COLUMNS if c in df.columns), None)
        if tc is None:
            raise IngestError(f"{in_path}: cannot find the text column (tried {list(TEXT_COLUMNS)}); columns are "
                              f"{list(df.columns)}; name it with --text-column",
                              zh=f"{in_path}：找不到文本列（已尝试 {list(TEXT_COLUMNS)}）；现有列为 {list(df.columns)}；"
                                 "请用 --text-column 指定")
    elif tc not in df.columns:
        raise IngestError(f"{in_path}: no column {tc!r}; columns are {list(df.columns)}; name one with --text-column",
                          zh=f"{in_path}：没有列 {tc!r}；现有列为 {list(df.columns)}；请用 --text-column 指定其一")
    clf, info = _classifier(dep, task)
    texts = [None if v is None or not str(v).strip() else str(v) for v in df[tc].tolist()]
    filled = np.flatnonzero([t is not None for t in texts])  # an empty cell is not classified (never as "nan")
    parts = []
    total = len(texts)
    for start in range(0, max(len(filled), 1), chunk_rows):
        chunk = [texts[i] for i in filled[start:start + chunk_rows]]
        if isinstance(clf, KeywordRules):
            parts.append(clf.classify(chunk))
        else:
            parts.append(clf.classify(chunk, threshold=threshold))
        if on_progress is not None:
            on_progress(min(start + chunk_rows, len(filled)), len(filled))
    got = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    res = {"label": np.full(total, NEEDS_REVIEW, dtype=object), "confidence": np.zeros(total),
           "suggestion": np.full(total, None, dtype=object), "method": np.full(total, "empty", dtype=object),
           "needs_review": np.ones(total, dtype=bool)}
    for col, values in res.items():
        if len(filled):
            values[filled] = got[col].to_numpy()
    lang = lang or dep.lang
    display = _display_labels(dep, task, res["label"].tolist(), lang)
    out = _mask_frame(df)
    out[task] = res["label"]
    out[f"{task}_label"] = display
    out[f"{task}_confidence"] = res["confidence"].round(4)
    out[f"{task}_suggestion"] = res["suggestion"]
    out[f"{task}_method"] = res["method"]
    out["needs_review"] = res["needs_review"]
    truncated = 0
    try:
        out_p.parent.mkdir(parents=True, exist_ok=True)
        if out_p.suffix.lower() == ".csv":
            out.to_csv(out_p, index=False, encoding="utf-8-sig")
        else:
            # Excel keeps at most 32,767 characters per cell: longer texts are cut, and the summary says how many
            for col in out.columns:
                if out[col].dtype == object:
                    long = (out[col].str.len() > XLSX_CELL_LIMIT).fillna(False).to_numpy(dtype=bool)
                    if long.any():
                        truncated += int(long.sum())
                        out.loc[long, col] = out.loc[long, col].str.slice(0, XLSX_CELL_LIMIT)
            out.to_excel(out_p, index=False, engine="xlsxwriter")
    except OSError as exc:
        raise IngestError(f"cannot write {out_p} ({exc.strerror or exc}); choose a writable --out directory",
                          zh=f"无法写出 {out_p}（{exc.strerror or exc}）；请用 --out 指定一个可写的目录") from None
    n_review = int(out["needs_review"].sum()) if total else 0
    counts = out[task].value_counts().to_dict() if total else {}
    return {"rows": total, "needs_review": n_review, "counts": counts, "text_column": tc, "out": str(out_p),
            "model": None if info is None else f"{info.file} (v{info.version})",
            "method": "model" if info is not None else "rules", "empty": total - len(filled),
            "truncated_cells": truncated}


def _display_labels(dep: Deployment, task: str, labels: list[str], lang: str) -> list[str]:
    review = "待人工复核" if lang == "zh" else "needs review"
    if task in ("category", "fraud"):
        tax = dep.taxonomy
        return [review if v == NEEDS_REVIEW else (tax.label(v, lang) if v in tax else v) for v in labels]
    if task == "charge":
        names = {v: k for k, v in CAIL_CHARGES.items()}
        return [review if v == NEEDS_REVIEW else (names.get(v, v) if lang == "zh" else v) for v in labels]
    deps = load_departments(dep.data_dir)
    return [review if v == NEEDS_REVIEW else (v if lang == "zh" else deps.en.get(v) or v) for v in labels]
