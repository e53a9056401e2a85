"""The one model contract (after scikit-learn's ``BaseEstimator``), shared by every forecast model.

* ``__init__`` takes keyword-only parameters and stores them unchanged (no validation there);
* ``fit(events)`` validates the parameters and the events, learns state named with a trailing underscore and
  returns ``self``;
* ``predict(grid, window)`` checks the model is fitted and returns the expected number of events per cell of
  ``grid`` in ``window`` (or a score proportional to it), shape ``grid.shape``, non-negative, 0 outside the mask.

Every model also takes ``family`` (taxonomy family code(s) to forecast; ``None`` = all events) and ``shift`` (a
time-of-day band such as ``"夜班"``: training events outside it are weighted by ``shift_weight``, 0 = dropped, and
the forecast covers only the shift's hours of the window). ``target_events`` applies the same selection to test
events, so a backtest scores a model on exactly what it claims to forecast.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from anju.errors import ConfigError, NotFittedError
from anju.forecast.events import EventArrays, Shift, Window, as_events, as_window, parse_shift
from anju.geo.regular_grid import RegularGrid

__all__ = ["ForecastModel", "check_is_fitted", "clone"]


def check_is_fitted(model: Any) -> None:
    """Raise :class:`~anju.errors.NotFittedError` unless ``model`` has learned state (an attribute ending in ``_``)."""
    fitted = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    if not fitted:
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' with events before 'predict'."
        )


def clone(model: ForecastModel) -> ForecastModel:
    """A new, unfitted model with the same parameters."""
    return type(model)(**model.get_params())


class ForecastModel:
    """Base class: parameters, selection of training events, the fit/predict template."""

    #: Whether ``shift_weight`` may take values strictly between 0 and 1 (point-process models: no).
    _weighted_shift = True

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as stored."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters (unknown names raise)."""
        names = self._param_names()
        for k, v in params.items():
            if k not in names:
                raise ConfigError(f"{type(self).__name__} has no parameter {k!r}; valid: {names}.", key=k)
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---- parameter checks shared by subclasses -------------------------------------------------------------------
    def _check_number(self, name: str, *, low: float = 0.0, low_open: bool = False, high: float | None = None,
                      none_ok: bool = False) -> None:
        value = getattr(self, name)
        if value is None and none_ok:
            return
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        ok = ok and np.isfinite(value) and (value > low if low_open else value >= low)
        if ok and high is not None:
            ok = value <= high
        if not ok:
            rng = f"{'>' if low_open else '≥'} {low}" + (f" and ≤ {high}" if high is not None else "")
            raise ConfigError(
                f"The {name!r} parameter of {type(self).__name__} must be a number {rng}"
                f"{' or None' if none_ok else ''}. Got {value!r} instead.",
                key=name,
            )

    def _check_choice(self, name: str, choices: Sequence[str]) -> None:
        value = getattr(self, name)
        if value not in choices:
            raise ConfigError(
                f"The {name!r} parameter of {type(self).__name__} must be one of {list(choices)}. "
                f"Got {value!r} instead.",
                key=name,
            )

    def _validate_params(self) -> None:
        """Subclasses check their own parameters here (called by ``fit``)."""

    # ---- selection ------------------------------------------------------------------------------------------------
    @property
    def parsed_shift(self) -> Shift | None:
        """The ``shift`` parameter parsed into a :class:`Shift` (or None)."""
        return parse_shift(self.shift)  # type: ignore[attr-defined]

    def _select(self, ev: EventArrays) -> tuple[EventArrays, np.ndarray]:
        """Training events of the model's family and their weights (shift_weight outside the shift)."""
        family = self.family  # type: ignore[attr-defined]
        if family is not None:
            ev = ev.take(ev.family_mask(family))
        shift = self.parsed_shift
        w = np.ones(len(ev))
        if shift is not None:
            inside = ev.in_shift(shift)  # a date-only event is never inside a shift
            sw = float(self.shift_weight)  # type: ignore[attr-defined]
            if sw == 0.0:
                ev = ev.take(inside)
                w = np.ones(len(ev))
            else:
                w = np.where(inside, 1.0, sw)
        return ev, w

    def target_events(self, events: Any) -> EventArrays:
        """Events this model forecasts (its family, inside its shift): what a backtest scores it against."""
        return as_events(events).select(family=self.family, shift=self.parsed_shift)  # type: ignore[attr-defined]

    # ---- template ---------------------------------------------------------------------------------------------------
    def fit(self, events: Any) -> Self:
        """Learn from events (DataFrame with x, y in metres and t timestamps); returns ``self``."""
        self._check_number("shift_weight", high=1.0)
        if not self._weighted_shift and float(self.shift_weight) not in (0.0, 1.0):  # type: ignore[attr-defined]
            raise ConfigError(
                f"The 'shift_weight' parameter of {type(self).__name__} must be 0 (fit on the shift's events) or "
                f"1 (fit on all events). Got {self.shift_weight!r} instead.",  # type: ignore[attr-defined]
                key="shift_weight",
            )
        parse_shift(self.shift)  # type: ignore[attr-defined]
        self._validate_params()
        ev = as_events(events)
        if len(ev) == 0:
            raise ConfigError(f"{type(self).__name__}.fit got no events with coordinates and times.", key="events")
        sel, w = self._select(ev)
        self.t_end_ = float(ev.t.max())
        self.times_ = np.sort(ev.t)  # every training time (before family/shift selection): where the data ends
        self.n_events_ = len(sel)
        shift = self.parsed_shift
        self.target_times_ = sel.t if shift is None else sel.t[sel.in_shift(shift)]
        self.date_only_excluded_ = ev.date_only if shift is not None else 0
        self._fit(sel, w)
        return self

    def predict(self, grid: RegularGrid, window: Window | tuple[Any, Any]) -> np.ndarray:
        """Expected events per cell of ``grid`` in ``window`` (restricted to the shift's hours), shape ``grid.shape``."""
        check_is_fitted(self)
        if not isinstance(grid, RegularGrid):
            raise ConfigError(f"predict needs an anju.geo.regular_grid.RegularGrid. Got {type(grid).__name__}.",
                              key="grid")
        win = as_window(window)
        out = np.asarray(self._predict(grid, win), dtype=float)
        out = np.where(grid.mask & np.isfinite(out), np.maximum(out, 0.0), 0.0)
        return out

    def _data_end(self, start: float) -> float:
        """Time of the last training event (of any family or hour) strictly before ``start``."""
        i = int(np.searchsorted(self.times_, start, side="left"))
        return float(self.times_[i - 1]) if i > 0 else start

    def _expected_total(self, start: float, lookback_days: float, window: Window) -> float:
        """Expected number of target events in ``window``: their rate over the last ``lookback_days`` (counting only
        the shift's hours) times the window's hours in the shift. Scales surfaces to counts; ranking ignores it."""
        shift = self.parsed_shift
        lo = start - lookback_days
        t = self.target_times_
        n = float(np.count_nonzero((t >= lo) & (t < start)))
        exposure = _exposure(shift, lo, start)
        return n / exposure * _exposure(shift, window.start_days, window.end_days) if exposure > 0 else 0.0

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _exposure(shift: Shift | None, start: float, end: float) -> float:
    """Days of ``[start, end)`` inside the shift's hours."""
    if end <= start:
        return 0.0
    if shift is None:
        return end - start
    iv = shift.intervals(start, end)
    return float((iv[:, 1] - iv[:, 0]).sum())
