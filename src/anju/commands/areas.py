"""CLI verbs for area layers: ``anju areas load FILE --layer NAME`` and ``anju areas list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from anju.commands._common import console, settings_from

areas_app = typer.Typer(
    name="areas",
    help="区域图层 / area layers: 区 district ← 街道 street ← 社区 community ← 网格 grid; 派出所 station ← 警务区.",
    no_args_is_help=True,
)

_CRS_HELP = "顶点坐标系 / vertex coordinates: wgs84 (GPS/OSM), gcj02 (高德/腾讯), bd09 (百度)."


def _zh(settings_lang: str, zh: str, en: str) -> str:
    return zh if settings_lang == "zh" else en


@areas_app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="GeoJSON 或 Shapefile (.shp) / GeoJSON or Shapefile.")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="图层 / layer: district, street, community, grid, "
                                       "station, police_district.")],
    id_field: Annotated[str | None, typer.Option("--id-field", help="编号字段 / property holding the area id.")] = None,
    name_field: Annotated[str | None, typer.Option("--name-field", help="名称字段 / property holding the name.")] = None,
    parent_field: Annotated[str | None, typer.Option(
        "--parent-field", help="上级字段 / property holding the parent's id or name (default: spatial link).")] = None,
    crs: Annotated[str, typer.Option("--crs", help=_CRS_HELP)] = "wgs84",
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="属性编码 / attribute encoding (default: .cpg, then utf-8, then gb18030).")] = None,
) -> None:
    """导入区域图层 / load an area layer (replaces a layer loaded before)."""
    from anju.geo.areas import LAYER_LABELS, load_area_file

    settings = settings_from(ctx)
    lang = settings.lang
    with console.status(_zh(lang, f"正在导入 {file.name} …", f"loading {file.name} …")):
        rep = load_area_file(settings.data_dir, file, layer=layer, id_field=id_field, name_field=name_field,
                             parent_field=parent_field, crs=crs, encoding=encoding)
    t = Table(title=_zh(lang, f"图层 {layer}（{LAYER_LABELS[layer]}）已导入", f"layer {layer} loaded"),
              show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    t.add_row(_zh(lang, "来源 / source", "source"), rep.source_file)
    t.add_row(_zh(lang, "坐标系 / CRS", "CRS"), f"{rep.crs} → wgs84; metric {rep.metric_crs}")
    t.add_row(_zh(lang, "要素 / features", "features"), f"{rep.features_loaded} / {rep.features_read}")
    t.add_row(_zh(lang, "已修复 / repaired", "repaired"),
              f"{len(rep.repaired_ids)}" + (f": {', '.join(rep.repaired_ids[:8])}" if rep.repaired_ids else ""))
    if rep.dropped:
        t.add_row(_zh(lang, "已丢弃 / dropped", "dropped"),
                  "; ".join(f"{d['id']} ({d['reason']})" for d in rep.dropped[:6])
                  + (" …" if len(rep.dropped) > 6 else ""))
    if rep.merged_duplicate_ids:
        t.add_row(_zh(lang, "重复编号合并 / merged ids", "merged duplicate ids"),
                  f"{len(rep.merged_duplicate_ids)}: {', '.join(rep.merged_duplicate_ids[:8])}")
    if rep.parent_layer and rep.parent_mode == "none":
        t.add_row(_zh(lang, "上级关联 / parents", "parents"),
                  _zh(lang, f"上级图层 {rep.parent_layer} 尚未导入；导入后自动关联 / linked when {rep.parent_layer} is "
                            "loaded", f"parent layer {rep.parent_layer} not loaded yet; linked when it is"))
    elif rep.parent_layer:
        t.add_row(_zh(lang, "上级关联 / parents linked", "parents linked"),
                  f"{rep.parents_linked} ({rep.parent_mode}, {rep.parent_layer})")
        t.add_row(_zh(lang, "未关联上级 / unassigned parents", "unassigned parents"),
                  f"{len(rep.parents_missing)}"
                  + (f": {', '.join(rep.parents_missing[:8])}" if rep.parents_missing else ""))
    for child, n in rep.relinked_children.items():
        t.add_row(_zh(lang, "下级重新关联 / children relinked", "children relinked"), f"{child}: {n}")
    t.add_row(_zh(lang, "面积 / area", "area"), f"{rep.area_km2:,.2f} km²")
    console.print(t)


@areas_app.command("list")
def list_layers(ctx: typer.Context) -> None:
    """列出已导入图层 / list the loaded area layers."""
    from anju.geo.areas import layer_summary

    settings = settings_from(ctx)
    lang = settings.lang
    rows = layer_summary(settings.data_dir)
    if not rows:
        console.print(_zh(lang, "尚未导入区域图层；用 `anju areas load FILE --layer NAME` 导入。",
                          "no area layers yet; load one with `anju areas load FILE --layer NAME`."))
        return
    t = Table(title=_zh(lang, "区域图层 / area layers", "area layers"),
              caption=f"metric CRS {rows[0]['metric_crs']}")
    t.add_column("图层 layer", no_wrap=True)
    t.add_column("要素 n", justify="right")
    t.add_column("km²", justify="right")
    t.add_column("上级 parents", no_wrap=True)
    t.add_column("修复 fixed", justify="right")
    t.add_column("来源 source", overflow="fold")
    for r in rows:
        parents = "—" if r["parent_mode"] is None or r["layer"] in ("district", "station") else (
            f"{r['parents_linked']}/{r['features']} {r['parent_mode']}")
        t.add_row(f"{r['layer']} {r['label']}", str(r["features"]), f"{(r['area_km2'] or 0):,.1f}", parents,
                  str(r["repaired"]), f"{Path(str(r['source_file'])).name} ({str(r['loaded_at'])[:16]})")
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.add_typer(areas_app, name="areas")
