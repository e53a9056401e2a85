"""Text use cases: the downgrading audit of the lake's call texts, and the text-model tasks (train, evaluate,
classify, list).

The audit uses the deployment's rules (``text/downgrade_rules.toml``), the same ones the release's audit section
uses. Models are loaded only from the deployment's model store (``<data_dir>/models``), never from an upload: a
joblib file is code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from anju.services.lake import Selection, select

if TYPE_CHECKING:
    from anju.deployment import Deployment
    from anju.lake.connection import Lake
    from anju.text.models import ModelInfo

__all__ = ["audit", "classify_file", "evaluate", "models", "train"]

AUDIT_COLUMNS = ("record_key", "station_id", "reported_at", "category", "family", "text")


def audit(dep: Deployment, lake: Lake, selection: Selection | None = None) -> pd.DataFrame:
    """Per station and month: records, records whose text indicates a more serious category than their code, and
    examples for review (:func:`anju.text.audit.downgrade_audit` with the deployment's rules)."""
    from anju.text.audit import downgrade_audit

    t = select(dep, lake, selection or Selection())
    res = downgrade_audit(t.select(*AUDIT_COLUMNS), rules=dep.audit_rules)
    df = res.to_pandas() if hasattr(res, "to_pandas") else res
    df["examples"] = df["examples"].fillna("")
    return df


def train(dep: Deployment, task: str, data: str | Path | None = None, **kwargs: Any) -> ModelInfo:
    """Train the ``task`` model (category, fraud, department, charge) and save it in the model store."""
    from anju.text.tasks import train_task

    return train_task(dep, task, data, **kwargs)


def evaluate(dep: Deployment, task: str, data: str | Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """Re-evaluate the saved ``task`` model on the held-out part of its data."""
    from anju.text.tasks import evaluate_task

    return evaluate_task(dep, task, data, **kwargs)


def classify_file(dep: Deployment, task: str, in_path: str | Path, out_path: str | Path, *,
                  on_progress: Callable[[int, int], None] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Classify each row's text of a CSV/XLSX file with the task's latest model (keyword rules without one)."""
    from anju.text.tasks import classify_file as run

    return run(dep, task, in_path, out_path, on_progress=on_progress, **kwargs)


def models(dep: Deployment, task: str | None = None) -> list[ModelInfo]:
    """The model cards in the deployment's model store (one task or all)."""
    from anju.text.models import list_models

    return list_models(dep.model_store, task)
