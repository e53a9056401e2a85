"""Gradient boosting over lagged cell counts (the HunchLab manner): a model that learns how to weigh the past.

At every forecast the model builds a small training set from the history it was given: for several earlier
*pseudo-origins* ``o`` (every week before the window, as long as the target window ``[o, o + h)`` ends before the
forecast starts), each cell's features are its counts over the last 1, 4, 13, 52 and 104 weeks before ``o``, the
same season last year (``[o − 365 d, o − 365 d + h)``), its kernel-smoothed neighbours over one and two years and
the calendar month of ``o``; the target is the cell's count in ``[o, o + h)``. A histogram gradient-boosting
regressor with Poisson loss (scikit-learn's ``HistGradientBoostingRegressor``) learns the mapping and is applied
to the features at the window's start. So the mixture of short and long memory, and of a cell's own counts and its
neighbours', is fitted per dataset and per horizon on the user's own history — never on the window it forecasts.

References: HunchLab (Azavea 2015) — gradient-boosted trees over lagged counts,
neighbour counts and calendar features; Friedman (2001) for boosting; scikit-learn's histogram implementation
after LightGBM (Ke et al. 2017). Method notes and figures: ``docs/methods/forecast-models.md``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from anju.forecast.base import ForecastModel
from anju.forecast.events import EventArrays, Window, days_to_timestamp
from anju.forecast.models import _normalised
from anju.geo.regular_grid import RegularGrid

__all__ = ["LAGS_DAYS", "BoostedHotspot"]

#: Lookbacks of the lagged-count features (days): one week, four weeks, a quarter, one and two years.
LAGS_DAYS: tuple[int, ...] = (7, 28, 91, 365, 730)


class BoostedHotspot(ForecastModel):
    """Poisson gradient boosting over lagged cell counts, neighbour counts and the calendar month.

    Parameters
    ----------
    n_origins : int
        Pseudo-origins (one a week, the latest whose target window ends at the forecast start) that make the
        training set; weeks whose target window holds less than half the median count are skipped (a source's
        missing weeks are not "no crime").
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingRegressor(loss="poisson")``; small trees and few iterations, so that a
        forecast costs seconds on a city-sized grid.
    max_rows : int
        At most this many (cell, pseudo-origin) rows train the model: beyond it, rows whose features and target
        are all zero are thinned at random (seeded), with weights that keep the sum of the loss unbiased.
    bandwidth_m : float
        Standard deviation of the Gaussian kernel of the neighbour features (0: one cell width).
    random_state : int
    family, shift, shift_weight
        See :class:`~anju.forecast.base.ForecastModel`.
    """

    def __init__(self, *, n_origins: int = 12, max_iter: int = 60, learning_rate: float = 0.1,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 50, l2_regularization: float = 1.0,
                 max_rows: int = 300_000, bandwidth_m: float = 0.0, random_state: int = 0,
                 family: str | None = None, shift: str | None = None, shift_weight: float = 0.0) -> None:
        self.n_origins = n_origins
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_rows = max_rows
        self.bandwidth_m = bandwidth_m
        self.random_state = random_state
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        for name in ("n_origins", "max_iter", "max_leaf_nodes", "min_samples_leaf", "max_rows"):
            self._check_number(name, low=1.0)
        self._check_number("learning_rate", low_open=True, high=1.0)
        self._check_number("l2_regularization")
        self._check_number("bandwidth_m")

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        order = np.argsort(ev.t, kind="stable")
        self.t_sorted_ = ev.t[order]
        self.cells_xy_ = (ev.x[order], ev.y[order])
        self.weights_ = w[order]

    # ---- features -------------------------------------------------------------------------------------------------
    def _counts(self, grid: RegularGrid, cell: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Weighted counts per cell (flat, all cells) of the events with lo ≤ t < hi."""
        i0, i1 = np.searchsorted(self.t_sorted_, [lo, hi])
        c = cell[i0:i1]
        ok = c >= 0
        return np.bincount(c[ok], weights=self.weights_[i0:i1][ok], minlength=grid.n_cells)

    def _features(self, grid: RegularGrid, cell: np.ndarray, o: float, h: float) -> np.ndarray:
        sigma = max(float(self.bandwidth_m) / grid.cell_size, 1.0)
        cols = [self._counts(grid, cell, o - lag, o) for lag in LAGS_DAYS]
        cols.append(self._counts(grid, cell, o - 365.0, o - 365.0 + h))
        for lag, s in ((365, sigma), (730, 2 * sigma)):
            c = cols[LAGS_DAYS.index(lag)].reshape(grid.shape)
            cols.append(ndimage.gaussian_filter(c, s, mode="constant").ravel())
        month = float(days_to_timestamp(o).month)
        cols.append(np.full(grid.n_cells, month))
        return np.column_stack(cols)

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        start, h = window.start_days, window.days
        x, y = self.cells_xy_
        cell = grid.locate(x, y)
        active = np.flatnonzero(grid.mask.ravel())
        # pseudo-origins: weekly, the latest whose target window ends at the forecast start
        step = 7.0
        cands = start - h - step * np.arange(max(3 * int(self.n_origins), int(self.n_origins) + 8))
        t0 = float(self.t_sorted_[0]) if self.t_sorted_.size else start
        cands = cands[cands - 91.0 >= t0]  # at least a quarter of history behind every pseudo-origin
        n_target = np.searchsorted(self.t_sorted_, cands + h) - np.searchsorted(self.t_sorted_, cands)
        if cands.size:
            keep = (n_target > 0) & (n_target >= 0.5 * float(np.median(n_target)))
            cands = cands[keep][: int(self.n_origins)]
        x_now = self._features(grid, cell, start, h)[active]
        if cands.size < 2:  # too little history to learn from: fall back to the one-year counts
            risk = np.zeros(grid.n_cells)
            risk[active] = x_now[:, LAGS_DAYS.index(365)]
            return _normalised(risk.reshape(grid.shape), self._expected_total(start, 365.0, window))
        feats, target = [], []
        for o in cands:
            feats.append(self._features(grid, cell, float(o), h)[active])
            target.append(self._counts(grid, cell, float(o), float(o) + h)[active])
        xs = np.concatenate(feats)
        ys = np.concatenate(target)
        sw = np.ones(ys.size)
        rng = np.random.default_rng(int(self.random_state))
        if ys.size > int(self.max_rows):
            empty = (ys == 0) & ~(xs[:, :-1] > 0).any(axis=1)
            n_keep = max(int(self.max_rows) - int((~empty).sum()), 1)
            n_empty = int(empty.sum())
            if n_empty > n_keep:
                idx = np.flatnonzero(empty)
                drop = rng.choice(idx, n_empty - n_keep, replace=False)
                keep_rows = np.ones(ys.size, dtype=bool)
                keep_rows[drop] = False
                sw[idx] = n_empty / n_keep
                xs, ys, sw = xs[keep_rows], ys[keep_rows], sw[keep_rows]
        reg = HistGradientBoostingRegressor(
            loss="poisson", max_iter=int(self.max_iter), learning_rate=float(self.learning_rate),
            max_leaf_nodes=int(self.max_leaf_nodes), min_samples_leaf=int(self.min_samples_leaf),
            l2_regularization=float(self.l2_regularization), early_stopping=False,
            categorical_features=None, random_state=int(self.random_state))
        # one thread: on a shared 2-core machine OpenMP's spin-waiting threads cost 10–20× the CPU of one thread
        with threadpool_limits(1):
            reg.fit(xs, ys, sample_weight=sw)
            pred = reg.predict(x_now)
        self.n_train_rows_ = int(ys.size)
        self.n_pseudo_origins_ = int(cands.size)
        # trees give piecewise-constant predictions: break ties by the smoothed two-year counts (a tiny share of
        # the smallest step between distinct predictions), so equal leaves rank by long memory, not by cell id
        tie = x_now[:, len(LAGS_DAYS) + 2]
        steps = np.diff(np.unique(pred))
        eps = (float(steps.min()) if steps.size else 1.0) * 1e-3
        pred = pred + eps * tie / (float(tie.max()) + 1e-12)
        risk = np.zeros(grid.n_cells)
        risk[active] = pred
        return _normalised(risk.reshape(grid.shape), self._expected_total(start, 365.0, window))
