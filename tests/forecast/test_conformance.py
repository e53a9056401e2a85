"""One conformance test over every model (after scikit-learn's estimator_checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fcsynth import make_events

from anju.errors import ConfigError, NotFittedError
from anju.forecast import MODELS, SEPP, check_is_fitted, clone, make_model
from anju.forecast.base import ForecastModel
from anju.geo.regular_grid import RegularGrid

WINDOW = ("2024-07-01", "2024-07-08")


def all_models() -> list[ForecastModel]:
    out = []
    for name, cls in MODELS.items():
        kw = {"random_state": 3} if name == "random" else {}
        out.append(cls(**kw))
    return out


@pytest.fixture(scope="module")
def grid() -> RegularGrid:
    mask = np.ones((20, 20), dtype=bool)
    mask[:3, :] = False  # a study area that is not the whole rectangle
    return RegularGrid(0.0, 0.0, 150.0, 20, 20, mask)


@pytest.fixture(scope="module")
def ev() -> pd.DataFrame:
    return make_events(2000, seed=1)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: type(m).__name__)
class TestContract:
    def test_params_stored_unchanged(self, model: ForecastModel) -> None:
        sentinel = object()  # __init__ must not validate or copy
        params = model.get_params()
        assert set(params) >= {"family", "shift", "shift_weight"}
        for name in params:
            m = type(model)(**{name: sentinel})
            assert m.get_params()[name] is sentinel
        assert clone(model).get_params() == params

    def test_keyword_only(self, model: ForecastModel) -> None:
        with pytest.raises(TypeError):
            type(model)(1.0)  # type: ignore[misc]

    def test_not_fitted(self, model: ForecastModel, grid: RegularGrid) -> None:
        m = clone(model)
        with pytest.raises(NotFittedError, match="not fitted"):
            m.predict(grid, WINDOW)
        with pytest.raises(ValueError):  # NotFittedError is also a ValueError and an AttributeError
            check_is_fitted(m)

    def test_fit_returns_self_and_learns_underscore_state(self, model: ForecastModel, ev: pd.DataFrame) -> None:
        m = clone(model)
        before = set(vars(m))
        assert m.fit(ev) is m
        learned = set(vars(m)) - before
        assert learned and all(k.endswith("_") for k in learned)
        check_is_fitted(m)

    def test_surface_shape_nonneg_masked(self, model: ForecastModel, ev: pd.DataFrame, grid: RegularGrid) -> None:
        s = clone(model).fit(ev).predict(grid, WINDOW)
        assert s.shape == grid.shape
        assert s.dtype == float
        assert np.isfinite(s).all() and (s >= 0).all()
        assert (s[~grid.mask] == 0).all()
        assert s[grid.mask].max() > 0

    def test_deterministic(self, model: ForecastModel, ev: pd.DataFrame, grid: RegularGrid) -> None:
        a = clone(model).fit(ev).predict(grid, WINDOW)
        b = clone(model).fit(ev.sample(frac=1.0, random_state=0)).predict(grid, WINDOW)  # row order is irrelevant
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)

    def test_no_future_leak(self, model: ForecastModel, ev: pd.DataFrame, grid: RegularGrid) -> None:
        past = ev[ev["t"] < pd.Timestamp(WINDOW[0])]
        future = ev[ev["t"] >= pd.Timestamp(WINDOW[0])]
        assert len(future) > 0
        a = clone(model).fit(past).predict(grid, WINDOW)
        b = clone(model).fit(pd.concat([past, future])).predict(grid, WINDOW)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)  # SEPP too: it refits on the past

    def test_family_and_shift(self, model: ForecastModel, ev: pd.DataFrame, grid: RegularGrid) -> None:
        m = clone(model).set_params(family="theft", shift="夜班")
        m.fit(ev)
        assert m.n_events_ == int(((ev["family"] == "theft") & (ev["t"].dt.hour < 8)).sum())
        target = m.target_events(ev)
        assert len(target) == m.n_events_
        s = m.predict(grid, WINDOW)
        assert s.shape == grid.shape and (s >= 0).all()

    def test_bad_params_raise_named_errors(self, model: ForecastModel, ev: pd.DataFrame) -> None:
        with pytest.raises(ConfigError, match="shift"):
            clone(model).set_params(shift="lunch").fit(ev)
        with pytest.raises(ConfigError, match="shift_weight"):
            clone(model).set_params(shift_weight=-1.0).fit(ev)
        with pytest.raises(ConfigError, match="missing column"):
            clone(model).fit(ev.drop(columns=["x"]))
        with pytest.raises(ConfigError, match="family"):
            clone(model).set_params(family="theft").fit(ev.drop(columns=["family"]))


def test_unknown_model_and_param() -> None:
    with pytest.raises(ConfigError, match="unknown model"):
        make_model("crystal_ball")
    with pytest.raises(ConfigError, match="no parameter"):
        make_model("naive", bandwidth_m=100.0)
    with pytest.raises(ConfigError, match="no parameter"):
        make_model("kde").set_params(colour="red")


def test_parameter_validation_messages(ev: pd.DataFrame) -> None:
    from anju.forecast import NaiveHotspot, ProspectiveHotspot

    with pytest.raises(ConfigError, match=r"'strategy' parameter of NaiveHotspot must be one of"):
        NaiveHotspot(strategy="best").fit(ev)
    with pytest.raises(ConfigError, match=r"'bandwidth_m' parameter of ProspectiveHotspot must be a number ≥ 0"):
        ProspectiveHotspot(bandwidth_m=-5).fit(ev)
    with pytest.raises(ConfigError, match=r"must be 0 .* or 1"):
        SEPP(shift="night", shift_weight=0.5).fit(ev)


def test_sepp_grid_cell_size_must_match(ev: pd.DataFrame) -> None:
    m = SEPP(cell_size_m=150.0).fit(ev)
    with pytest.raises(ConfigError, match=r"150\.0 m cells but the grid has 100\.0 m"):
        m.predict(RegularGrid.from_bounds(0, 0, 2999, 2999, 100.0), WINDOW)
