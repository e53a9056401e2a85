"""Storage of the area layers: ``<data_dir>/areas/<layer>.parquet`` and ``areas/_meta.json`` (see
docs/data-model.md), written atomically; reading a layer back, and the per-layer summary for listings.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from numpy.typing import NDArray

from anju.errors import GeoError
from anju.geo.area_layers import LAYER_LABELS, LAYERS, AreaLayer, ObjArray

__all__ = [
    "META_VERSION",
    "atomic_write_bytes",
    "layer_summary",
    "layer_table",
    "read_layer",
    "read_meta",
    "resolve_areas_dir",
    "write_meta",
    "write_table",
]

META_VERSION = 1


def resolve_areas_dir(data_dir: Any) -> Path:
    """The ``areas`` folder of a data directory, :class:`~anju.config.DataDir` or :class:`~anju.config.Settings`."""
    paths = getattr(data_dir, "paths", None)
    if paths is not None:
        return Path(paths.areas)
    if hasattr(data_dir, "areas") and not isinstance(data_dir, str | Path):
        return Path(data_dir.areas)
    p = Path(data_dir)
    if p.name == "areas" and (p / "_meta.json").exists():
        return p
    return p / "areas"



def read_meta(areas_dir: str | Path) -> dict[str, Any]:
    """``areas/_meta.json`` as a dict (an empty skeleton when absent)."""
    p = Path(areas_dir) / "_meta.json"
    if not p.exists():
        return {"version": META_VERSION, "metric_crs": None, "layers": {}}
    try:
        meta = json.loads(p.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise GeoError(f"{p} is not valid JSON ({exc}); reload the layers with `anju areas load`") from exc
    meta.setdefault("layers", {})
    return dict(meta)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_meta(areas_dir: Path, meta: dict[str, Any]) -> None:
    """Write ``_meta.json`` (layers in :data:`LAYERS` order)."""
    meta["version"] = META_VERSION
    meta["layers"] = {k: meta["layers"][k] for k in LAYERS if k in meta["layers"]}
    atomic_write_bytes(areas_dir / "_meta.json",
                        json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))


def read_layer(name: str, path: Path) -> AreaLayer:
    """One stored layer back as an :class:`AreaLayer`."""
    table = pq.read_table(path)
    geoms = shapely.from_wkb(np.asarray(table.column("geometry").to_pylist(), dtype=object))
    attrs = table.drop_columns(["geometry"])
    ids = np.asarray(attrs.column("area_id").to_pylist(), dtype=object)
    names = np.asarray(attrs.column("name").to_pylist(), dtype=object)
    parents = np.asarray(attrs.column("parent_id").to_pylist(), dtype=object)
    return AreaLayer(name, ids, names, parents, np.asarray(geoms, dtype=object), attrs)


def layer_table(ids: Iterable[str], names: Iterable[str | None], parents: Iterable[str | None], geoms: ObjArray,
                 area_m2: NDArray[np.float64], attrs: dict[str, pa.Array]) -> pa.Table:
    """The stored table of a layer: area_id, name, parent_id, geometry (WKB), area_m2, then the attributes."""
    cols: dict[str, pa.Array] = {
        "area_id": pa.array(list(ids), pa.string()),
        "name": pa.array(list(names), pa.string()),
        "parent_id": pa.array(list(parents), pa.string()),
        "geometry": pa.array(shapely.to_wkb(geoms).tolist(), pa.binary()),
        "area_m2": pa.array(area_m2, pa.float64()),
    }
    cols.update(attrs)
    return pa.table(cols)


def write_table(path: Path, table: pa.Table) -> None:
    """Write a layer table as zstd Parquet, atomically."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(path, sink.getvalue().to_pybytes())



def layer_summary(data_dir: str | Path | Any) -> list[dict[str, Any]]:
    """One dict per loaded layer (name, features, source, loaded_at, parents linked/missing) for listings."""
    areas_dir = resolve_areas_dir(data_dir)
    meta = read_meta(areas_dir)
    rows = []
    for name, m in meta["layers"].items():
        rep = m.get("report", {})
        rows.append({
            "layer": name, "label": LAYER_LABELS.get(name, name), "features": m.get("features"),
            "source_file": m.get("source_file"), "loaded_at": m.get("loaded_at"), "crs": m.get("crs"),
            "parent_mode": m.get("parent_mode"), "parents_linked": rep.get("parents_linked", 0),
            "parents_missing": len(rep.get("parents_missing", [])), "repaired": len(rep.get("repaired_ids", [])),
            "area_km2": rep.get("area_km2"), "metric_crs": meta.get("metric_crs"),
        })
    return rows

