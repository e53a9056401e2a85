"""Choosing the default forecast model on the user's own history: the model must earn its place.

:func:`candidates` lists the baselines (naive counts over several lookbacks, random) and the models tried;
:func:`choose` reads a rolling-origin backtest of them (:func:`anju.forecast.evaluate.backtest`) and picks the model
with the highest mean PAI at the requested coverage. Naive baselines are candidates too and win ties, so the
default is never a model that lost to the best naive lookback on the backtest windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anju.errors import ConfigError
from anju.forecast.base import ForecastModel
from anju.forecast.models import NaiveHotspot, ProspectiveHotspot, RandomHotspot, RetrospectiveHotspot

__all__ = ["AutoChoice", "candidates", "choose", "is_baseline"]

#: Lookbacks (days) of the naive count baselines: "top cells by count over the last L days".
NAIVE_LOOKBACKS: tuple[int, ...] = (7, 28, 91, 365)


def is_baseline(name: str) -> bool:
    """Whether a candidate name is a baseline (naive counts or random) rather than a model."""
    return name.startswith(("naive", "random"))


def candidates(cell_size: float, *, family: str | None = None, seed: int = 0) -> dict[str, ForecastModel]:
    """Baselines and models the default forecast chooses among, by display name.

    Naive ``naive-<L>d``: counts per cell in the last ``L`` days (7 days: the last week of data). Models: prospective
    hot-spotting (Bowers et al. 2004) with two bandwidths, and counts over one year smoothed by a Gaussian kernel of
    one and two cell widths (kernel density with a tuned bandwidth, as the NIJ challenge winners used).
    """
    out: dict[str, ForecastModel] = {"naive-7d": NaiveHotspot(period_days=7.0, family=family)}
    for days in NAIVE_LOOKBACKS[1:]:
        out[f"naive-{days}d"] = RetrospectiveHotspot(lookback_days=float(days), bandwidth_m=0.0, family=family)
    out["random"] = RandomHotspot(random_state=seed, family=family)
    out["prospective-400m"] = ProspectiveHotspot(bandwidth_m=400.0, lookback_days=56.0, family=family)
    out[f"prospective-{2 * cell_size:.0f}m"] = ProspectiveHotspot(bandwidth_m=2 * cell_size, lookback_days=91.0,
                                                                   family=family)
    for mult in (1, 2):
        bw = mult * cell_size
        out[f"kde-365d-{bw:.0f}m"] = RetrospectiveHotspot(lookback_days=365.0, bandwidth_m=bw, family=family)
    return out


@dataclass(frozen=True)
class AutoChoice:
    """The chosen model and why: its mean PAI, the best naive baseline's, the margin, and how often it won."""

    name: str
    model: ForecastModel
    target: str
    pai: float
    best_naive: str
    best_naive_pai: float
    wins: float
    origins: int
    table: pd.DataFrame

    @property
    def margin(self) -> float:
        """Relative gain in mean PAI over the best naive baseline (0 when a naive baseline won)."""
        return self.pai / self.best_naive_pai - 1.0 if self.best_naive_pai > 0 else float("nan")

    def explain(self, lang: str = "zh") -> str:
        """One sentence: which model won, by how much over naive, how stable."""
        if is_baseline(self.name):
            if lang == "en":
                return (f"{self.name} chosen: no model beat the best naive baseline on {self.origins} backtest "
                        f"windows (mean PAI {self.pai:.2f}).")
            return f"选用 {self.name}:在 {self.origins} 个回测窗口中没有模型胜过最佳朴素基线(平均 PAI {self.pai:.2f})。"
        if lang == "en":
            return (f"{self.name} chosen: mean PAI {self.pai:.2f} vs {self.best_naive_pai:.2f} for {self.best_naive} "
                    f"({self.margin:+.0%}), better in {self.wins:.0%} of {self.origins} backtest windows.")
        return (f"选用 {self.name}:平均 PAI {self.pai:.2f},最佳朴素基线 {self.best_naive} 为 "
                f"{self.best_naive_pai:.2f}({self.margin:+.0%}),在 {self.origins} 个回测窗口中 {self.wins:.0%} 更优。")


def choose(results: pd.DataFrame, models: dict[str, ForecastModel], *, target: str | None = None) -> AutoChoice:
    """Pick the model with the highest mean PAI at ``target`` (a ``target`` label of the backtest; default the first).

    Baselines named ``naive-*`` compete too and win ties; random never wins. ``wins`` is the share of origins where
    the chosen model's PAI beats the best naive baseline's.
    """
    if target is None:
        target = str(results["target"].iloc[0])
    at = results[results["target"] == target]
    if at.empty:
        raise ConfigError(f"backtest has no rows for coverage {target!r}.", key="target")
    piv = at.pivot_table(index="origin", columns="model", values="pai")
    mean = piv.mean()
    naive = [m for m in mean.index if m.startswith("naive")]
    if not naive:
        raise ConfigError("auto-selection needs at least one naive baseline in the backtest.", key="models")
    best_naive = max(naive, key=lambda m: (mean[m], -naive.index(m)))
    pool = [m for m in mean.index if m != "random" and np.isfinite(mean[m])]
    # strictly better than the best naive, else the best naive itself
    winner = max(pool, key=lambda m: (mean[m], m == best_naive))
    if mean[winner] <= mean[best_naive]:
        winner = best_naive
    wins = float((piv[winner] > piv[best_naive]).mean()) if winner != best_naive else 0.0
    table = pd.DataFrame({"model": mean.index, "pai": mean.to_numpy(),
                          "pai_sd": piv.std().reindex(mean.index).to_numpy(),
                          "baseline": [is_baseline(m) for m in mean.index]}).sort_values("pai", ascending=False)
    return AutoChoice(winner, models[winner], target, float(mean[winner]), best_naive, float(mean[best_naive]),
                      wins, int(piv.shape[0]), table.reset_index(drop=True))
