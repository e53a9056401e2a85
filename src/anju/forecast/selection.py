"""Choosing the default forecast model on the user's own history: the model must earn its place.

:func:`candidates` lists the baselines (naive counts over several lookbacks, random) and the models tried;
:func:`choose` reads a rolling-origin backtest of them (:func:`anju.forecast.evaluate.backtest`) and picks the model
with the highest mean PAI at the requested coverage. Naive baselines are candidates too and win ties, and a model
must also beat the best naive lookback in a majority of the windows, so the default is never a model that lost to
the best naive lookback on the backtest windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anju.errors import ConfigError
from anju.forecast.base import ForecastModel
from anju.forecast.boosting import BoostedHotspot
from anju.forecast.models import (
    BlendHotspot,
    NaiveHotspot,
    ProspectiveHotspot,
    RandomHotspot,
    RetrospectiveHotspot,
)

__all__ = ["LONG_HISTORY_DAYS", "AutoChoice", "candidates", "choose", "is_baseline"]

#: Lookbacks (days) of the naive count baselines: "top cells by count over the last L days".
NAIVE_LOOKBACKS: tuple[int, ...] = (7, 28, 91, 365, 730, 1095)

#: Days of history the candidates can use (the longest lookback): load this much before the backtest windows.
HISTORY_DAYS = 1095

#: Long-memory blends tried: (lookback days, half-life days, bandwidth in cell widths, weight of the smoothed part).
#: Fixed before looking at the reported test windows: chosen on 2017 (Chicago) and 2013 (San Francisco) windows,
#: reported on 2018 and 2014 (docs/forecasting.md).
BLENDS: tuple[tuple[int, int, int, float], ...] = ((1095, 730, 1, 0.3), (1095, 730, 2, 0.2), (1095, 0, 1, 0.3),
                                                   (730, 0, 1, 0.1))

#: Days of history the long-memory candidates use (``long_memory=True``): seven years.
LONG_HISTORY_DAYS = 2555

#: Extra naive lookbacks and blends of ``long_memory=True`` (five and seven years). The blends' settings were
#: chosen on San Francisco 2012–2013 and Chicago 2016–2017 windows, before the reported test windows.
LONG_NAIVE_LOOKBACKS: tuple[int, ...] = (1825, 2555)
LONG_BLENDS: tuple[tuple[int, int, int, float], ...] = ((2555, 1460, 1, 0.3), (2555, 1460, 2, 0.3),
                                                        (2555, 1460, 1, 0.1))


def is_baseline(name: str) -> bool:
    """Whether a candidate name is a baseline (naive counts or random) rather than a model."""
    return name.startswith(("naive", "random"))


def candidates(cell_size: float, *, family: str | None = None, seed: int = 0, boost: bool = False,
               long_memory: bool = False) -> dict[str, ForecastModel]:
    """Baselines and models the default forecast chooses among, by display name.

    Naive ``naive-<L>d``: counts per cell in the last ``L`` days (7 days: the last week of data). Models: prospective
    hot-spotting (Bowers et al. 2004) with two bandwidths, counts over one year smoothed by a Gaussian kernel of
    one and two cell widths (kernel density with a tuned bandwidth, as the NIJ challenge winners used), and the
    long-memory blends of :data:`BLENDS` (:class:`~anju.forecast.models.BlendHotspot`:
    ``blend-<L>d-h<half-life>-<bandwidth>m-<smoothed %>``). With ``boost=True`` also ``boost`` (off by default: on
    Chicago it won the earlier windows at 0.75 mi² and then lost 13 % to the blend out of sample, see
    docs/forecasting.md; 4.5× the CPU of the other candidates together): Poisson gradient boosting over lagged
    cell counts, neighbour counts and the calendar month, trained on the candidate's own earlier weeks
    (:class:`~anju.forecast.boosting.BoostedHotspot`). With ``long_memory=True`` also five- and seven-year naive
    counts and the blends of :data:`LONG_BLENDS` (they need :data:`LONG_HISTORY_DAYS` of history; off by default:
    see docs/forecasting.md for what they gained on public data).
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
    for days, half_life, cells, weight in BLENDS:
        bw = cells * cell_size
        out[f"blend-{days}d-h{half_life}-{bw:.0f}m-{weight:.0%}"] = BlendHotspot(
            lookback_days=float(days), half_life_days=float(half_life), bandwidth_m=bw, smooth_weight=weight,
            family=family)
    if long_memory:
        for days in LONG_NAIVE_LOOKBACKS:
            out[f"naive-{days}d"] = RetrospectiveHotspot(lookback_days=float(days), bandwidth_m=0.0, family=family)
        for days, half_life, cells, weight in LONG_BLENDS:
            bw = cells * cell_size
            out[f"blend-{days}d-h{half_life}-{bw:.0f}m-{weight:.0%}"] = BlendHotspot(
                lookback_days=float(days), half_life_days=float(half_life), bandwidth_m=bw, smooth_weight=weight,
                family=family)
    if boost:
        out["boost"] = BoostedHotspot(random_state=seed, family=family)
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
                        f"windows, in mean PAI and in most windows (mean PAI {self.pai:.2f}).")
            return (f"选用 {self.name}:在 {self.origins} 个回测窗口中没有模型在平均 PAI 和多数窗口上同时胜过最佳朴素基线"
                    f"(平均 PAI {self.pai:.2f})。")
        if lang == "en":
            return (f"{self.name} chosen: mean PAI {self.pai:.2f} vs {self.best_naive_pai:.2f} for {self.best_naive} "
                    f"({self.margin:+.0%}), better in {self.wins:.0%} of {self.origins} backtest windows.")
        return (f"选用 {self.name}:平均 PAI {self.pai:.2f},最佳朴素基线 {self.best_naive} 为 "
                f"{self.best_naive_pai:.2f}({self.margin:+.0%}),在 {self.origins} 个回测窗口中 {self.wins:.0%} 更优。")


def choose(results: pd.DataFrame, models: dict[str, ForecastModel], *, target: str | None = None) -> AutoChoice:
    """Pick the model with the highest mean PAI at ``target`` (a ``target`` label of the backtest; default the first).

    Baselines named ``naive-*`` compete too and win ties; random never wins. A model is chosen over the best naive
    baseline only when its mean PAI is higher and it beats that baseline in more windows than it loses. ``wins`` is
    the share of origins where the chosen model's PAI beats the best naive baseline's.
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
    # a model replaces the best naive baseline only if its mean PAI is higher *and* it beats that baseline in more
    # windows than it loses (a majority of the decided windows): a gain in the mean carried by one lucky window, or
    # a tie broken by noise, does not earn the default
    base = piv[best_naive]
    pool = [m for m in mean.index if m != "random" and not m.startswith("naive") and np.isfinite(mean[m])
            and mean[m] > mean[best_naive] and int((piv[m] > base).sum()) > int((piv[m] < base).sum())]
    winner = max(pool, key=lambda m: mean[m]) if pool else best_naive
    wins = float((piv[winner] > base).mean()) if winner != best_naive else 0.0
    table = pd.DataFrame({"model": mean.index, "pai": mean.to_numpy(),
                          "pai_sd": piv.std().reindex(mean.index).to_numpy(),
                          "baseline": [is_baseline(m) for m in mean.index]}).sort_values("pai", ascending=False)
    return AutoChoice(winner, models[winner], target, float(mean[winner]), best_naive, float(mean[best_naive]),
                      wins, int(piv.shape[0]), table.reset_index(drop=True))
