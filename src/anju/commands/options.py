"""The options every command shares, spelled once (like sqlite-utils' shared option decorators).

The vocabulary, also in README and ``anju --help``:

* ``--period``: a release/analysis period — ``2025H2`` (half-year), ``2025Q3``, ``2025-07``, ``2025``,
  ``2025-01-01..2025-03-31``, or ``latest`` (the latest half-year in the lake).
* ``--category``: a family (``theft``) or any node of the taxonomy (``theft.burglary``); see docs/taxonomy.md.
* ``--level`` / ``--by`` / ``--areas``: an area level — ``district``, ``street``, ``community``, ``grid``, ``station``,
  ``police_district`` (and ``unit``, the records' responsible unit, where the command says so).
* ``--cell-size``: grid cell size in metres.
* ``--out``: always an output **directory**; each command names the files it writes there.
* ``--model`` picks one forecast model, ``--models`` a comma-separated list of them.

Short flags have one meaning across the CLI: ``-d`` data dir, ``-q`` quiet, ``-o`` out, ``-t`` text task,
``-p`` ingest profile, ``-e`` encoding, ``-n`` rows, ``-l`` area layer, ``-s`` shift, ``-m`` model, ``-k`` units.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from anju.geo.grid_frame import GridFrame

__all__ = ["AREA_LEVELS", "AreaLevelOpt", "CategoryOpt", "CellSizeOpt", "CompareOpt", "GridOffsetOpt",
           "GridRotationOpt", "HotAreaOpt", "ModelOpt", "ModelsOpt", "OutDirOpt", "PeriodOpt", "SeedOpt",
           "StationOpt", "StudyAreaOpt", "TiesOpt", "check_level", "grid_frame", "hot_area", "out_dir", "study",
           "valid_day", "valid_out_dir"]

AREA_LEVELS = ("district", "street", "community", "grid", "station", "police_district")

def valid_out_dir(param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Option callback for ``--out``: refuse at once a directory that cannot be made (a file in its way), so a
    command fails before its work, not after it."""
    from anju.errors import ConfigError

    if value is None:
        return None
    for parent in (value, *value.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"--out {value}: {parent} is a file, so the output directory cannot be made there; "
                                  "--out names a directory",
                                  zh=f"--out {value}：{parent} 是一个文件，无法在其中建立输出目录；--out 应为目录")
            break
    return value


PeriodOpt = Annotated[str, typer.Option(
    "--period", help="时段：2025H2、2025Q3、2025-07、2025、2025-01-01..2025-03-31，latest = 数据中最近的半年 / period: "
                     "2025H2, 2025Q3, 2025-07, 2025, 2025-01-01..2025-03-31; latest = the lake's latest half-year.")]
CompareOpt = Annotated[str | None, typer.Option(
    "--compare", help="对比时段（默认去年同期；pop = 上一期）/ comparison period (default: same period last year; "
                      "pop = the previous period).")]
CategoryOpt = Annotated[str | None, typer.Option(
    "--category", help="警情类别：大类（theft）、分类树任一节点（theft.burglary）、类别名称（盗窃、入室盗窃）或数据源中的"
                       "原始类别名 / category: a family (theft), any taxonomy node (theft.burglary), a family or "
                       "category label (盗窃, Burglary) or a category name as the source spelt it.")]
AreaLevelOpt = Annotated[str | None, typer.Option(
    "--areas", help="区域层级：district、street、community、grid、station、police_district（按区域而非网格）/ area "
                    "level (analyse its polygons instead of grid cells).")]
CellSizeOpt = Annotated[float, typer.Option("--cell-size", min=1.0,
                                            help="网格边长（米）/ grid cell size in metres.")]
OutDirOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", callback=valid_out_dir, help="输出目录（命令在其中写出各自的文件）/ output directory (the command names its files there).")]
ModelOpt = Annotated[str, typer.Option(
    "--model", "-m", help="预测模型 / forecast model: naive | random | retrospective | prospective | kde | sepp | blend | "
                          "boost.")]
ModelsOpt = Annotated[str, typer.Option(
    "--models", help="逗号分隔的预测模型 / comma-separated forecast models (see --model).")]
HotAreaOpt = Annotated[str | None, typer.Option(
    "--hot-area", help="热点总面积（按面积评分，如 0.75mi2、1.9km2；nij = NIJ 竞赛规则）/ hot area to flag and score, "
                       "e.g. 0.75mi2, 1.9km2; nij = the NIJ challenge rules (0.75 mi², cells 250–600 ft).")]
StudyAreaOpt = Annotated[str | None, typer.Option(
    "--study-area", help="研究区域：已加载的区域图层，可加区域编号（police_district 或 district:D01）/ study area: a "
                         "loaded area layer, optionally one area (police_district or district:D01).")]
GridOffsetOpt = Annotated[str, typer.Option(
    "--grid-offset", help="网格原点偏移 x,y（米，数据的投影坐标）/ grid origin offset x,y in the metric CRS.")]
GridRotationOpt = Annotated[float, typer.Option(
    "--grid-rotation", help="网格旋转角度（逆时针，度）/ grid rotation, degrees anticlockwise.")]
TiesOpt = Annotated[str, typer.Option(
    "--ties", help="临界并列规则：cell_id（按网格编号，确定的地图）或 expected（随机打破的期望）/ tie rule at the cut-off: "
                   "cell_id (ascending cell id, a real map) or expected (random tie-break in expectation).")]
StationOpt = Annotated[str | None, typer.Option("--station", help="派出所编号 / police station id (station_id).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="随机种子 / random seed.")]


def valid_day(param: typer.CallbackParam, value: str | None) -> str | None:
    """Option callback: ``value`` if it is a calendar day (``2025-07-01``), else a clear bilingual error."""
    from anju.errors import ConfigError

    if value is None:
        return None
    import pandas as pd

    try:
        pd.Timestamp(value)
    except (ValueError, OverflowError):
        opt = param.opts[0] if param.opts else param.name
        raise ConfigError(f"{opt} {value!r} is not a calendar day; write it as YYYY-MM-DD (e.g. 2025-07-01)",
                          zh=f"{opt} 的取值 {value!r} 不是有效日期；请写成 YYYY-MM-DD（如 2025-07-01）") from None
    return value


def check_level(level: str | None, *, option: str = "--areas", extra: tuple[str, ...] = ()) -> str | None:
    """``level`` if it is an area level of the vocabulary (or one of ``extra``), else a clear error."""
    from anju.errors import ConfigError

    if level is None or level in AREA_LEVELS or level in extra:
        return level
    also = "".join(f", or {option} {x}" for x in extra)
    also_zh = "".join(f"，或 {option} {x}" for x in extra)
    raise ConfigError(f"{option} {level}: not an area level; expected one of {', '.join(AREA_LEVELS)}{also}",
                      zh=f"{option} {level} 不是区域层级；应为 {', '.join(AREA_LEVELS)} 之一{also_zh}")


def grid_frame(cell_size: float, offset: str = "0,0", rotation: float = 0.0) -> GridFrame:
    """The grid frame of ``--cell-size``, ``--grid-offset x,y`` and ``--grid-rotation``; bad input is a clear error."""
    from anju.errors import ConfigError
    from anju.geo.grid_frame import GridFrame

    try:
        ox, oy = (float(v) for v in offset.split(","))
    except ValueError:
        raise ConfigError(f"--grid-offset {offset!r}: expected two numbers x,y (e.g. 75,0)",
                          zh=f"--grid-offset 的取值 {offset!r} 无效：应为两个数 x,y（如 75,0）") from None
    return GridFrame(cell_size, ox, oy, rotation)


def hot_area(text: str | None, cell_size: float) -> float | None:
    """``--hot-area`` in m² (None when not given); the ``nij`` preset also checks the cell size against its rules."""
    from anju.errors import ConfigError
    from anju.forecast.evaluate import parse_area

    if text is None:
        return None
    if text.strip().lower() == "nij" and not (250 * 0.3048 - 1e-6 <= cell_size <= 600 * 0.3048 + 1e-6):
        raise ConfigError(f"--hot-area nij: the NIJ rules allow cells of 250–600 ft (76.2–182.9 m); "
                          f"--cell-size is {cell_size:g} m",
                          zh=f"--hot-area nij：NIJ 规则要求网格边长 250–600 英尺（76.2–182.9 米），--cell-size 为 "
                             f"{cell_size:g} 米")
    return parse_area(text)


def study(text: str | None) -> tuple[str | None, str | None]:
    """``--study-area layer[:id]`` as (layer, id)."""
    if not text:
        return None, None
    layer, _, area = text.partition(":")
    return check_level(layer, option="--study-area"), (area or None)


def out_dir(out: Path | None, default: Path) -> Path:
    """The output directory: ``--out`` or ``default``; created; a file in the way is a clear error."""
    from anju.errors import ConfigError

    d = out if out is not None else default
    if d.exists() and not d.is_dir():
        raise ConfigError(f"--out {d} is a file; --out names a directory (the command writes its files there)",
                          zh=f"--out {d} 是一个文件；--out 应为目录（命令在其中写出文件）")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {d}: cannot create the output directory ({exc.strerror or exc}); choose a "
                          "writable directory",
                          zh=f"--out {d}：无法创建输出目录（{exc.strerror or exc}）；请换一个可写的目录") from None
    return d
