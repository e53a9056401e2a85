"""Hot-spot forecast models: naive and random baselines, retrospective, prospective and space-time KDE.

All follow :class:`~anju.forecast.base.ForecastModel`; methods and references are in
``docs/methods/forecast-models.md``. Each model uses only training events strictly before the window's start, so a
model fitted on more data than a backtest origin cannot leak the future. Surfaces are scaled to the expected number
of events in the window (the recent rate of target events × the window's hours in the shift); rankings, and hence
every score, ignore that scale.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

from anju.forecast.base import ForecastModel
from anju.forecast.events import EventArrays, Window
from anju.geo.regular_grid import RegularGrid

__all__ = [
    "BlendHotspot",
    "NaiveHotspot",
    "ProspectiveHotspot",
    "RandomHotspot",
    "RetrospectiveHotspot",
    "SpaceTimeKDE",
    "convolve_exact",
]


def convolve_exact(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D convolution with zero padding (output shape = input shape), exact zeros where no kernel reaches.

    Direct convolution for small kernels; FFT for large ones, with round-off (< 1e-12 of the maximum) cleared so
    that unreached cells stay exactly 0 and tie as they should.
    """
    if kernel.size <= 41 * 41:
        return ndimage.convolve(values, kernel, mode="constant", cval=0.0)
    out = signal.fftconvolve(values, kernel, mode="same")
    peak = float(np.abs(out).max()) if out.size else 0.0
    out[np.abs(out) < 1e-12 * max(peak, 1e-300)] = 0.0
    return np.maximum(out, 0.0)


def _normalised(surface: np.ndarray, total: float) -> np.ndarray:
    s = float(surface.sum())
    return surface * (total / s) if s > 0 else surface


class NaiveHotspot(ForecastModel):
    """The naive baseline: next period looks like the last one.

    Parameters
    ----------
    strategy : {"last_period", "uniform"}
        ``"last_period"``: counts per cell in the last ``period_days`` of the training data before the window
        (ending at its latest event, so a gap in the data — e.g. the missing alternate weeks of the Kaggle SF set — is skipped, not
        counted as zero). ``"uniform"``: every cell equal (a random ranking in expectation).
    period_days : float
        Length of the last period (7 = last week).
    family, shift, shift_weight
        See :class:`~anju.forecast.base.ForecastModel`.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"x": [75.0, 75.0, 225.0], "y": [75.0, 75.0, 75.0],
    ...                    "t": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-21"])})
    >>> from anju.geo.regular_grid import RegularGrid
    >>> g = RegularGrid.from_bounds(0, 0, 299, 149, 150)
    >>> NaiveHotspot().fit(ev).predict(g, ("2024-01-22", "2024-01-29")).tolist()
    [[1.0, 1.0]]
    """

    def __init__(self, *, strategy: str = "last_period", period_days: float = 7.0, family: str | None = None,
                 shift: str | None = None, shift_weight: float = 0.0) -> None:
        self.strategy = strategy
        self.period_days = period_days
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        self._check_choice("strategy", ("last_period", "uniform"))
        self._check_number("period_days", low_open=True)

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        self.events_ = ev
        self.weights_ = w

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        start = window.start_days
        if self.strategy == "uniform":
            return np.full(grid.shape, 1.0)
        end = self._data_end(start)
        lo = end - float(self.period_days)
        keep = (self.events_.t > lo) & (self.events_.t <= end)  # (end - L, end]: 7 dates for 7 days
        counts = grid.counts(self.events_.x[keep], self.events_.y[keep], self.weights_[keep])
        return _normalised(counts, self._expected_total(float(np.nextafter(end, np.inf)), float(self.period_days), window))


class RandomHotspot(ForecastModel):
    """The random baseline: an independent uniform score per cell (PAI ≈ 1 in expectation).

    The surface is seeded by ``random_state`` and the window's start, so it is reproducible yet differs between
    backtest origins.
    """

    def __init__(self, *, random_state: int | None = None, family: str | None = None, shift: str | None = None,
                 shift_weight: float = 0.0) -> None:
        self.random_state = random_state
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        self.total_rate_ = len(ev)

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        if self.random_state is None:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng([int(self.random_state), int(window.start.value // 60_000_000_000)])
        return rng.random(grid.shape)


class RetrospectiveHotspot(ForecastModel):
    """Retrospective hot-spotting: counts (or a Gaussian KDE of them) over a long trailing window.

    The classical crime-mapping hot-spot map (Chainey, Tompson & Uhlig 2008): all events in the last
    ``lookback_days`` weigh the same. ``bandwidth_m = 0`` gives the cell counts themselves.
    """

    def __init__(self, *, lookback_days: float = 365.0, bandwidth_m: float = 0.0, family: str | None = None,
                 shift: str | None = None, shift_weight: float = 0.0) -> None:
        self.lookback_days = lookback_days
        self.bandwidth_m = bandwidth_m
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        self._check_number("lookback_days", low_open=True)
        self._check_number("bandwidth_m")

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        self.events_ = ev
        self.weights_ = w

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        start = window.start_days
        t = self.events_.t
        keep = (t < start) & (t >= start - float(self.lookback_days))
        counts = grid.counts(self.events_.x[keep], self.events_.y[keep], self.weights_[keep])
        if self.bandwidth_m > 0:
            counts = ndimage.gaussian_filter(counts, float(self.bandwidth_m) / grid.cell_size, mode="constant")
        return _normalised(counts, self._expected_total(start, float(self.lookback_days), window))


def bowers_kernel(bandwidth_m: float, cell_size: float) -> np.ndarray:
    """Spatial weights 1/(1+d) for cells whose centre lies within ``bandwidth_m`` (d = distance in cells)."""
    r = float(bandwidth_m) / float(cell_size)
    k = int(np.floor(r))
    dy, dx = np.mgrid[-k:k + 1, -k:k + 1]
    d = np.hypot(dx, dy)
    return np.where(d <= r + 1e-9, 1.0 / (1.0 + d), 0.0)


class ProspectiveHotspot(ForecastModel):
    """Prospective hot-spotting (Bowers, Johnson & Pease 2004).

    Risk of a cell = Σ over recent events of ``1/(1 + d) · 1/(1 + w)``, with ``d`` the distance from the event's
    cell to the cell in cell widths (only cells within ``bandwidth_m``) and ``w`` the whole weeks elapsed between
    the event and the window's start (only events within ``lookback_days``). The original used 50 m cells, a 400 m
    bandwidth and one to two months of data.

    Examples
    --------
    >>> import pandas as pd
    >>> from anju.geo.regular_grid import RegularGrid
    >>> ev = pd.DataFrame({"x": [75.0], "y": [75.0], "t": pd.to_datetime(["2024-01-10"])})
    >>> g = RegularGrid.from_bounds(0, 0, 449, 149, 150)
    >>> m = ProspectiveHotspot(bandwidth_m=150.0).fit(ev)
    >>> (m.predict(g, ("2024-01-15", "2024-01-22")) / m.predict(g, ("2024-01-15", "2024-01-22")).max()).round(3).tolist()
    [[1.0, 0.5, 0.0]]
    """

    def __init__(self, *, bandwidth_m: float = 400.0, lookback_days: float = 56.0, family: str | None = None,
                 shift: str | None = None, shift_weight: float = 0.0) -> None:
        self.bandwidth_m = bandwidth_m
        self.lookback_days = lookback_days
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        self._check_number("bandwidth_m")
        self._check_number("lookback_days", low_open=True)

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        self.events_ = ev
        self.weights_ = w

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        start = window.start_days
        age = start - self.events_.t
        keep = (age > 0) & (age < float(self.lookback_days))  # an event exactly at the limit weighs 0 (as open_cp)
        weeks = np.floor(age[keep] / 7.0)
        weights = self.weights_[keep] / (1.0 + weeks)
        binned = grid.counts(self.events_.x[keep], self.events_.y[keep], weights)
        risk = convolve_exact(binned, bowers_kernel(float(self.bandwidth_m), grid.cell_size))
        return _normalised(risk, self._expected_total(start, float(self.lookback_days), window))


class SpaceTimeKDE(ForecastModel):
    """Binned space-time kernel density: a Gaussian in space, an exponential decay in time.

    Weight of an event = ``exp(-age / time_scale_days)`` (age up to ``lookback_days``); the weighted cell histogram
    is smoothed with a Gaussian of standard deviation ``bandwidth_m`` (truncated at 4 σ). Binning makes it
    O(events + cells · kernel) instead of O(events · cells) (Silverman 1986, §3.5; Wand 1994).
    """

    def __init__(self, *, bandwidth_m: float = 250.0, time_scale_days: float = 60.0, lookback_days: float = 365.0,
                 family: str | None = None, shift: str | None = None, shift_weight: float = 0.0) -> None:
        self.bandwidth_m = bandwidth_m
        self.time_scale_days = time_scale_days
        self.lookback_days = lookback_days
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        self._check_number("bandwidth_m")
        self._check_number("time_scale_days", low_open=True)
        self._check_number("lookback_days", low_open=True)

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        self.events_ = ev
        self.weights_ = w

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        start = window.start_days
        age = start - self.events_.t
        keep = (age > 0) & (age <= float(self.lookback_days))
        weights = self.weights_[keep] * np.exp(-age[keep] / float(self.time_scale_days))
        binned = grid.counts(self.events_.x[keep], self.events_.y[keep], weights)
        if self.bandwidth_m > 0:
            binned = ndimage.gaussian_filter(binned, float(self.bandwidth_m) / grid.cell_size, mode="constant",
                                             truncate=4.0)
        return _normalised(binned, self._expected_total(start, float(self.lookback_days), window))


class BlendHotspot(ForecastModel):
    """Long memory plus kernel-smoothed neighbours: a weighted blend of decayed long-term counts and their KDE.

    Risk of a cell = ``(1 − s) · C + s · G_σ(C)`` with ``C`` the cell counts of the last ``lookback_days`` (years,
    not weeks), each event weighted ``2^(−age / half_life_days)`` (``half_life_days = 0``: no decay), and ``G_σ`` a
    Gaussian kernel of standard deviation ``bandwidth_m``. It follows what published winners did: long memory
    (crime at street-segment scale is stable over years, Weisburd 2015) and kernel smoothing with a tuned
    bandwidth mixed into the counts (the NIJ Real-Time Crime Forecasting Challenge winners; Mohler 2014's
    long-term background). The counts keep the sharp hot cells; the smoothed part ranks the many cells with few or
    no past events by their neighbours instead of by chance. Parameters are chosen per deployment by the
    rolling-origin backtest (:mod:`anju.forecast.selection`).

    Examples
    --------
    >>> import pandas as pd
    >>> from anju.geo.regular_grid import RegularGrid
    >>> ev = pd.DataFrame({"x": [75.0, 75.0, 375.0], "y": [75.0] * 3,
    ...                    "t": pd.to_datetime(["2022-01-10", "2024-01-10", "2024-01-11"])})
    >>> g = RegularGrid.from_bounds(0, 0, 599, 149, 150)
    >>> m = BlendHotspot(lookback_days=1095.0, half_life_days=0.0, bandwidth_m=150.0, smooth_weight=0.3).fit(ev)
    >>> r = m.predict(g, ("2024-01-15", "2024-01-22"))
    >>> [int(v) for v in (r.ravel().argsort()[::-1])]  # the cell with two events, its neighbours, then the rest
    [0, 2, 1, 3]
    """

    def __init__(self, *, lookback_days: float = 1095.0, half_life_days: float = 730.0, bandwidth_m: float = 150.0,
                 smooth_weight: float = 0.3, family: str | None = None, shift: str | None = None,
                 shift_weight: float = 0.0) -> None:
        self.lookback_days = lookback_days
        self.half_life_days = half_life_days
        self.bandwidth_m = bandwidth_m
        self.smooth_weight = smooth_weight
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        self._check_number("lookback_days", low_open=True)
        self._check_number("half_life_days")
        self._check_number("bandwidth_m")
        self._check_number("smooth_weight", high=1.0)

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        self.events_ = ev
        self.weights_ = w

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        start = window.start_days
        age = start - self.events_.t
        keep = (age > 0) & (age <= float(self.lookback_days))
        weights = self.weights_[keep]
        if self.half_life_days > 0:
            weights = weights * np.exp2(-age[keep] / float(self.half_life_days))
        counts = grid.counts(self.events_.x[keep], self.events_.y[keep], weights)
        s = float(self.smooth_weight)
        if self.bandwidth_m > 0 and s > 0:
            smooth = ndimage.gaussian_filter(counts, float(self.bandwidth_m) / grid.cell_size, mode="constant")
            counts = (1.0 - s) * counts + s * smooth
        return _normalised(counts, self._expected_total(start, float(self.lookback_days), window))
