"""A grid self-exciting point process (grid ETAS; Mohler et al. 2011, 2015), fitted by expectation–maximisation.

The conditional intensity of events in grid cell ``n`` at time ``t`` (days) is

    λ_n(t) = μ_n + θ ω Σ_{i: t_i < t} g(n − c_i) exp(−ω (t − t_i))

with ``μ_n`` a constant background rate per cell, ``θ`` the mean number of direct offspring per event (branching
ratio), ``1/ω`` their mean delay and ``g`` the spatial offspring kernel: ``g = 1`` on the event's own cell
(``neighbourhood = 0``, exactly the model of Mohler et al. 2015, JASA 110:1399) or uniform over the
``(2r+1)²`` block around it (``neighbourhood = r``). The EM updates are Mohler et al. (2015)'s:

    p_jj = μ_{c_j} / λ(t_j),   p_ij = θ ω g exp(−ω (t_j − t_i)) / λ(t_j)
    μ_n = Σ_{j∈n} p_jj / T,    θ = Σ_{i<j} p_ij / Σ_i (1 − e^{−ω (T − t_i)}),   ω = Σ_{i<j} p_ij / Σ_{i<j} p_ij (t_j − t_i)

(θ edge-corrected: events near the end of the span have had little time to trigger.)

Because the kernel is exponential, the sums over earlier events obey a linear recurrence along each cell's event
sequence, ``S_k = exp(−ω Δ_k) S_{k−1} + s_k``; it is evaluated for all cells at once with a parallel-prefix scan of
affine maps (Blelloch 1990), so an EM iteration costs O(N log N) vectorised operations and no event pairs are formed.
Details and caveats are in ``docs/methods/forecast-models.md``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy import ndimage

from anju.errors import ConfigError
from anju.forecast.base import ForecastModel
from anju.forecast.events import EventArrays, Window, as_events
from anju.geo.regular_grid import RegularGrid

__all__ = ["SEPP", "affine_scan"]

_OFF = np.int64(2**31)


def affine_scan(a: np.ndarray, b: np.ndarray, *, negligible: float = 0.0) -> np.ndarray:
    """Solve ``x_k = a_k x_{k−1} + b_k`` (``x_{−1}`` = 0) for all k with a log-depth prefix scan.

    Composing the affine maps ``x ↦ a x + b`` is associative, so Hillis–Steele doubling needs at most ⌈log₂ n⌉
    vectorised steps. Setting ``a_k = 0`` restarts the recurrence (segments). The scan stops early once every
    composed coefficient is zero — after ⌈log₂ (longest segment)⌉ steps — and coefficients below ``negligible``
    (products of decays, e.g. e^{−ω Δt} over weeks) are set to zero to reach that point sooner.

    Examples
    --------
    >>> affine_scan(np.array([0.0, 0.5, 0.5, 0.0, 1.0]), np.array([1.0, 1.0, 1.0, 2.0, 3.0])).tolist()
    [1.0, 1.5, 1.75, 2.0, 5.0]
    """
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    n = a.size
    d = 1
    while d < n:
        b[d:] = a[d:] * b[:-d] + b[d:]
        a[d:] = a[d:] * a[:-d]
        a[:d] = 0.0  # fully composed already
        if negligible > 0.0:
            a[a < negligible] = 0.0
        if not a.any():
            break
        d *= 2
    return b


def _pack(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    return (cy.astype(np.int64) + _OFF) * np.int64(2**32) + (cx.astype(np.int64) + _OFF)


class SEPP(ForecastModel):
    """Grid self-exciting point process (ETAS-type), fitted by EM.

    Parameters
    ----------
    cell_size_m : float
        Side of the model's cells; cells are ``floor(x / s), floor(y / s)`` (predict on a grid of the same size).
    neighbourhood : int
        0: events trigger only in their own cell (Mohler et al. 2015); r > 0: offspring spread uniformly over the
        (2r+1)×(2r+1) block of cells.
    lookback_days : float or None
        Fit on the last ``lookback_days`` of the training data (None = all of it).
    max_iter, tol : int, float
        EM stops at the fixed point of its update (θ, ω and μ change by less than ``tol``, relative) or after
        ``max_iter`` iterations.
    theta_init, omega_init : float
        Starting branching ratio and decay rate (per day).
    family, shift, shift_weight
        As for every model; ``shift_weight`` must be 0 (fit on the shift's events) or 1 (fit on all events and
        integrate the intensity over the shift's hours).

    Attributes
    ----------
    mu_ : ndarray
        Background rate (events/day) of each cell in ``cell_keys_``.
    theta_, omega_ : float
        Branching ratio and decay rate (1/day).
    n_iter_, converged_, log_likelihood_ : int, bool, float

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> t = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 200, 400)), unit="D")
    >>> ev = pd.DataFrame({"x": rng.uniform(0, 1500, 400), "y": rng.uniform(0, 1500, 400), "t": t})
    >>> m = SEPP(cell_size_m=150.0).fit(ev)
    >>> bool(m.theta_ < 0.2), m.mu_.size <= 100
    (True, True)
    """

    _weighted_shift = False

    def __init__(self, *, cell_size_m: float = 150.0, neighbourhood: int = 0, lookback_days: float | None = 365.0,
                 max_iter: int = 200, tol: float = 1e-5, theta_init: float = 0.5, omega_init: float = 0.1,
                 family: str | None = None, shift: str | None = None, shift_weight: float = 0.0) -> None:
        self.cell_size_m = cell_size_m
        self.neighbourhood = neighbourhood
        self.lookback_days = lookback_days
        self.max_iter = max_iter
        self.tol = tol
        self.theta_init = theta_init
        self.omega_init = omega_init
        self.family = family
        self.shift = shift
        self.shift_weight = shift_weight

    def _validate_params(self) -> None:
        self._check_number("cell_size_m", low_open=True)
        self._check_number("lookback_days", low_open=True, none_ok=True)
        self._check_number("tol", low_open=True)
        self._check_number("theta_init", low_open=True, high=0.99)
        self._check_number("omega_init", low_open=True)
        for name, low in (("neighbourhood", 0), ("max_iter", 1)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low or v > 10_000:
                raise ConfigError(f"The {name!r} parameter of SEPP must be an integer ≥ {low}. Got {v!r} instead.",
                                  key=name)

    # ---- fit -----------------------------------------------------------------------------------------------------------
    def fit(self, events: Any) -> Self:
        """Fit by EM (see the class docstring). Refuses date-only data: with every event at midnight the delays
        between events are whole days, same-day events are simultaneous, and the fit collapses to a Poisson map
        (θ ≈ 1e-5) after hundreds of iterations — the one-year counts of ``retrospective`` give that map at no cost.
        """
        ev = as_events(events)
        if len(ev) > 1 and bool(np.all(ev.t == np.floor(ev.t))):
            raise ConfigError(
                "SEPP 需要警情发生的时刻，但这些警情只有日期（全部为 00:00），自激发部分无法估计；请改用 "
                "retrospective 或 blend，或不指定 --model 自动选择 / SEPP needs times of day, but these incidents "
                "carry dates only (every time is 00:00): self-excitation cannot be estimated and the fit would "
                "collapse to plain counts at many times the cost; use retrospective or blend, or let the default "
                "choose.", key="model")
        super().fit(ev)
        self.all_events_ = ev  # every training event, to refit on the past when asked about an earlier window
        return self

    def _fit(self, ev: EventArrays, w: np.ndarray) -> None:
        t_end = self.t_end_
        t_start = float(ev.t.min()) if len(ev) else t_end
        if self.lookback_days is not None:
            t_start = max(t_start, t_end - float(self.lookback_days))
            ev = ev.take(ev.t >= t_start)
        self.events_ = ev
        self.window_days_ = max(t_end - t_start, 1e-9)
        s = float(self.cell_size_m)
        cx = np.floor(ev.x / s).astype(np.int64)
        cy = np.floor(ev.y / s).astype(np.int64)
        keys, u = np.unique(_pack(cx, cy), return_inverse=True)
        self.cell_keys_ = keys
        n = len(ev)
        if n == 0:
            self.mu_ = np.zeros(0)
            self.theta_, self.omega_ = 0.0, float(self.omega_init)
            self.n_iter_, self.converged_, self.log_likelihood_ = 0, True, 0.0
            return
        plan = self._scan_plan(cx, cy, u, ev.t, keys)
        big_t = self.window_days_
        mu = np.bincount(u, minlength=keys.size) / (2.0 * big_t)
        theta, omega = float(self.theta_init), float(self.omega_init)
        converged = False
        it = 0
        for it in range(1, int(self.max_iter) + 1):  # noqa: B007 - the count is kept
            a_sum, b_sum = self._sums(plan, omega, n)
            trig = theta * omega * a_sum
            lam = mu[u] + trig
            p_bg = mu[u] / lam
            p_tr = trig / lam
            d_sum = float((theta * omega * b_sum / lam).sum())
            new_mu = np.bincount(u, weights=p_bg, minlength=keys.size) / big_t
            tr_total = float(p_tr.sum())
            # edge-corrected: an event near the end of the span has had little time to trigger, so θ divides by
            # the expected offspring window Σ (1 − e^{−ω (T − t_i)}) rather than N (it maximises the same
            # edge-corrected likelihood the compensator uses)
            exposure = float((1.0 - np.exp(-omega * (t_end - ev.t))).sum())
            new_theta = min(tr_total / max(exposure, 1e-12), 0.999)
            new_omega = tr_total / d_sum if d_sum > 0 else omega
            change = max(
                abs(new_theta - theta) / max(theta, 1e-12),
                abs(new_omega - omega) / max(omega, 1e-12),
                float(np.abs(new_mu - mu).max() / max(float(mu.max()), 1e-300)),
            )
            mu, theta, omega = new_mu, new_theta, new_omega
            if theta < 1e-10:  # no self-excitation left: a pure Poisson process
                theta = 0.0
                converged = True
                break
            if change < float(self.tol):
                converged = True
                break
        a_sum, _ = self._sums(plan, omega, n)
        lam = mu[u] + theta * omega * a_sum
        self.mu_ = mu
        self.theta_ = float(theta)
        self.omega_ = float(omega)
        self.n_iter_ = it
        self.converged_ = converged
        self.log_likelihood_ = self._log_likelihood(lam, mu, theta, omega, ev.t, t_end)

    def _log_likelihood(self, lam: np.ndarray, mu: np.ndarray, theta: float, omega: float, t: np.ndarray,
                        t_end: float) -> float:
        """Σ log λ(t_j) − ∫ Σ_n λ_n dt over the training span (offspring may land anywhere on the plane)."""
        compensator = float(mu.sum()) * self.window_days_ + theta * float((1.0 - np.exp(-omega * (t_end - t))).sum())
        return float(np.log(np.maximum(lam, 1e-300)).sum() - compensator)

    def _scan_plan(self, cx: np.ndarray, cy: np.ndarray, u: np.ndarray, t: np.ndarray,
                   keys: np.ndarray) -> dict[str, np.ndarray]:
        """Merge targets (every event) with sources (every event shifted over the offspring block), sorted by
        (cell, time, targets first) so that a target only sees sources strictly before it."""
        r = int(self.neighbourhood)
        n = t.size
        src_cell = [u]
        src_t = [t]
        if r > 0:
            src_cell, src_t = [], []
            for ox in range(-r, r + 1):
                for oy in range(-r, r + 1):
                    k = _pack(cx + ox, cy + oy)
                    pos = np.searchsorted(keys, k)
                    pos = np.minimum(pos, keys.size - 1)
                    hit = keys[pos] == k
                    src_cell.append(pos[hit])
                    src_t.append(t[hit])
        g = 1.0 / float((2 * r + 1) ** 2)
        cell = np.concatenate([u, *src_cell])
        time = np.concatenate([t, *src_t])
        kind = np.concatenate([np.zeros(n, np.int8), np.ones(cell.size - n, np.int8)])
        order = np.lexsort((kind, time, cell))
        cell, time, kind = cell[order], time[order], kind[order]
        delta = np.diff(time, prepend=time[0])
        seg_start = np.ones(cell.size, dtype=bool)
        seg_start[1:] = cell[1:] != cell[:-1]
        delta[seg_start] = 0.0
        is_target = kind == 0
        target_event = order[is_target]  # index into the event arrays (targets are the first n of the merge)
        return {"delta": delta, "seg_start": seg_start, "src": np.where(is_target, 0.0, g),
                "is_target": is_target, "target_event": target_event}

    @staticmethod
    def _sums(plan: dict[str, np.ndarray], omega: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        """For every event j: A_j = Σ g e^{−ω(t_j−t_i)} and B_j = Σ g (t_j−t_i) e^{−ω(t_j−t_i)} over earlier i."""
        delta = plan["delta"]
        a = np.exp(-omega * delta)
        a[plan["seg_start"]] = 0.0
        s = affine_scan(a, plan["src"])
        s_prev = np.empty_like(s)
        s_prev[0] = 0.0
        s_prev[1:] = s[:-1]
        b = affine_scan(a, a * delta * s_prev)
        a_out = np.empty(n)
        b_out = np.empty(n)
        idx = plan["target_event"]
        a_out[idx] = s[plan["is_target"]]
        b_out[idx] = b[plan["is_target"]]
        return a_out, b_out

    # ---- predict -------------------------------------------------------------------------------------------------------
    def background(self, grid: RegularGrid) -> np.ndarray:
        """Background rate μ (events/day) of each cell of ``grid``."""
        self._check_grid(grid)
        xc, yc = grid.centres()
        s = float(self.cell_size_m)
        k = _pack(np.floor(xc / s), np.floor(yc / s)).ravel()
        out = np.zeros(k.size)
        if self.cell_keys_.size:
            pos = np.minimum(np.searchsorted(self.cell_keys_, k), self.cell_keys_.size - 1)
            hit = self.cell_keys_[pos] == k
            out[hit] = self.mu_[pos[hit]]
        return out.reshape(grid.shape)

    def _check_grid(self, grid: RegularGrid) -> None:
        if not np.isclose(grid.cell_size, float(self.cell_size_m)):
            raise ConfigError(
                f"SEPP was fitted on {self.cell_size_m} m cells but the grid has {grid.cell_size} m cells; "
                "build the grid with the same cell size or refit with cell_size_m=grid.cell_size.",
                key="grid",
            )

    def _predict(self, grid: RegularGrid, window: Window) -> np.ndarray:
        """Expected events per cell in the window given the history, cascades inside the window included.

        With ``X`` the decayed sum of past events at the window start ``s``, the expected intensity ``m(t)`` solves
        ``h' = μ − κ h`` with ``m = μ + θ ω h``, ``h(s) = X`` and ``κ = ω (1 − θ)``, so over an interval ``[a, b)``

            ∫ m = μ (b − a) + θ ω [h∞ (b − a) + (X − h∞)(e^{−κ(a−s)} − e^{−κ(b−s)}) / κ],  h∞ = μ / κ.

        This is exact for ``neighbourhood = 0``; with a neighbourhood the offspring of window events are kept in
        their parent's cell (an approximation). An explosive fit (θ ≥ 1) falls back to first-generation offspring.
        """
        start = window.start_days
        if self.t_end_ >= start:  # the training data reach into the window: refit on what was known at its start
            past = self.all_events_.before(start)
            if len(past) == 0:
                return np.zeros(grid.shape)
            return type(self)(**self.get_params()).fit(past)._predict(grid, window)
        iv = window.intervals(self.parsed_shift)
        lo, hi = iv[:, 0] - start, iv[:, 1] - start
        length = float((hi - lo).sum())
        mu = self.background(grid)
        ev = self.events_
        keep = ev.t < start
        x_s = grid.counts(ev.x[keep], ev.y[keep], np.exp(-self.omega_ * (start - ev.t[keep])))
        r = int(self.neighbourhood)
        if r > 0:
            kernel = np.full((2 * r + 1, 2 * r + 1), 1.0 / (2 * r + 1) ** 2)
            x_s = ndimage.convolve(x_s, kernel, mode="constant", cval=0.0)
        theta, omega = self.theta_, self.omega_
        if theta >= 0.999:
            first = float((np.exp(-omega * lo) - np.exp(-omega * hi)).sum())
            return mu * length + theta * first * x_s
        kappa = omega * (1.0 - theta)
        decay = float((np.exp(-kappa * lo) - np.exp(-kappa * hi)).sum()) / kappa
        h_inf = mu / kappa
        return mu * length + theta * omega * (h_inf * length + (x_s - h_inf) * decay)
