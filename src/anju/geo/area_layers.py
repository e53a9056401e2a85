"""The area-layer model: the two hierarchies, one loaded layer (:class:`AreaLayer`) and a load report.

Layers: ``district`` (区/县) ← ``street`` (街道/镇) ← ``community`` (社区/村) ← ``grid`` (网格), and ``station``
(派出所) ← ``police_district`` (警务区). Loading lives in :mod:`anju.geo.area_loading`, storage in
:mod:`anju.geo.area_store`, point assignment in :mod:`anju.geo.areas`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from numpy.typing import NDArray

from anju.errors import GeoError
from anju.geo._locate import NearestIndex, PolygonIndex
from anju.geo.projection import transformer

__all__ = [
    "CHILD",
    "HIERARCHIES",
    "LAYERS",
    "LAYER_LABELS",
    "PARENT",
    "AreaLayer",
    "LayerReport",
    "ObjArray",
    "check_layer",
    "project_geometries",
]

LAYERS = ("district", "street", "community", "grid", "station", "police_district")
PARENT: dict[str, str | None] = {
    "district": None, "street": "district", "community": "street", "grid": "community",
    "station": None, "police_district": "station",
}
CHILD: dict[str, str] = {p: c for c, p in PARENT.items() if p}
HIERARCHIES: tuple[tuple[str, ...], ...] = (("district", "street", "community", "grid"), ("station", "police_district"))
LAYER_LABELS = {
    "district": "区/县", "street": "街道/镇", "community": "社区/村", "grid": "网格",
    "station": "派出所", "police_district": "警务区",
}

ObjArray = NDArray[np.object_]


@dataclass
class LayerReport:
    """What :func:`~anju.geo.area_loading.load_area_file` did; also stored in ``_meta.json``."""

    layer: str
    source_file: str
    crs: str
    encoding: str | None = None
    features_read: int = 0
    features_loaded: int = 0
    repaired_ids: list[str] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)  # {"id", "reason"}: non-polygon, empty, no id
    merged_duplicate_ids: list[str] = field(default_factory=list)
    parent_layer: str | None = None
    parent_mode: str = "none"  # "field", "spatial" or "none"
    parents_linked: int = 0
    parents_missing: list[str] = field(default_factory=list)  # child ids without a parent in the parent layer
    relinked_children: dict[str, int] = field(default_factory=dict)  # child layer → children now linked
    metric_crs: str = ""
    area_km2: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(eq=False)
class AreaLayer:
    """One loaded area layer. ``geometries`` are WGS-84 lon/lat; ``attributes`` has everything but geometry."""

    name: str
    ids: ObjArray
    names: ObjArray
    parent_ids: ObjArray
    geometries: ObjArray
    attributes: pa.Table
    _index: PolygonIndex | None = field(default=None, repr=False, compare=False)
    _nearest: dict[str, NearestIndex] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def index(self) -> PolygonIndex:
        """Cached point-in-polygon index."""
        if self._index is None:
            self._index = PolygonIndex(self.geometries)
        return self._index

    def nearest_index(self, crs: str) -> NearestIndex:
        """Cached nearest-polygon index on the geometries projected to ``crs``."""
        if crs not in self._nearest:
            self._nearest[crs] = NearestIndex(project_geometries(self.geometries, crs))
        return self._nearest[crs]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in WGS-84."""
        b = shapely.total_bounds(self.geometries)
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def project_geometries(geoms: ObjArray, crs: str) -> ObjArray:
    """WGS-84 geometries projected to the metric ``crs``."""
    t = transformer("EPSG:4326", crs)

    def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, fn), dtype=object)



def check_layer(name: str) -> str:
    """``name`` if it is a known layer, else a :class:`GeoError` listing the layers."""
    if name not in LAYERS:
        raise GeoError(f"unknown area layer {name!r}; valid layers: {', '.join(LAYERS)} "
                       f"({', '.join(f'{k}={v}' for k, v in LAYER_LABELS.items())})")
    return name

