"""CLI verbs of duty operations: ``anju briefing``, ``anju kpi`` and ``anju duty import|dosage|registry|coverage``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, deployment_from, settings_from
from anju.commands.options import valid_day, valid_out_dir

duty_app = typer.Typer(help="勤务 / duty operations: imports, patrol dosage, grid coverage, registry checks.",
                       no_args_is_help=True)


def _zh(settings: Any) -> bool:
    return settings.lang != "en"


def briefing(
    ctx: typer.Context,
    date: Annotated[str, typer.Option("--date", callback=valid_day, help="通报日期 / briefing day YYYY-MM-DD")],
    config: Annotated[Path | None, typer.Option("--config", help="通报规则 TOML / briefing rules")] = None,
    force: Annotated[bool, typer.Option("--force", help="重新生成 / rebuild even if current")] = False,
) -> None:
    """每日警情通报与勤务方案 / the daily briefing: alert levels, 三高, shift patrol plans."""
    from anju.duty.service import read_briefing, run_briefing

    settings = settings_from(ctx)
    zh = _zh(settings)
    with console.status("生成每日通报…" if zh else "building the briefing…"):
        b, folder = run_briefing(settings, date, config_path=config, force=force)
    data = read_briefing(settings, date)
    if b is None:
        console.print(("通报已是最新,未重新生成:" if zh else "briefing is current, not rebuilt: ") + str(folder))
    st = Table(title=(f"{data['day']} 派出所预警等级与警力" if zh else f"{data['day']} station levels and units"))
    for c in ("station_id", "level_name", "units_day", "units_evening", "units_night"):
        st.add_column(c)
    for r in data["stations"]:
        st.add_row(*[str(r.get(c, "")) for c in ("station_id", "level_name", "units_day", "units_evening",
                                                  "units_night")])
    console.print(st)
    al = Table(title="预警(黄色及以上)" if zh else "alerts (yellow and above)")
    for c in ("unit_level", "unit_id", "station_id", "level_name", "reason"):
        al.add_column(c, overflow="fold")
    for r in [a for a in data["alerts"] if a["level"] >= 1][:20]:
        al.add_row(*[str(r[c]) for c in ("unit_level", "unit_id", "station_id", "level_name", "reason")])
    console.print(al)
    n_units = len({p["unit"] for p in data["plan"]})
    console.print(("巡逻方案: " if zh else "patrol plan: ") + f"{n_units} units, {len(data['plan'])} hot boxes, "
                  f"{len(data['stops'])} stops")
    console.print(("已写出: " if zh else "wrote: ") + f"{folder}/briefing.json, plan.csv, briefing.xlsx")


def kpi(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="月份 / YYYY-MM")],
    definitions: Annotated[Path | None, typer.Option("--definitions", help="指标定义 TOML / KPI definitions")] = None,
    explain: Annotated[str | None, typer.Option("--explain", help="列出某指标背后的记录 / rows behind a KPI")] = None,
    station: Annotated[str | None, typer.Option("--station", help="派出所 / station for --explain")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录（默认 <data_dir>/duty/kpi）/ output directory (default <data_dir>/duty/kpi).")] = None,
    trend: Annotated[int, typer.Option("--trend", help="趋势月数 / months of trend before --month")] = 0,
) -> None:
    """四率与见警率 / the 四率 and visibility KPIs per station for a month (printed and written to Excel)."""
    import pandas as pd

    from anju.duty.kpi import compute_kpis, load_kpis, rows_behind
    from anju.duty.service import duty_dir, kpi_tables, month_bounds, stored_adjustments

    settings = settings_from(ctx)
    zh = _zh(settings)
    defs = load_kpis(definitions)
    if not __import__("re").fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        from anju.errors import ConfigError

        raise ConfigError(f"--month must be YYYY-MM. Got {month!r}.", key="month")
    with console.status("计算指标…" if zh else "computing KPIs…"):
        dep = deployment_from(ctx)
        tables = kpi_tables(dep, month, stored_adjustments(settings, *month_bounds(month)))
        k = compute_kpis(defs, tables, month, lang=settings.lang)
    wide = k.pivot(index="station_id", columns="name", values="value")
    tab = Table(title=f"{month} 四率 / duty KPIs")
    tab.add_column("station_id")
    for c in wide.columns:
        tab.add_column(str(c), justify="right")
    for sid, row in wide.iterrows():
        tab.add_row(str(sid), *[("—" if pd.isna(v) else f"{v:.1f}") for v in row])
    console.print(tab)
    target = (out or duty_dir(settings) / "kpi") / f"kpi-{month}.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(target, engine="xlsxwriter") as xw:
        k.to_excel(xw, sheet_name="指标", index=False)
        wide.reset_index().to_excel(xw, sheet_name="汇总", index=False)
        pd.DataFrame([{"code": d.code, "name": d.zh, "en": d.en, "method": d.method_zh, "method_en": d.method_en}
                      for d in defs.kpi]).to_excel(xw, sheet_name="口径", index=False)
        if trend > 0:
            months = [str(pd.Period(month, freq="M") - i) for i in range(trend, 0, -1)]
            past = [compute_kpis(defs, kpi_tables(dep, m), m, lang=settings.lang) for m in months]
            tr = pd.concat([*past, k], ignore_index=True)
            tr.pivot_table(index=["station_id", "name"], columns="month", values="value").reset_index().to_excel(
                xw, sheet_name="趋势", index=False)
    console.print(("已写出: " if zh else "wrote: ") + str(target))
    if explain:
        parts = rows_behind(defs, tables, explain, month, station)
        for part, rows in parts.items():
            console.print(f"{explain} {part}: {len(rows)} rows")
            console.print(rows.head(20).to_string(index=False))


@duty_app.command("import")
def import_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="tracks | stop_checks | plan | households | utilities")],
    path: Annotated[Path, typer.Argument(help="CSV 或 Excel 文件 / CSV or Excel file")],
    crs: Annotated[str, typer.Option("--crs", help="坐标系 / wgs84 | gcj02 | bd09")] = "wgs84",
) -> None:
    """导入勤务记录 / import duty records (every row loaded or rejected with a reason)."""
    from anju.duty.imports import import_file

    settings = settings_from(ctx)
    zh = _zh(settings)
    r = import_file(settings, path, kind, crs=crs)
    if len(r.persons):  # names and ID numbers go to the ops database only (masked in lists, views audited)
        from anju.duty.persons import store_persons
        from anju.ops.db import open_session

        with open_session(settings) as s:
            n = store_persons(s, r.persons)
            s.commit()
        console.print(f"实有人口 {n} 人已写入业务库(列表中脱敏显示)" if zh else
                      f"{n} registered persons stored in the ops database (masked in lists)")
    if r.skipped:
        console.print("该文件已导入过,未改变任何数据" if zh else "this file was imported before; nothing changed")
    console.print(f"{kind}: 共 {r.rows} 行,导入 {r.loaded} 行,拒绝 {len(r.rejected)} 行" if zh else
                   f"{kind}: {r.rows} rows, {r.loaded} loaded, {len(r.rejected)} rejected")
    for rec in r.rejected.head(20).to_dict("records"):
        console.print(f"  row {rec['row']}: {rec['reason']}")


@duty_app.command("dosage")
def dosage_cmd(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", callback=valid_day, help="开始日期 / first day")],
    end: Annotated[str, typer.Option("--to", callback=valid_day, help="结束日期(含)/ last day (inclusive)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录（默认 <data_dir>/duty/dosage）/ output directory (default <data_dir>/duty/dosage).")] = None,
) -> None:
    """勤务落实 / patrol dosage per planned hot box and shift, against the plan used."""
    import pandas as pd

    from anju.duty.dosage import dosage
    from anju.duty.service import clean_stored_tracks, duty_dir, plans_used, stored_adjustments
    from anju.errors import DataNotFoundError

    settings = settings_from(ctx)
    zh = _zh(settings)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    plan = plans_used(settings, lo, hi, stored_adjustments(settings, lo, hi))
    if plan.empty:
        raise DataNotFoundError(f"no patrol plan for {start}–{end}; run `anju briefing --date` or import a plan.")
    track = clean_stored_tracks(settings, lo, hi + pd.Timedelta(hours=8))
    d = dosage(track, plan)
    s = track.stats
    console.print((f"轨迹: {s['fixes']:.0f} 个定位点, {s['units']:.0f} 个巡组; 剔除漂移 {s['spikes_dropped']:.0f}; "
                   f"信号中断 {s['gaps']:.0f} 次 ({s['gap_hours']:.1f} 小时); 停放 {s['parked_episodes']:.0f} 次 "
                   f"({s['parked_hours']:.1f} 小时,不计入巡逻)") if zh else
                  (f"tracks: {s['fixes']:.0f} fixes, {s['units']:.0f} units; {s['spikes_dropped']:.0f} spikes "
                   f"dropped; {s['gaps']:.0f} GPS gaps ({s['gap_hours']:.1f} h); {s['parked_episodes']:.0f} parked "
                   f"episodes ({s['parked_hours']:.1f} h, not credited)"))
    by = d.groupby("station_id").agg(planned=("planned_minutes", "sum"), credited=("credited_minutes", "sum"),
                                     missed=("status", lambda x: int((x == "missed").sum())))
    tab = Table(title="勤务落实率 / dosage delivered")
    for c in ("station_id", "planned min", "credited min", "share", "missed boxes"):
        tab.add_column(c, justify="right")
    for sid, r in by.iterrows():
        tab.add_row(str(sid), f"{r.planned:.0f}", f"{r.credited:.0f}", f"{r.credited / r.planned:.1%}",
                    str(r.missed))
    console.print(tab)
    target = (out or duty_dir(settings) / "dosage") / f"dosage-{lo:%Y%m%d}-{hi - pd.Timedelta(days=1):%Y%m%d}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    d.to_csv(target, index=False)
    console.print(("已写出: " if zh else "wrote: ") + str(target))


@duty_app.command("coverage")
def coverage_cmd(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", callback=valid_day, help="开始日期 / first day")],
    end: Annotated[str, typer.Option("--to", callback=valid_day, help="结束日期(含)/ last day (inclusive)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录（默认 <data_dir>/duty/coverage）/ output directory (default <data_dir>/duty/coverage).")] = None,
) -> None:
    """网格24小时覆盖 / 24-hour coverage: days with a recorded patrol per grid and hour."""
    import pandas as pd

    from anju.duty.dosage import hourly_coverage
    from anju.duty.service import clean_stored_tracks, duty_dir

    settings = settings_from(ctx)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    cov = hourly_coverage(clean_stored_tracks(settings, lo, hi))
    full = int((cov > 0).all(axis=1).sum())
    console.print(f"网格 / grids with patrols: {len(cov)}; 24 小时全覆盖 / all 24 hours covered: {full}")
    target = (out or duty_dir(settings) / "coverage") / f"grid-hours-{lo:%Y%m%d}-{hi - pd.Timedelta(days=1):%Y%m%d}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    cov.to_csv(target)
    console.print(f"已写出 / wrote: {target}")


@duty_app.command("registry")
def registry_cmd(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", callback=valid_day, help="核查日期 / check date YYYY-MM-DD")],
    community: Annotated[str | None, typer.Option("--community", help="社区 / community id")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录（默认 <data_dir>/duty/registry）/ output directory (default <data_dir>/duty/registry).")] = None,
) -> None:
    """实有人口核查清单 / registry worklist: stale, zombie, undeclared occupancy, suspected group rentals."""
    import pandas as pd

    from anju.duty.service import duty_dir, registry_worklist

    settings = settings_from(ctx)
    w = registry_worklist(settings, as_of)
    if community:
        w = w[w["community_id"] == community]
    from anju.duty.persons import with_masked_names
    from anju.duty.service import ops_session_if_any

    with ops_session_if_any(settings) as s:  # masked names and ID numbers only: the export is a list
        w = with_masked_names(s, w)
    counts = w.groupby("label").size()
    for label, n in counts.items():
        console.print(f"{label}: {n}")
    target = (out or duty_dir(settings) / "registry") / f"worklist-{pd.Timestamp(as_of):%Y%m%d}.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    w.to_excel(target, index=False, engine="xlsxwriter")
    console.print(f"已写出 / wrote: {target}")


def register(app: typer.Typer) -> None:
    """Mount ``briefing``, ``kpi`` and the ``duty`` group."""
    app.command("briefing")(briefing)
    app.command("kpi")(kpi)
    app.add_typer(duty_app, name="duty")
