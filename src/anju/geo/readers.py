"""Read area files (GeoJSON, Shapefile) into properties + Shapely geometries, without GDAL.

GeoJSON is parsed with :mod:`json` and :func:`shapely.geometry.shape`; Shapefiles with the pure-Python ``pyshp``.
The ``.dbf`` text encoding comes from ``encoding=`` if given, else the ``.cpg`` sidecar, else UTF-8 and then
GB18030 are tried in turn (Chinese shapefiles written by ArcGIS/QGIS without a ``.cpg`` are usually GBK). A ``.prj``
or a GeoJSON ``crs`` member naming a projected CRS is honoured: coordinates are reprojected to lon/lat by pyproj.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from anju.errors import DataNotFoundError, EncodingError, GeoError

__all__ = ["RawFeatures", "read_features", "reproject_to_lonlat"]

_CPG_ALIASES = {
    "65001": "utf-8", "utf8": "utf-8", "936": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030",
    "54936": "gb18030", "950": "big5", "1252": "cp1252", "88591": "latin-1", "8859_1": "latin-1",
    "iso88591": "latin-1", "437": "cp437",
}


@dataclass
class RawFeatures:
    """What a reader found: one properties dict and one geometry (or None) per feature, in file order."""

    properties: list[dict[str, Any]]
    geometries: NDArray[np.object_]
    feature_ids: list[Any] = field(default_factory=list)  # GeoJSON top-level "id" members (None when absent)
    source_crs: str | None = None  # a projected/other CRS declared by the file, as pyproj input; None = lon/lat
    encoding: str | None = None


def read_features(path: str | Path, *, encoding: str | None = None) -> RawFeatures:
    """Read a ``.geojson``/``.json`` or ``.shp`` file (other suffixes: sniffed)."""
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"area file {str(p)!r} does not exist; check the path (GeoJSON or .shp expected)")
    suffix = p.suffix.lower()
    if suffix in {".shp", ".dbf", ".shx"}:
        return _read_shapefile(p.with_suffix(".shp"), encoding)
    if suffix in {".geojson", ".json"}:
        return _read_geojson(p, encoding)
    with p.open("rb") as fh:
        head = fh.read(4)
    if head.lstrip()[:1] == b"{":
        return _read_geojson(p, encoding)
    if head == b"\x00\x00\x27\x0a":  # shapefile magic number 9994
        return _read_shapefile(p, encoding)
    raise GeoError(f"cannot read {str(p)!r}: expected a GeoJSON (.geojson/.json) or Shapefile (.shp) area file")


def _read_geojson(p: Path, encoding: str | None) -> RawFeatures:
    raw = p.read_bytes()
    enc = encoding or "utf-8-sig"
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        if encoding:
            raise EncodingError(f"{p} is not {encoding}; try --encoding utf-8 or gb18030") from None
        try:
            text, enc = raw.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as exc:
            raise EncodingError(f"{p} is neither UTF-8 nor GB18030; pass --encoding") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeoError(f"{p} is not valid JSON: {exc}") from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        feats = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
    elif isinstance(doc, dict) and "type" in doc and "coordinates" in doc:
        feats = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise GeoError(f"{p} is not a GeoJSON FeatureCollection/Feature (top-level 'type' missing or unexpected)")
    props: list[dict[str, Any]] = []
    geoms = np.empty(len(feats), dtype=object)
    fids: list[Any] = []
    for i, f in enumerate(feats):
        props.append(dict(f.get("properties") or {}))
        fids.append(f.get("id"))
        g = f.get("geometry")
        if g:
            try:
                geoms[i] = shape(g)
            except (ValueError, TypeError, AttributeError, IndexError, KeyError):
                geoms[i] = None
    crs = _geojson_crs(doc)
    return RawFeatures(props, geoms, fids, crs, enc)


def _geojson_crs(doc: Any) -> str | None:
    """The old-style GeoJSON ``crs`` member if it names something other than lon/lat WGS-84/CGCS2000."""
    try:
        name = str(doc["crs"]["properties"]["name"])
    except (KeyError, TypeError):
        return None
    upper = name.upper()
    if upper.endswith(("CRS84", "EPSG::4326", "EPSG:4326", "EPSG::4490", "EPSG:4490")):
        return None
    return name


def _cpg_encoding(p: Path) -> str | None:
    cpg = p.with_suffix(".cpg")
    if not cpg.exists():
        cpg = p.with_suffix(".CPG")
    if not cpg.exists():
        return None
    text = cpg.read_text("ascii", errors="ignore").strip()
    key = text.lower().replace("-", "").replace(" ", "")
    name = _CPG_ALIASES.get(key, text)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _read_shapefile(p: Path, encoding: str | None) -> RawFeatures:
    import shapefile  # pyshp

    if not p.exists():
        raise DataNotFoundError(f"shapefile {str(p)!r} does not exist (the .shp, .shx and .dbf must sit together)")
    if not p.with_suffix(".dbf").exists() and not p.with_suffix(".DBF").exists():
        raise DataNotFoundError(f"{p} has no .dbf beside it; attributes (ids, names) live in the .dbf")
    candidates = [encoding] if encoding else [e for e in (_cpg_encoding(p), "utf-8", "gb18030") if e]
    last: Exception | None = None
    for enc in dict.fromkeys(candidates):
        try:
            with shapefile.Reader(str(p), encoding=enc, encodingErrors="strict") as r:
                names = [f.name for f in r.fields[1:]]
                props: list[dict[str, Any]] = []
                geoms = np.empty(len(r), dtype=object)
                for i, sr in enumerate(r.iterShapeRecords()):
                    props.append(dict(zip(names, list(sr.record), strict=True)))
                    gi = sr.shape.__geo_interface__ if sr.shape.shapeType != 0 else None
                    geoms[i] = shape(gi) if gi and gi.get("coordinates") else None
        except (UnicodeDecodeError, shapefile.ShapefileException) as exc:
            if not isinstance(exc, UnicodeDecodeError) and "decode" not in str(exc):
                raise GeoError(f"cannot read shapefile {p}: {exc}") from exc
            last = exc
            continue
        crs = _prj_crs(p)
        return RawFeatures(props, geoms, [None] * len(props), crs, enc)
    raise EncodingError(f"{p.with_suffix('.dbf')}: attribute text is not {' / '.join(candidates)}; "
                        f"pass --encoding (e.g. gb18030, utf-8, big5): {last}")


def _prj_crs(p: Path) -> str | None:
    prj = p.with_suffix(".prj")
    if not prj.exists():
        return None
    wkt = prj.read_text("utf-8", errors="ignore").strip()
    if not wkt:
        return None
    try:
        from pyproj import CRS

        crs = CRS.from_wkt(wkt)
    except Exception:  # an unreadable .prj: fall back to the declared --crs
        return None
    if crs.is_geographic:
        return None  # lon/lat on WGS-84/CGCS2000/… : differences are centimetres
    return wkt


def reproject_to_lonlat(geoms: NDArray[np.object_], crs: str) -> NDArray[np.object_]:
    """Reproject geometries from a projected CRS to WGS-84 lon/lat."""
    from anju.geo.projection import transformer

    t = transformer(crs, "EPSG:4326")

    def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, fn), dtype=object)
