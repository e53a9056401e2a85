"""Static figures (matplotlib, Chinese labels) and a self-contained HTML backtest report.

Figures are written to files; nothing loads from the network (the HTML embeds its PNGs as data URIs).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anju.geo.regular_grid import RegularGrid

__all__ = ["backtest_html", "plot_backtest", "plot_patrol", "plot_surface", "use_cjk_font"]

_CJK_FONTS = ["Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "SimHei", "DejaVu Sans"]


def use_cjk_font() -> Any:
    """Select the Agg backend and a CJK font so Chinese labels render (not as boxes); returns pyplot."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = _CJK_FONTS
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def plot_surface(surface: np.ndarray, grid: RegularGrid, path: str | Path, *, title: str = "预测风险 / forecast risk",
                 top_share: float = 0.05) -> Path:
    """A risk map: the surface over the study area, the top ``top_share`` of cells outlined."""
    plt = use_cjk_font()
    x0, y0, x1, y1 = grid.bounds
    data = np.where(grid.mask, surface, np.nan)
    fig, ax = plt.subplots(figsize=(7.5, 7.5 * grid.ny / max(grid.nx, 1) + 0.8))
    im = ax.imshow(data, origin="lower", extent=(x0, x1, y0, y1), cmap="YlOrRd", interpolation="nearest")
    active = surface[grid.mask]
    if active.size:
        k = max(1, round(top_share * active.size))
        thr = np.sort(active)[::-1][k - 1]
        top = grid.mask & (surface >= thr) & (surface > 0)
        # outline the flagged cells: upsample so the contour follows cell edges
        up = np.kron(top.astype(float), np.ones((4, 4)))
        ax.contour(up, levels=[0.5], colors="#1f3a93", linewidths=1.0, origin="lower", extent=(x0, x1, y0, y1))
    fig.colorbar(im, ax=ax, shrink=0.7, label="预计警情数 / expected incidents")
    ax.set_title(f"{title}\n(蓝框:风险最高的 {top_share:.0%} 网格 / top {top_share:.0%} cells outlined)")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_aspect("equal")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_backtest(summary: pd.DataFrame, results: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Hit rate and PAI against area coverage per model, and PAI at 5 % coverage per origin."""
    plt = use_cjk_font()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for model, g in summary.groupby("model", sort=False):
        g = g.sort_values("coverage")
        axes[0].plot(g["coverage"] * 100, g["hit_rate"] * 100, marker="o", label=model)
        axes[1].plot(g["coverage"] * 100, g["pai"], marker="o", label=model)
    axes[0].plot([0, 20], [0, 20], color="grey", ls=":", label="随机 / random")
    axes[0].set_xlabel("覆盖面积 / area coverage (%)")
    axes[0].set_ylabel("命中率 / hit rate (%)")
    axes[1].set_xlabel("覆盖面积 / area coverage (%)")
    axes[1].set_ylabel("PAI")
    axes[1].set_xscale("log")
    axes[1].set_xticks([1, 2, 5, 10, 20], labels=["1", "2", "5", "10", "20"])
    axes[1].minorticks_off()
    r5 = results[np.isclose(results["coverage"], 0.05)]
    for model, g in r5.groupby("model", sort=False):
        axes[2].plot(pd.to_datetime(g["origin"]), g["pai"], marker=".", lw=1, label=model)
    axes[2].set_ylabel("PAI @5%")
    axes[2].set_xlabel("预测起点 / origin")
    axes[2].tick_params(axis="x", rotation=30)
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title or "滚动回测 / rolling-origin backtest")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_patrol(plan: Any, path: str | Path, *, title: str = "巡逻方案 / patrol plan") -> Path:
    """The forecast surface with each unit's patrol area and its hot boxes."""
    plt = use_cjk_font()
    grid = plan.grid
    x0, y0, x1, y1 = grid.bounds
    fig, ax = plt.subplots(figsize=(7.5, 7.5 * grid.ny / max(grid.nx, 1) + 0.8))
    ax.imshow(np.where(grid.mask, plan.surface, np.nan), origin="lower", extent=(x0, x1, y0, y1), cmap="Greys",
              interpolation="nearest")
    cmap = plt.get_cmap("tab10")
    xc, yc = grid.centres()
    boxes = set(plan.schedule["cell_id"].tolist())
    for unit, cells in enumerate(plan.areas, start=1):
        colour = cmap((unit - 1) % 10)
        ax.scatter(xc.ravel()[cells], yc.ravel()[cells], s=18, marker="s", color=colour, alpha=0.7)
        hb = [c for c in cells.tolist() if c in boxes]
        ax.scatter(xc.ravel()[hb], yc.ravel()[hb], s=40, marker="*", color="black")
        ax.annotate(f"{unit}", (xc.ravel()[cells[0]], yc.ravel()[cells[0]]), color=colour, fontsize=12,
                    fontweight="bold", xytext=(4, 4), textcoords="offset points")
    ax.set_title(f"{title}\n覆盖预计警情 {plan.covered_share:.1%}(★ 驻点)")
    ax.set_aspect("equal")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}" style="max-width:100%">'


def backtest_html(summary: pd.DataFrame, figure: Path, *, title: str, meta: dict[str, Any]) -> str:
    """A self-contained HTML page (no external assets) with the summary table and the curves."""
    cols = ["model", "coverage", "origins", "N", "hit_rate", "pai", "pai_pooled", "pei", "pai_vs_baseline", "wins"]
    table = summary[[c for c in cols if c in summary.columns]].copy()
    hot = summary["hot_area_m2"] if "hot_area_m2" in summary else pd.Series(np.nan, index=summary.index)
    table["coverage"] = [f"{c * 100:.0f}%" if pd.notna(c) else f"{h / 1e6:.3g} km²"
                         for c, h in zip(table["coverage"], hot, strict=True)]
    for c in ("hit_rate", "pei", "wins"):
        if c in table:
            table[c] = table[c].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    for c in ("pai", "pai_pooled", "pai_vs_baseline"):
        if c in table:
            table[c] = table[c].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    meta_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in meta.items())
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(title)}</h1>
<table>{meta_rows}</table>
<h2>结果汇总 / summary</h2>
{table.to_html(index=False, border=0, escape=True)}
<p>命中率 hit rate = n/N;PAI = (n/N)/(a/A);PEI = n/n*(同等面积下的最优命中数)。pai_vs_baseline:相对朴素基线(上一周期)的合并 PAI 之比;wins:优于基线的起点比例。</p>
<h2>曲线 / curves</h2>
{_img(figure)}
</body></html>
"""
