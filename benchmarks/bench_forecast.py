"""Forecast benchmarks: speed at scale and accuracy on public data.

Speed (default): 1 M synthetic events over a 30 × 30 km area with 150 m cells — prospective hot-spot and space-time
KDE forecasts (goal < 10 s each), SEPP fit on 100 k events (goal < 60 s); prints seconds and peak RSS.
``--quick`` runs 100 k / 20 k events.

Accuracy (``--study sf|chicago|all``): the rolling-origin backtests reported in docs/forecasting.md, on the Kaggle
San Francisco set and the Chicago aggravated assaults in ../shared/data; prints Markdown tables.
``--study selection``: the default model's choice scored out of sample, per dataset or crime type
(``--datasets chicago,sf,sf:BURGLARY,vancouver,vancouver:Theft of Vehicle,tempe``; ``--long-memory``, ``--boost``).

Usage: ``python benchmarks/bench_forecast.py [--quick] [--auto [--long-memory]] [--study NAME] [--data PATH]``
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from anju.forecast import (
    SEPP,
    NaiveHotspot,
    ProspectiveHotspot,
    RandomHotspot,
    RetrospectiveHotspot,
    SpaceTimeKDE,
    backtest,
    observed_origins,
    rolling_origins,
    summarize,
)
from anju.geo.regular_grid import RegularGrid

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic(n: int, *, seed: int = 0, side: float = 30_000.0, days: float = 365.0, theta: float = 0.3,
              omega: float = 0.5) -> pd.DataFrame:
    """About ``n`` events: immigrants at 400 Gaussian hot spots of varying weight (70 %) and uniform background
    (30 %), plus self-excited offspring (branching ratio θ, mean delay 1/ω days, within ~30 m of the parent)."""
    rng = np.random.default_rng(seed)
    n0 = int(n * (1.0 - theta))
    centres = rng.uniform(0, side, (400, 2))
    weights = rng.pareto(1.5, 400) + 1
    k = rng.choice(400, n0, p=weights / weights.sum())
    xy = centres[k] + rng.normal(0, 200, (n0, 2))
    bg = rng.random(n0) < 0.3
    xy[bg] = rng.uniform(0, side, (int(bg.sum()), 2))
    t = rng.uniform(0, days, n0)
    parts = [(xy, t)]
    gen_xy, gen_t = xy, t
    while gen_t.size:
        kids = rng.poisson(theta, gen_t.size)
        cxy = np.repeat(gen_xy, kids, axis=0) + rng.normal(0, 30, (int(kids.sum()), 2))
        ct = np.repeat(gen_t, kids) + rng.exponential(1.0 / omega, int(kids.sum()))
        keep = ct < days
        gen_xy, gen_t = cxy[keep], ct[keep]
        parts.append((gen_xy, gen_t))
    xy = np.clip(np.concatenate([p[0] for p in parts]), 0, side - 1)
    t = np.concatenate([p[1] for p in parts])
    order = np.argsort(t)
    return pd.DataFrame({"x": xy[order, 0], "y": xy[order, 1],
                         "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(t[order], unit="D")})


def timed(label: str, fn, goal: float | None = None):  # type: ignore[no-untyped-def]
    """Run ``fn`` and print wall and CPU seconds (CPU is the stable figure on a shared machine) and peak RSS."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    verdict = "" if goal is None else f"  goal < {goal:.0f} s: {'ok' if dt < goal else 'MISSED (wall)'}"
    print(f"{label:<70s} wall {dt:7.2f} s  CPU {dc:7.2f} s  peak RSS {peak_rss_mb():6.0f} MB{verdict}", flush=True)
    return out


def auto_choice(quick: bool, long_memory: bool = False) -> None:
    """The default model's choice (``anju forecast`` without ``--model``): the rolling-origin backtest of every
    candidate of anju.forecast.selection on 8 weekly windows, 1 M training events (goal < 60 s). With
    ``long_memory`` the five- and seven-year candidates join and the events span seven years."""
    from anju.forecast.selection import HISTORY_DAYS, LONG_HISTORY_DAYS
    from anju.services.forecast import auto_select

    n = 100_000 if quick else 1_000_000
    days = LONG_HISTORY_DAYS if long_memory else HISTORY_DAYS
    ev = timed(f"generate ~{n:,} events (30 × 30 km, {days / 365:.0f} years, θ = 0.3)",
               lambda: synthetic(n, days=float(days)))
    grid = RegularGrid.from_bounds(0, 0, 29_999, 29_999, 150.0)
    start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=days)
    what = "long-memory choice" if long_memory else "default model choice"
    auto = timed(f"{what}: {len(ev):,} events, 8 weekly windows, 0.75 mi² hot area",
                 lambda: auto_select(ev, grid, window_start=start, horizon="7D", family=None, cell_size=150.0,
                                     hot_area_m2=0.75 * 1609.344**2, history_days=days,
                                     long_memory=long_memory), goal=60)
    print(f"   {auto.choice.explain('en')} ({auto.choice.table.shape[0]} candidates)")


def speed(quick: bool) -> None:
    n = 100_000 if quick else 1_000_000
    n_sepp = 20_000 if quick else 100_000
    print(f"machine: {platform.platform()}, python {platform.python_version()}, cpus {__import__('os').cpu_count()}")
    ev = timed(f"generate ~{n:,} events (30 × 30 km, 1 year, θ = 0.3)", lambda: synthetic(n))
    n = len(ev)
    grid = RegularGrid.from_bounds(0, 0, 29_999, 29_999, 150.0)
    print(f"grid: {grid.nx} × {grid.ny} = {grid.n_cells:,} cells of 150 m")
    window = ("2024-12-31", "2025-01-07")
    p = ProspectiveHotspot(bandwidth_m=400.0, lookback_days=56.0)
    timed(f"prospective hot-spot: fit + predict on {n:,} events",
          lambda: p.fit(ev).predict(grid, window), goal=10)
    k = SpaceTimeKDE(bandwidth_m=250.0, time_scale_days=60.0, lookback_days=365.0)
    timed(f"space-time KDE: fit + predict on {n:,} events", lambda: k.fit(ev).predict(grid, window), goal=10)
    p1 = ProspectiveHotspot(bandwidth_m=400.0, lookback_days=365.0)
    timed("prospective hot-spot, 1-year look-back (every event weighted)",
          lambda: p1.fit(ev).predict(grid, window), goal=10)
    r = RetrospectiveHotspot(lookback_days=365.0)
    timed(f"retrospective counts: fit + predict on {n:,} events", lambda: r.fit(ev).predict(grid, window))
    sub = synthetic(n_sepp, seed=1)
    n_sepp = len(sub)
    s0 = SEPP(cell_size_m=150.0, lookback_days=None)
    timed(f"SEPP (r=0) fit on {n_sepp:,} events", lambda: s0.fit(sub), goal=60)
    print(f"   θ={s0.theta_:.3f} ω={s0.omega_:.3f}/day, {s0.n_iter_} EM iterations, converged={s0.converged_}")
    timed("SEPP predict", lambda: s0.predict(grid, window))
    from anju.forecast.patrol import plan_patrol

    surface = p1.predict(grid, window)
    plan = timed("patrol plan: 10 units × ≤ 30 cells on 40,000 cells, Koper schedule",
                 lambda: plan_patrol(surface, grid, 10, shift="夜班", date="2025-01-01", max_cells=30))
    print(f"   expected share covered {plan.covered_share:.1%}, {len(plan.schedule)} stops")
    from anju.forecast.alerts import alert_levels

    calls = ev.assign(reported_at=ev["t"], family="theft",
                      community_id=(ev["x"] // 1000).astype(int).astype(str) + "-" + (ev["y"] // 1000).astype(int)
                      .astype(str), station_id=(ev["x"] // 10_000).astype(int).astype(str))
    res = timed(f"alert levels: {len(calls):,} events, 900 communities + 3 stations, 1 and 7 days",
                lambda: alert_levels(calls, on="2024-12-30", seasonal=False))
    print(f"   {len(res):,} unit × family × window rows, {int((res['level'] >= 1).sum())} at level ≥ 1")
    s1 = SEPP(cell_size_m=150.0, neighbourhood=1, lookback_days=None, max_iter=100)
    timed(f"SEPP (r=1, max 100 iterations) fit on {n_sepp:,} events", lambda: s1.fit(sub), goal=60)
    print(f"   θ={s1.theta_:.3f} ω={s1.omega_:.3f}/day, {s1.n_iter_} EM iterations, converged={s1.converged_}")


# ---- accuracy studies on public data ------------------------------------------------------------------------------------
def model_set(family: str | None = None, shift: str | None = None, *, sepp_r1: bool = True) -> dict[str, object]:
    kw = {"family": family, "shift": shift}
    models: dict[str, object] = {
        "naive (last week)": NaiveHotspot(**kw),
        "random": RandomHotspot(random_state=0, **kw),
        "retrospective 1y counts": RetrospectiveHotspot(lookback_days=365.0, **kw),
        "retrospective 1y KDE 150m": RetrospectiveHotspot(lookback_days=365.0, bandwidth_m=150.0, **kw),
        "prospective (Bowers) 400m/8w": ProspectiveHotspot(bandwidth_m=400.0, lookback_days=56.0, **kw),
        "ST-KDE 250m/60d": SpaceTimeKDE(bandwidth_m=250.0, time_scale_days=60.0, **kw),
        "SEPP r=0 (1y)": SEPP(cell_size_m=150.0, lookback_days=365.0, **kw),
    }
    if sepp_r1:  # 3–5× the cost of r = 0: only in the headline scenarios
        models["SEPP r=1 (1y)"] = SEPP(cell_size_m=150.0, neighbourhood=1, lookback_days=365.0, max_iter=100, **kw)
    return models


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table (floats with two decimals) without the optional tabulate package."""
    def fmt(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def report(title: str, res: pd.DataFrame) -> pd.DataFrame:
    s = summarize(res, baseline="naive (last week)")
    rows = []
    for model, g in s.groupby("model", sort=False):
        g = g.set_index("coverage")
        rows.append({
            "model": model,
            "PAI 1%": g.loc[0.01, "pai"], "PEI 1%": g.loc[0.01, "pei"],
            "PAI 5%": g.loc[0.05, "pai"], "PEI 5%": g.loc[0.05, "pei"],
            "PAI 5% vs naive": g.loc[0.05, "pai_vs_baseline"], "beats naive @5%": g.loc[0.05, "wins"],
            "hit 20%": g.loc[0.20, "hit_rate"], "fit s": g.loc[0.05, "fit_seconds"],
        })
    table = pd.DataFrame(rows)
    n_orig = res["origin"].nunique()
    first_cov = res["coverage"].min()
    n_ev = int(res[res["coverage"] == first_cov].groupby("model")["N"].sum().max())
    print(f"\n### {title}\n\n{n_orig} origins, {n_ev:,} test events in total ({n_ev / n_orig:.0f} per window).\n")
    print(markdown(table))
    return table


def study_sf(path: Path) -> None:
    from anju.forecast.datasets import load_sf_kaggle

    ev = load_sf_kaggle(path, start="2012-06-01", end="2015-01-01")
    hist = ev[ev["t"] < pd.Timestamp("2014-01-01")]
    grid = RegularGrid.from_points(hist["x"], hist["y"], 150.0, mask="occupied")
    origins = observed_origins(ev, "2014-01-06", "2014-12-29")
    print(f"\n## San Francisco (Kaggle train set) — grid {grid.nx}×{grid.ny}, {grid.n_active} active 150 m cells "
          f"({grid.area_m2 / 1e6:.1f} km²), {len(origins)} observed weeks of 2014")
    for title, fam, shift in (("all incidents, next week", None, None), ("theft family, next week", "theft", None),
                              ("assault family, next week", "assault", None),
                              ("all incidents, night shift (夜班 00–08) of next week", None, "night")):
        t0 = time.perf_counter()
        res = backtest(model_set(fam, shift, sepp_r1=fam is None and shift is None), ev, grid, origins, "7D",
                       training_days=400)
        report(f"SF — {title}", res)
        print(f"\n({time.perf_counter() - t0:.0f} s)")


def study_chicago(path: Path, boundary: Path) -> None:
    import shapely

    from anju.forecast.datasets import chicago_boundary, load_chicago_assaults

    ev = load_chicago_assaults(path, start="2016-06-01", end="2019-01-01")
    b = chicago_boundary(boundary)
    grid = RegularGrid.from_bounds(*shapely.bounds(b), 150.0).restrict_to(b)
    origins = rolling_origins("2018-01-01", "2018-12-31", "7D")
    print(f"\n## Chicago aggravated assaults — grid {grid.nx}×{grid.ny}, {grid.n_active} cells inside the city "
          f"({grid.area_m2 / 1e6:.1f} km²), {len(origins)} weekly origins in 2018")
    for title, shift in (("all aggravated assaults, next week", None), ("night shift (夜班 00–08), next week", "night")):
        t0 = time.perf_counter()
        res = backtest(model_set(None, shift, sepp_r1=shift is None), ev, grid, origins, "7D", training_days=400)
        report(f"Chicago — {title}", res)
        print(f"\n({time.perf_counter() - t0:.0f} s)")
    t0 = time.perf_counter()
    res = backtest(model_set(None, None, sepp_r1=False), ev, grid, rolling_origins("2018-06-01", "2018-08-01", "1D"),
                   "1D",
                   training_days=400)
    report("Chicago — all aggravated assaults, next day (61 daily origins, June–July 2018)", res)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


#: Datasets with one year of data: only weekly and fortnightly windows fit 8 + 8 windows after some history.
SHORT_SETS = ("Vancouver",)


def _only(ev: pd.DataFrame, detail: str, what: str) -> tuple[pd.DataFrame, str]:
    """The events whose ``category`` is one of the ``+``-joined names in ``detail`` (case-insensitive)."""
    known = {str(c).upper(): c for c in ev["category"].unique()}
    wanted = [c.strip().upper() for c in detail.split("+")]
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}; known: {sorted(known.values())}")
    keep = [known[c] for c in wanted]
    return ev[ev["category"].isin(keep)].reset_index(drop=True), " + ".join(str(c).lower() for c in keep)


def selection_dataset(data: Path, spec: str) -> tuple[str, pd.DataFrame, RegularGrid, object, pd.Timestamp]:
    """One dataset of the selection study from its spec: ``chicago``, ``sf`` (every Kaggle category together),
    ``sf:<CATEGORY>`` (one Kaggle ``Category``, e.g. ``sf:BURGLARY``; ``+`` joins several), ``vancouver`` (all
    thefts) or ``vancouver:<TYPE>`` (e.g. ``vancouver:Theft of Bicycle``), ``tempe`` (EMS opioid calls). Returns
    (name, events, grid, study area or None, first test origin). A category keeps the grid of its whole file (SF:
    the cells that held any incident in 2010–2013), so it is scored on the same study area as the whole file."""
    import shapely

    from anju.forecast.datasets import (
        chicago_boundary,
        load_chicago_assaults,
        load_sf_kaggle,
        load_tempe_opioid_calls,
        load_vancouver_thefts,
    )

    name, _, detail = spec.partition(":")
    if name == "chicago":
        ev = load_chicago_assaults(data / "crimemappingdata-ashby" / "chicago_aggravated_assaults.csv.gz",
                                   start="2010-01-01", end="2019-01-01")
        b = chicago_boundary(data / "chicago-boundaries" / "community_areas.geojson")
        grid = RegularGrid.from_bounds(*shapely.bounds(b), 150.0)
        grid = grid.with_mask(shapely.intersects(grid.boxes(), b).reshape(grid.shape))
        return "Chicago aggravated assaults", ev, grid, b, pd.Timestamp("2018-01-01")
    if name == "sf":
        ev = load_sf_kaggle(data / "sf-crime-kaggle" / "train.csv.gz", start="2005-01-01", end="2015-01-01")
        hist = ev[(ev["t"] >= pd.Timestamp("2010-01-01")) & (ev["t"] < pd.Timestamp("2014-01-01"))]
        grid = RegularGrid.from_points(hist["x"], hist["y"], 150.0, mask="occupied")
        label = "San Francisco (Kaggle)"
        if detail:
            ev, what = _only(ev, detail, "SF categories")
            label = f"SF {what}"
        return label, ev, grid, None, pd.Timestamp("2014-01-06")
    if name == "vancouver":  # 2020 only: weekly and fortnightly windows from September, history from January
        folder = data / "crimemappingdata-ashby"
        ev = load_vancouver_thefts(folder / "vancouver_thefts.csv.gz")
        b = chicago_boundary(folder / "vancouver_neighbourhoods.geojson", crs="EPSG:26910")
        grid = RegularGrid.from_bounds(*shapely.bounds(b), 150.0)
        grid = grid.with_mask(shapely.intersects(grid.boxes(), b).reshape(grid.shape))
        label = "Vancouver thefts 2020"
        if detail:
            ev, what = _only(ev, detail, "Vancouver theft types")
            label = f"Vancouver {what} 2020"
        return label, ev, grid, b, pd.Timestamp("2020-09-01")
    if name == "tempe":  # 2017-01 – 2024-09, date only; no boundary file: the occupied cells (before 2023) grown by one
        ev = load_tempe_opioid_calls(data / "crimemappingdata-ashby" / "tempe_opioid_calls.csv")
        hist = ev[ev["t"] < pd.Timestamp("2023-01-01")]
        grid = RegularGrid.from_points(hist["x"], hist["y"], 150.0, mask="occupied", dilate=1)
        return "Tempe opioid calls", ev, grid, None, pd.Timestamp("2023-10-02")
    raise SystemExit(f"unknown dataset {spec!r}: chicago, sf, sf:<CATEGORY>, vancouver, vancouver:<TYPE>, tempe")


def study_selection(data: Path, *, origins_per_horizon: int = 8,
                    horizons: tuple[str, ...] = ("7D", "14D", "28D", "91D"),
                    datasets: tuple[str, ...] = ("chicago", "sf", "vancouver"), boost: bool = False,
                    long_memory: bool = False) -> None:
    """The default model's choice on real data, scored out of sample: at each horizon the default is chosen exactly
    as ``anju forecast`` chooses it — by mean PAI on ``origins_per_horizon`` rolling windows *before* the test period
    — and then scored on the next ``origins_per_horizon`` windows, beside the naive baselines and random. Scoring
    as published: study area = the city boundary for Chicago (SF has none: occupied cells); hot area 0.75 mi² (NIJ)
    and 5 %; cell-id tie rule. Three years of history before every origin (the longest candidate lookback).

    With ``long_memory`` the five- and seven-year candidates (naive and blends) join, with seven years of history;
    each row then also shows the choice among all candidates against the best naive lookback of all of them, and
    the default's columns are computed from the default candidates alone (their scores do not depend on the longer
    history: none of them looks back more than three years)."""
    from anju.forecast.evaluate import NIJ_PRESET
    from anju.forecast.selection import HISTORY_DAYS, LONG_HISTORY_DAYS, candidates, choose

    sets = [selection_dataset(data, spec) for spec in datasets]
    rows = []
    k = origins_per_horizon
    for name, ev, grid, area, first in sets:
        print(f"{name}: {len(ev):,} events from {ev['t'].min():%Y-%m-%d}, {grid.n_active:,} cells", file=sys.stderr)
        for horizon in horizons:
            if name.startswith(SHORT_SETS) and horizon not in ("7D", "14D"):
                continue  # one year of data: no room for 8 + 8 longer windows after a few months of history
            h = pd.Timedelta(horizon)
            step = h if horizon != "91D" else pd.Timedelta("28D")
            choose_from = observed_origins(ev, first - h - (k - 1) * step, first - h + pd.Timedelta("1ns"),
                                           step=step, horizon=h)
            test = observed_origins(ev, first, first + k * step, step=step, horizon=h)
            models = candidates(150.0, boost=boost, long_memory=long_memory)
            default = candidates(150.0, boost=boost)
            t0, c0 = time.perf_counter(), time.process_time()
            res = backtest(models, ev, grid, [*choose_from, *test], horizon, coverages=(0.05,),
                           hot_areas=(NIJ_PRESET["hot_area_m2"],), study_area=area, ties="cell_id",
                           training_days=LONG_HISTORY_DAYS if long_memory else HISTORY_DAYS)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            past = res[res["origin"].isin(choose_from)]
            future = res[res["origin"].isin(test)]
            for target in res["target"].unique():
                c = choose(past[past["model"].isin(default)], default, target=target)
                at = future[future["target"] == target]
                pai = at.pivot_table(index="origin", columns="model", values="pai")
                pei = at.pivot_table(index="origin", columns="model", values="pei").mean()
                hits = at.pivot_table(index="origin", columns="model", values="n")
                naive = [m for m in pai.columns if m.startswith("naive") and m in default]
                best_naive = max(naive, key=lambda m: pai[m].mean())
                row = {
                    "dataset": name, "horizon": horizon, "hot area": "0.75 mi²" if "m²" in target else "5 %",
                    "windows (choose / test)": f"{len(choose_from)} / {pai.shape[0]}",
                    "default (chosen before)": c.name, "PAI": pai[c.name].mean(), "PEI": pei[c.name],
                    "naive-365d PAI": pai["naive-365d"].mean(), "naive-365d PEI": pei["naive-365d"],
                    "vs naive-365d": f"{pai[c.name].mean() / pai['naive-365d'].mean() - 1:+.1%}",
                    "wins vs naive-365d": float((pai[c.name] > pai["naive-365d"]).mean()),
                    "best naive (hindsight)": f"{best_naive} {pai[best_naive].mean():.2f}",
                    "vs best naive": f"{pai[c.name].mean() / pai[best_naive].mean() - 1:+.1%}",
                    "wins vs best naive": float((pai[c.name] > pai[best_naive]).mean()),
                    # a PAI can also differ by the clipped area of the flagged cells alone: count the events caught
                    "more / fewer hits": f"{int((hits[c.name] > hits[best_naive]).sum())} / "
                                         f"{int((hits[c.name] < hits[best_naive]).sum())}",
                    "random PAI": pai["random"].mean(), "CPU s": cpu}
                if long_memory:  # the choice among all candidates, against the best naive lookback of all of them
                    c7 = choose(past, models, target=target)
                    naive7 = [m for m in pai.columns if m.startswith("naive")]
                    best7 = max(naive7, key=lambda m: pai[m].mean())
                    row.update({
                        "choice with 5–7 y": c7.name, "its PAI": pai[c7.name].mean(),
                        "best naive of all (hindsight)": f"{best7} {pai[best7].mean():.2f}",
                        "vs best naive of all": f"{pai[c7.name].mean() / pai[best7].mean() - 1:+.1%}",
                        "wins vs best naive of all": float((pai[c7.name] > pai[best7]).mean()),
                        "more / fewer hits (all)": f"{int((hits[c7.name] > hits[best7]).sum())} / "
                                                   f"{int((hits[c7.name] < hits[best7]).sum())}"})
                rows.append(row)
                print(f"{name} {horizon} {target}: test means\n{pai.mean().sort_values().to_string()}",
                      file=sys.stderr)
            print(f"{name} {horizon}: {secs:.0f} s wall, {cpu:.0f} s CPU", file=sys.stderr)
    print(markdown(pd.DataFrame(rows)))
    print(f"\nCPU {time.process_time():.0f} s in all", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run")
    ap.add_argument("--auto", action="store_true", help="only the default model's choice on 1 M events")
    ap.add_argument("--study", choices=["sf", "chicago", "all", "selection"],
                    help="run a public-data accuracy study instead (selection: the default model's choice)")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    ap.add_argument("--origins", type=int, default=8, help="selection study: origins per horizon")
    ap.add_argument("--horizons", default="7D,14D,28D,91D", help="selection study: horizons")
    ap.add_argument("--datasets", default="chicago,sf,vancouver",
                    help="selection study, comma-separated: chicago, sf, sf:<CATEGORY> (e.g. sf:BURGLARY), vancouver, "
                         "vancouver:<TYPE>, tempe")
    ap.add_argument("--boost", action="store_true", help="selection study: add the boosted model to the candidates")
    ap.add_argument("--long-memory", action="store_true",
                    help="selection study and --auto: add the five- and seven-year candidates (seven years of "
                         "history)")
    args = ap.parse_args(argv)
    if args.study == "selection":
        study_selection(args.data, origins_per_horizon=args.origins, horizons=tuple(args.horizons.split(",")),
                        datasets=tuple(args.datasets.split(",")), boost=args.boost,
                        long_memory=args.long_memory)
        return 0
    if args.study:
        if args.study in ("sf", "all"):
            study_sf(args.data / "sf-crime-kaggle" / "train.csv.gz")
        if args.study in ("chicago", "all"):
            study_chicago(args.data / "crimemappingdata-ashby" / "chicago_aggravated_assaults.csv.gz",
                          args.data / "chicago-boundaries" / "community_areas.geojson")
        return 0
    if not args.auto:
        speed(args.quick)
    auto_choice(args.quick, long_memory=args.long_memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
