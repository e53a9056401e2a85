"""Scoring as published: study-area PAI, area-capped hot areas, the tie rule, grid frames, area units."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from anju.errors import ConfigError
from anju.forecast.evaluate import NIJ_PRESET, cell_areas, coverage_scores, parse_area
from anju.geo.grid_frame import GridFrame
from anju.geo.regular_grid import RegularGrid


def strip() -> tuple[RegularGrid, np.ndarray, tuple[np.ndarray, np.ndarray], object]:
    """Four 100 m cells in a row; the study area starts at x = 50 (cell 0 half inside)."""
    g = RegularGrid.from_bounds(0, 0, 399, 99, 100.0)
    risk = np.array([[3.0, 2.0, 1.0, 0.0]])
    x = np.array([75.0, 75.0, 25.0, 150.0, 350.0])  # 25: cell 0 but outside the study area
    y = np.full(5, 50.0)
    return g, risk, (x, y), shapely.box(50, 0, 400, 100)


def test_pai_on_study_area_matches_hand_computation() -> None:
    g, risk, ev, area = strip()
    assert cell_areas(g, area).tolist() == [5000.0, 10000.0, 10000.0, 10000.0]
    df = coverage_scores(risk, g, ev, coverages=[0.5], hot_areas=[15000.0, 14999.0], study_area=area)
    # A = 35,000 m²; N = 4 (one event lies outside); budget 15,000 m² flags cells 0 (5,000) and 1 (10,000)
    half, hot, small = df.to_dict("records")
    assert (hot["cells"], hot["area_m2"], hot["n"], hot["N"]) == (2, 15000.0, 3.0, 4)
    assert hot["pai"] == pytest.approx((3 / 4) / (15000 / 35000))
    assert hot["n_star"] == 3.0 and hot["pei"] == pytest.approx(1.0)  # best 2 cells: counts 2 + 1
    assert half["cells"] == 2 and half["pai"] == pytest.approx(hot["pai"])  # 50 % of A = 17,500 m² ≥ 15,000
    assert (small["cells"], small["n"]) == (1, 2.0)  # 14,999 m² holds only cell 0
    assert small["pai"] == pytest.approx((2 / 4) / (5000 / 35000))
    # without a study area every active cell counts whole and every event in the grid counts
    whole = coverage_scores(risk, g, ev, coverages=[], hot_areas=[20000.0]).iloc[0]
    assert (whole["N"], whole["n"], whole["pai"]) == (5, 4.0, pytest.approx((4 / 5) / 0.5))


def test_area_capped_selection_and_errors() -> None:
    g = RegularGrid.from_bounds(0, 0, 999, 999, 100.0)
    risk = np.arange(100.0).reshape(g.shape)
    ev = (np.array([50.0]), np.array([50.0]))
    df = coverage_scores(risk, g, ev, coverages=[], hot_areas=[parse_area("0.03km2"), 35000.0, 39999.0])
    assert df["cells"].tolist() == [3, 3, 3]  # exactly 3 cells fit 30,000 m²; 4 would exceed the others
    with pytest.raises(ConfigError, match="smaller than one cell"):
        coverage_scores(risk, g, ev, hot_areas=[9999.0])
    with pytest.raises(ConfigError, match="hot area"):
        coverage_scores(risk, g, ev, hot_areas=[-1.0])


def test_tie_rule_is_deterministic_and_reported() -> None:
    g = RegularGrid.from_bounds(0, 0, 399, 99, 100.0)
    flat = np.ones(g.shape)
    ev = (np.array([350.0, 350.0, 50.0]), np.array([50.0, 50.0, 50.0]))  # cells 3, 3, 0
    by_id = coverage_scores(flat, g, ev, coverages=[0.25, 0.5], ties="cell_id")
    assert by_id["n"].tolist() == [1.0, 1.0]  # cells 0 (then 0, 1) flagged: ascending cell id
    assert by_id["tied"].tolist() == [4, 4] and by_id["tied_flagged"].tolist() == [1, 2]
    expected = coverage_scores(flat, g, ev, coverages=[0.25, 0.5], ties="expected")
    assert expected["n"].tolist() == [0.75, 1.5] and np.allclose(expected["pai"], 1.0)
    risk = np.array([[5.0, 1.0, 1.0, 1.0]])  # no tie straddles the cut at one cell
    one = coverage_scores(risk, g, ev, coverages=[0.25], ties="cell_id").iloc[0]
    assert (one["tied"], one["tied_flagged"], one["n"]) == (1, 1, 1.0)
    with pytest.raises(ConfigError, match="ties"):
        coverage_scores(flat, g, ev, ties="random")


def test_area_units_and_nij_preset() -> None:
    assert parse_area("0.75mi2") == pytest.approx(0.75 * 1609.344**2)
    assert parse_area("1.9 km²") == pytest.approx(1.9e6)
    assert parse_area("62500ft2") == pytest.approx(62500 * 0.3048**2)
    assert parse_area("2ha") == 20000.0
    assert NIJ_PRESET["cell_size_m"] ** 2 == pytest.approx(360000 * 0.3048**2)  # 600 ft cells
    for bad in ("12", "-1km2", "km2", "3 acres"):
        with pytest.raises(ConfigError, match="--hot-area"):
            parse_area(bad)


def test_grid_offset_and_rotation() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(1000, 2000, 200), rng.uniform(3000, 4000, 200)
    g = GridFrame(100.0, offset_x=30.0, offset_y=70.0).grid(x, y)
    assert (g.x0 - 30.0) % 100.0 == pytest.approx(0.0) and (g.y0 - 70.0) % 100.0 == pytest.approx(0.0)
    assert g.counts(x, y).sum() == 200
    frame = GridFrame(100.0, rotation_deg=30.0)
    gx, gy = frame.to_grid(x, y)
    bx, by = frame.to_data(gx, gy)
    assert np.allclose(bx, x) and np.allclose(by, y)
    assert np.allclose(np.hypot(gx, gy), np.hypot(x, y))  # a rotation keeps distances
    # a rotated study area: cells clipped to it still sum to its exact area
    area = shapely.box(1000, 3000, 2000, 4000)
    turned = frame.geometry_to_grid(area)
    grid = frame.grid(gx, gy, study_area=turned)
    assert cell_areas(grid, turned).sum() == pytest.approx(1e6)
    assert shapely.equals_exact(frame.geometry_to_data(turned), area, tolerance=1e-6)


def test_feet_crs_cells_have_exact_areas_in_feet() -> None:
    """Coordinates in a feet CRS (EPSG:2913): a 600-unit cell covers exactly 360,000 ft²."""
    x, y = np.array([7640000.0, 7650000.0]), np.array([680000.0, 690000.0])
    g = GridFrame(600.0).grid(x, y, dilate=0)
    assert g.cell_area_m2 == 360000.0  # the property holds CRS units², here ft²
