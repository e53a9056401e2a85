"""Forecasts, their evaluation, patrol plans and alerts.

Models share one scikit-learn-style contract (:class:`~anju.forecast.base.ForecastModel`): construct with
parameters, ``fit(events)``, ``predict(grid, window)`` → expected events per grid cell. Every surface is scored the
same way (:func:`~anju.forecast.evaluate.coverage_scores`, :func:`~anju.forecast.evaluate.backtest`). Nothing here
reads the lake: events come in as DataFrames / arrays; the CLI (``anju forecast``, ``anju backtest``,
``anju patrol plan``) does the reading.
"""

from __future__ import annotations

from typing import Any

from anju.errors import ConfigError
from anju.forecast.base import ForecastModel, check_is_fitted, clone
from anju.forecast.boosting import BoostedHotspot
from anju.forecast.evaluate import (
    COVERAGES,
    backtest,
    coverage_scores,
    observed_origins,
    rolling_origins,
    summarize,
)
from anju.forecast.events import SHIFTS, Shift, Window, as_events, parse_shift
from anju.forecast.models import (
    BlendHotspot,
    NaiveHotspot,
    ProspectiveHotspot,
    RandomHotspot,
    RetrospectiveHotspot,
    SpaceTimeKDE,
)
from anju.forecast.sepp import SEPP

__all__ = [
    "COVERAGES",
    "MODELS",
    "SEPP",
    "SHIFTS",
    "BlendHotspot",
    "BoostedHotspot",
    "ForecastModel",
    "NaiveHotspot",
    "ProspectiveHotspot",
    "RandomHotspot",
    "RetrospectiveHotspot",
    "Shift",
    "SpaceTimeKDE",
    "Window",
    "as_events",
    "backtest",
    "check_is_fitted",
    "clone",
    "coverage_scores",
    "make_model",
    "observed_origins",
    "parse_shift",
    "rolling_origins",
    "summarize",
]

#: Model names used by the CLI and the docs.
MODELS: dict[str, type[ForecastModel]] = {
    "naive": NaiveHotspot,
    "random": RandomHotspot,
    "retrospective": RetrospectiveHotspot,
    "prospective": ProspectiveHotspot,
    "kde": SpaceTimeKDE,
    "sepp": SEPP,
    "blend": BlendHotspot,
    "boost": BoostedHotspot,
}


def make_model(name: str, **params: Any) -> ForecastModel:
    """A model by name (see :data:`MODELS`) with parameters; unknown parameters are dropped only if None.

    Examples
    --------
    >>> make_model("prospective", bandwidth_m=300.0, shift="夜班")
    ProspectiveHotspot(bandwidth_m=300.0, lookback_days=56.0, family=None, shift='夜班', shift_weight=0.0)
    """
    try:
        cls = MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of {sorted(MODELS)}.", key="model") from None
    names = set(cls._param_names())
    unknown = [k for k, v in params.items() if k not in names and v is not None]
    if unknown:
        raise ConfigError(f"model {name!r} has no parameter(s) {unknown}; valid: {sorted(names)}.", key="model")
    return cls(**{k: v for k, v in params.items() if k in names})
