"""Rubric validation, versions in force, scoring and titles on hand-made inputs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from anju.analytics.assessment import commendations, movement, score_month
from anju.analytics.rubric import default_rubric_dir, load_rubric, load_rubrics, rubric_for
from anju.errors import ConfigError

SHIPPED = default_rubric_dir() / "2025.1.toml"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _variant(tmp_path: Path, old: str, new: str, name: str = "x.toml") -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    return _write(tmp_path / name, text.replace(old, new, 1))


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ("weight = 40", "weight = 45", None, "add up to 100"),
    ('input = "collection_rate"', 'input = "colection_rate"', "indicator.1.input", "unknown input"),
    ("full = 0.95\nzero = 0.70", "full = 0.70\nzero = 0.95", "indicator.1", "must be above"),
    ("per_case = 8", "", "indicator.0", "per_case"),
    ('effective_from = "2024-01"', 'effective_from = "2024-13"', "effective_from", "YYYY-MM"),
    ("min_drop = 0.40", "min_drop = 1.5", "titles.control.min_drop", "less than or equal"),
    ("above = 0.05", "above = 0.05\nbelow = 0.01", "deduction.0", "exactly one"),
    ("months_with_title = 3", "months_with_title = 3\nmonths = 2", "commendation.months", "Extra inputs"),
])
def test_validation_errors_name_the_file_and_key(tmp_path: Path, old: str, new: str, key: str | None,
                                                 words: str) -> None:
    p = _variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_rubric(p)
    msg = str(err.value)
    assert str(p) in msg and words in msg
    if key:
        assert f"[{key}]" in msg


def test_shipped_rubric_is_valid_and_its_weights_add_up() -> None:
    r = load_rubric(SHIPPED)
    assert sum(i.weight for i in r.indicator) == 100
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert [i["id"] for i in raw["indicator"]] == [i.id for i in r.indicator]


def test_the_version_in_force_scores_each_month(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    _variant(data_dir / "rubrics", 'version = "2025.1"\neffective_from = "2024-01"',
             'version = "2026.1"\neffective_from = "2026-03"', "2026.1.toml")
    rubrics = load_rubrics(data_dir)
    assert [r.version for r in rubrics] == ["2025.1", "2026.1"]
    assert rubric_for("2026-02", rubrics).version == "2025.1"
    assert rubric_for("2026-03", rubrics).version == "2026.1"
    assert rubric_for("2027-01", rubrics).version == "2026.1"
    with pytest.raises(ConfigError, match="no assessment rubric is in force in 2023-12"):
        rubric_for("2023-12", rubrics)
    # a deployment file with a shipped version replaces it
    _variant(data_dir / "rubrics", "per_case = 8", "per_case = 5", "mine.toml")
    assert rubric_for("2025-01", load_rubrics(data_dir)).indicator[0].per_case == 5


def test_two_versions_in_the_same_month_are_refused(tmp_path: Path) -> None:
    _variant(tmp_path / "rubrics", 'version = "2025.1"', 'version = "2025.2"', "b.toml")
    with pytest.raises(ConfigError, match="same month"):
        load_rubrics(tmp_path)


def _inputs(**over: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "area_id": ["a", "b", "c", "d"], "preventable": [0, 2, 6, 1], "preventable_prev": [1, 10, 6, 1],
        "collection_rate": [1.0, 0.95, 0.70, 0.825], "stale_share": [0.0, 0.0, 0.5, 0.0],
        "patrol_compliance": [1.0, 0.95, 0.60, None], "fast_scan_share": [0.0, 0.0, 0.2, 0.0],
        "camera_uptime": [1.0, 0.95, 0.5, 0.725], "satisfaction_rate": [1.0, 0.95, 0.6, 0.775],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_scores_follow_the_rubric_arithmetic() -> None:
    r = rubric_for("2025-06", load_rubrics())
    s = score_month(_inputs(), r).set_index("area_id")
    # b: 40 − 2×8 = 24 plus full marks elsewhere
    assert s.loc["b", "pts_preventable"] == 24 and s.loc["b", "score"] == 84
    # c: no points anywhere (cases 6 → 40 − 48 < 0, all rates at their zero), minus both deductions, floored at 0
    assert s.loc["c", "score"] == 0 and s.loc["c", "ded_fake_scans"] == 5 and s.loc["c", "ded_stale_records"] == 3
    # d: midway rates give half points; the missing patrol figure scores nothing and is listed
    assert s.loc["d", "pts_collection"] == pytest.approx(7.5)
    assert s.loc["d", "pts_patrol"] == 0 and s.loc["d", "missing"] == ["patrol"]
    assert s.loc["d", "score"] == pytest.approx(32 + 7.5 + 7.5 + 5)
    contrib = s[[c for c in s.columns if c.startswith("pts_")]].sum(axis=1) - s.loc[:, ["ded_fake_scans",
                                                                                       "ded_stale_records"]].sum(axis=1)
    assert (contrib.clip(lower=0).round(2) == s["score"]).all()
    assert s.loc["a", "title"] == "zero_case" and s.loc["a", "title_zh"] == "零发案小区"
    # b fell 80 % but scored 84 < 85: no title; with one more point of satisfaction… still needs 85
    assert s.loc["b", "title"] == ""
    s2 = score_month(_inputs(preventable=[0, 2, 6, 1], collection_rate=[1, 1, 0.7, 0.825],
                             patrol_compliance=[1, 1, 0.6, 1]), r).set_index("area_id")
    assert s2.loc["b", "score"] == 84  # rates above full still cap at the weight
    s3 = score_month(_inputs(preventable=[0, 1, 6, 1]), r).set_index("area_id")
    assert s3.loc["b", "title"] == "control" and s3.loc["b", "yoy_change"] == pytest.approx(-0.9)
    assert s.attrs["rubric"] == "2025.1"
    assert list(s["rank"]) == sorted(s["rank"])


def test_control_title_needs_enough_cases_last_year() -> None:
    r = rubric_for("2025-06", load_rubrics())
    s = score_month(_inputs(preventable=[0, 1, 6, 1], preventable_prev=[0, 2, 6, 1]), r).set_index("area_id")
    assert s.loc["b", "title"] == ""  # 2 → 1 is −50 % but below min_prev = 3


def test_missing_input_columns_are_refused_with_their_names() -> None:
    r = rubric_for("2025-06", load_rubrics())
    with pytest.raises(ValueError, match="camera_uptime"):
        score_month(_inputs().drop(columns="camera_uptime"), r)


def test_movement_and_commendations() -> None:
    r = rubric_for("2025-06", load_rubrics())
    m1 = score_month(_inputs(), r)
    m2 = score_month(_inputs(preventable=[0, 0, 6, 1]), r)
    m3 = score_month(_inputs(preventable=[0, 0, 0, 1]), r)
    mv = movement(m2, m1).set_index("area_id")
    assert mv.loc["b", "rank_change"] == 1 and bool(mv.loc["b", "title_gained"])
    c = commendations([m1, m2, m3], r)
    assert c["area_id"].tolist() == ["a"]  # b lacked a title in month 1, c only has one
    assert c.loc[0, "titles"] == ["zero_case"] * 3
