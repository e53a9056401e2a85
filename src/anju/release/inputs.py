"""What every section builder reads (:class:`ReleaseInputs`) and what it returns (:class:`Part`).

Kept apart from :mod:`anju.release.assemble` and :mod:`anju.release.sections` so that neither imports the other's
internals: ``assemble`` → ``sections`` → ``inputs``. The inputs are built by :func:`anju.services.release.release_inputs`
(which opens the lake and the area store); building sections does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anju.release.model import Figure, GeoLayer, Lang, Note, Table

if TYPE_CHECKING:
    from anju.deployment import Deployment

__all__ = ["BASE_LEVELS", "Part", "ReleaseInputs"]

BASE_LEVELS = ("community", "grid", "street", "police_district", "station", "district")
"""Preference order of the level the per-area sections use (community when loaded)."""


@dataclass
class ReleaseInputs:
    """What every section reads: the deployment (taxonomy, weights, rankings, rules, segmenter, night window,
    thresholds), the incidents, periods, area tables and boundaries, and the language."""

    deployment: Deployment
    incidents: Any
    period: Any
    comparison: Any
    lang: Lang
    areas: dict[str, pd.DataFrame] = field(default_factory=dict)
    geo: dict[str, GeoLayer] = field(default_factory=dict)
    metric_crs: str | None = None
    district: str = ""
    base_level: str = "community"
    """The area level the per-area sections (rankings, supervision, index map) use: the community layer, or, when
    none is loaded, the first of grid, street, police_district, station, district that is."""
    record_type: tuple[str, str] = ("110 警情", "110 calls")
    """What one record is, (zh, en): a 110 call, or the source's own record type (SF incident reports…)."""
    excluded: pd.DataFrame | None = None
    """Rows quarantined by the imports behind the period, per reason (:func:`anju.analytics.quality.excluded_rows`)."""
    warnings: pd.DataFrame | None = None
    """Data-quality checks that fire for the period (:func:`anju.analytics.quality.data_warnings`)."""
    has_loss: bool = True
    """Whether the period's records carry any loss amount (a column or amounts in the text); else "no data"."""

    @property
    def taxonomy(self) -> Any:
        return self.deployment.taxonomy

    def L(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def has_attribute(self, level: str, column: str) -> bool:
        """Whether the ``level`` table carries ``column`` with at least one positive value (e.g. ``population``)."""
        a = self.areas.get(level)
        if a is None or column not in a.columns:
            return False
        v = pd.to_numeric(a[column], errors="coerce").to_numpy(float)
        return bool(np.any(np.isfinite(v) & (v > 0)))


@dataclass
class Part:
    """What one section builder contributes."""

    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
