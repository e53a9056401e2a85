"""Contiguous patrol areas (巡区) from communities with PySAL spopt's SKATER regionalisation.

A station's communities are split into ``k`` contiguous patrol areas, one per patrol unit, with SKATER (Assunção et
al. 2006: prune the minimum spanning tree of the contiguity graph so that the regions are internally similar).
The attributes are the standardised centroid coordinates (compact areas) and the standardised predicted risk of the
shift, weighted by ``risk_weight`` (so hot communities tend to share an area and the areas stay small where risk is
high); ``floor`` keeps every area at least ``min_communities`` large. Contiguity is fuzzy: two communities are neighbours when
their polygons come within ``snap_m`` (2 m) of each other, so boundaries digitised with slightly different vertices
(clipping, real registries) still connect; communities with no neighbour (islands) become their own areas on top of
the ``k`` (spopt's ``islands="increase"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely

from anju.errors import ConfigError

__all__ = ["patrol_districts"]


def patrol_districts(
    ids: Sequence[str],
    geometries: Sequence[shapely.Geometry] | np.ndarray,
    risk: Sequence[float] | np.ndarray,
    k: int,
    *,
    risk_weight: float = 1.0,
    min_communities: int = 1,
    snap_m: float = 2.0,
) -> pd.DataFrame:
    """Split communities into ``k`` contiguous patrol areas with SKATER (spopt).

    Parameters
    ----------
    ids : community ids
    geometries : their polygons in a metric CRS
    risk : predicted incidents per community for the shift
    k : number of areas (patrol units); capped at the number of communities
    risk_weight : weight of the risk attribute against the two coordinates
    min_communities : the smallest area (SKATER's ``floor``)
    snap_m : polygons closer than this (metres) are neighbours, so digitising slivers do not break contiguity

    Returns
    -------
    DataFrame: community_id, area (1 = the area with the most predicted risk), risk.

    Examples
    --------
    >>> boxes = [shapely.box(i * 100, 0, i * 100 + 100, 100) for i in range(6)]
    >>> patrol_districts(list("abcdef"), boxes, [5, 4, 0, 0, 1, 1], 2)["area"].tolist()
    [1, 1, 2, 2, 2, 2]
    """
    import geopandas as gpd
    import libpysal
    from spopt.region import Skater

    n = len(ids)
    if n == 0:
        raise ConfigError("patrol districting needs at least one community.", key="communities")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"the number of patrol areas must be a positive integer. Got {k!r}.", key="units")
    r = np.asarray(risk, dtype=float)
    if r.shape != (n,) or not np.isfinite(r).all():
        raise ConfigError("risk must be one finite number per community.", key="risk")
    k = int(min(k, n))
    geoms = np.asarray(geometries, dtype=object)
    cent = shapely.centroid(geoms)
    gdf = gpd.GeoDataFrame({"community_id": list(ids), "risk": r,
                            "cx": shapely.get_x(cent), "cy": shapely.get_y(cent)}, geometry=list(geoms))
    if k == 1:
        return gdf.assign(area=1)[["community_id", "area", "risk"]].pipe(pd.DataFrame)

    def z(v: np.ndarray) -> np.ndarray:
        s = float(np.std(v))
        return (v - float(np.mean(v))) / s if s > 0 else np.zeros_like(v)

    gdf["zx"], gdf["zy"] = z(gdf["cx"].to_numpy()), z(gdf["cy"].to_numpy())
    gdf["zr"] = z(r) * float(risk_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal's island and disconnected-component notices; handled below
        w = libpysal.weights.fuzzy_contiguity(gdf, buffering=True, buffer=float(snap_m), silence_warnings=True)
        model = Skater(gdf, w, ["zx", "zy", "zr"], n_clusters=k, floor=max(int(min_communities), 1),
                       islands="increase")
        model.solve()
    labels = np.asarray(model.labels_)
    # number areas by predicted risk (1 = riskiest), ties by the smallest community id, so the order is stable
    order = (pd.DataFrame({"label": labels, "risk": r, "id": list(ids)}).groupby("label")
             .agg(risk=("risk", "sum"), first=("id", "min")).sort_values(["risk", "first"], ascending=[False, True]))
    rank = {lab: i + 1 for i, lab in enumerate(order.index)}
    return pd.DataFrame({"community_id": list(ids), "area": [rank[x] for x in labels], "risk": r})
