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
from typing import Annotated

import typer

__all__ = ["AREA_LEVELS", "AreaLevelOpt", "CategoryOpt", "CellSizeOpt", "CompareOpt", "ModelOpt", "ModelsOpt",
           "OutDirOpt", "PeriodOpt", "SeedOpt", "StationOpt", "check_level", "out_dir"]

AREA_LEVELS = ("district", "street", "community", "grid", "station", "police_district")

PeriodOpt = Annotated[str, typer.Option(
    "--period", help="时段：2025H2、2025Q3、2025-07、2025、2025-01-01..2025-03-31，latest = 数据中最近的半年 / period: "
                     "2025H2, 2025Q3, 2025-07, 2025, 2025-01-01..2025-03-31; latest = the lake's latest half-year.")]
CompareOpt = Annotated[str | None, typer.Option(
    "--compare", help="对比时段（默认去年同期；pop = 上一期）/ comparison period (default: same period last year; "
                      "pop = the previous period).")]
CategoryOpt = Annotated[str | None, typer.Option(
    "--category", help="警情类别：大类（theft）或分类树任一节点（theft.burglary）/ category: a family (theft) or any "
                       "taxonomy node (theft.burglary).")]
AreaLevelOpt = Annotated[str | None, typer.Option(
    "--areas", help="区域层级：district、street、community、grid、station、police_district（按区域而非网格）/ area "
                    "level (analyse its polygons instead of grid cells).")]
CellSizeOpt = Annotated[float, typer.Option("--cell-size", min=1.0,
                                            help="网格边长（米）/ grid cell size in metres.")]
OutDirOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="输出目录（命令在其中写出各自的文件）/ output directory (the command names its files there).")]
ModelOpt = Annotated[str, typer.Option(
    "--model", "-m", help="预测模型 / forecast model: naive | random | retrospective | prospective | kde | sepp.")]
ModelsOpt = Annotated[str, typer.Option(
    "--models", help="逗号分隔的预测模型 / comma-separated forecast models (see --model).")]
StationOpt = Annotated[str | None, typer.Option("--station", help="派出所编号 / police station id (station_id).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="随机种子 / random seed.")]


def check_level(level: str | None, *, option: str = "--areas", extra: tuple[str, ...] = ()) -> str | None:
    """``level`` if it is an area level of the vocabulary (or one of ``extra``), else a clear error."""
    from anju.errors import ConfigError

    if level is None or level in AREA_LEVELS or level in extra:
        return level
    also = "".join(f", or {option} {x}" for x in extra)
    raise ConfigError(f"{option} {level}: not an area level; expected one of {', '.join(AREA_LEVELS)}{also}")


def out_dir(out: Path | None, default: Path) -> Path:
    """The output directory: ``--out`` or ``default``; created; a file in the way is a clear error."""
    from anju.errors import ConfigError

    d = out if out is not None else default
    if d.exists() and not d.is_dir():
        raise ConfigError(f"--out {d} is a file; --out names a directory (the command writes its files there)")
    d.mkdir(parents=True, exist_ok=True)
    return d
