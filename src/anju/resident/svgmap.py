"""A tiny offline map: our own area polygons and points drawn as inline SVG (no tiles, no script, no CDN).

Used by the public safe-house page, which must work on a phone without JavaScript. Coordinates are WGS-84; the
drawing uses an equirectangular projection scaled by cos(latitude), exact enough at district scale.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import shapely

__all__ = ["svg_map"]


def svg_map(polygons: Sequence[shapely.Geometry], points: Sequence[tuple[float, float, str, str]], *,
            width: int = 360, highlight: tuple[float, float] | None = None,
            bounds: tuple[float, float, float, float] | None = None) -> str:
    """SVG markup: ``polygons`` as light outlines, ``points`` (lon, lat, label, css class) as dots with titles,
    ``highlight`` (lon, lat) as a star-like marker. Labels are escaped."""
    if bounds is None:
        xs: list[float] = [p[0] for p in points]
        ys: list[float] = [p[1] for p in points]
        if len(polygons):
            b = shapely.total_bounds(np.asarray(polygons, dtype=object))
            xs += [b[0], b[2]]
            ys += [b[1], b[3]]
        if highlight:
            xs.append(highlight[0])
            ys.append(highlight[1])
        if not xs:
            return ""
        bounds = (min(xs), min(ys), max(xs), max(ys))
    x0, y0, x1, y1 = bounds
    k = float(np.cos(np.radians((y0 + y1) / 2)))
    w_deg = max((x1 - x0) * k, 1e-6)
    h_deg = max(y1 - y0, 1e-6)
    height = max(120, int(width * h_deg / w_deg))
    pad = 8

    def tx(lon: float, lat: float) -> tuple[float, float]:
        return (pad + (lon - x0) * k / w_deg * (width - 2 * pad),
                pad + (y1 - lat) / h_deg * (height - 2 * pad))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="svgmap" '
             f'role="img" aria-label="map">']
    for g in polygons:
        for poly in getattr(g, "geoms", [g]):
            coords = np.asarray(poly.exterior.coords)
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in (tx(x, y) for x, y in coords))
            parts.append(f'<polygon points="{pts}" class="area"/>')
    for lon, lat, label, cls in points:
        cx, cy = tx(lon, lat)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" class="{html.escape(cls)}">'
                     f"<title>{html.escape(label)}</title></circle>")
    if highlight:
        cx, cy = tx(*highlight)
        parts.append(f'<rect x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" class="here"/>')
    parts.append("</svg>")
    return "".join(parts)
