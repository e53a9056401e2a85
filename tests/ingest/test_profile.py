"""Profiles: the shipped ones load; errors name the file, key, expectation and value; lookup order."""

from __future__ import annotations

from pathlib import Path

import pytest

from anju.errors import ProfileError
from anju.ingest.profile import load_profile, shipped_profiles

CHICAGO_SPACED = ["ID", "Case Number", "Date", "Block", "IUCR", "Primary Type", "Description",
                  "Location Description", "Arrest", "Domestic", "Beat", "District", "Ward", "Community Area",
                  "FBI Code", "X Coordinate", "Y Coordinate", "Year", "Updated On", "Latitude", "Longitude",
                  "Location"]
CHICAGO_SNAKE = [c.lower().replace(" ", "_") for c in CHICAGO_SPACED]


def test_shipped_profiles() -> None:
    assert {"cn110", "chicago", "sf-kaggle"} <= set(shipped_profiles())
    cn = load_profile("cn110")
    assert cn.coords.system == "gcj02" and cn.time.timezone == "Asia/Shanghai"
    assert cn.resolve(["接警编号", "报警时间", "警情类别", "警情细类", "简要案情", "案发地址", "经度", "纬度", "报警人",
                       "报警电话", "管辖单位", "涉案金额"])["loss"] == "涉案金额"
    sf = load_profile("sf-kaggle")
    assert sf.key.fields == ["time", "category", "subcategory", "address"] and sf.resolve(["Dates", "Category", "Descript", "DayOfWeek", "PdDistrict", "Resolution",
                                       "Address", "X", "Y"])["lon"] == "X"


@pytest.mark.parametrize("header", [CHICAGO_SPACED, CHICAGO_SNAKE])
def test_chicago_alternatives_cover_both_header_styles(header: list[str]) -> None:
    r = load_profile("chicago").resolve(header)
    assert r["time"] in ("Date", "date") and r["category"] in ("Primary Type", "primary_type")
    assert r["lon"] in ("Longitude", "longitude") and r["record_key"] in ("ID", "id")


def write(tmp_path: Path, body: str, name: str = "x.toml") -> Path:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


MINIMAL = """
[profile]
name = "mine"
[columns]
record_key = "编号"
time = "日期"
category = "类别"
"""


def test_missing_column_error_names_file_key_and_choices(tmp_path: Path) -> None:
    prof = load_profile(write(tmp_path, MINIMAL))
    with pytest.raises(ProfileError) as e:
        prof.resolve(["编号", "时间", "类别"])
    msg = str(e.value)
    assert "x.toml" in msg and "[columns.time]" in msg and "'日期' not in file" in msg
    assert "available: 编号, 时间, 类别" in msg


@pytest.mark.parametrize("patch,key,needle", [
    ('[columns]\nrecord_key = "a"\ntime = "b"\ncategory = "c"\nlon = "x"\n', "columns", "both `lon` and `lat`"),
    ('[columns]\nrecord_key = "a"\ntime = "b"\ncategory = "c"\nwhen = "x"\n', "columns.when", "unknown key"),
    ('[columns]\nrecord_key = "a"\ntime = 5\ncategory = "c"\n', "columns.time", "column name"),
    ('[columns]\ntime = "b"\ncategory = "c"\n', "profile", "key.hash = true"),
    ('[columns]\nrecord_key = "a"\ntime = "b"\ncategory = "c"\n[time]\ntimezone = "Mars/Olympus"\n',
     "time.timezone", "unknown time zone"),
    ('[columns]\nrecord_key = "a"\ntime = "b"\ncategory = "c"\n[time]\nformats = ["yyyy-mm-dd"]\n',
     "time.formats", "strptime format"),
    ('[columns]\nrecord_key = "a"\ntime = "b"\ncategory = "c"\n[coords]\nsystem = "mercator"\n',
     "coords.system", "projected CRS"),
    ('[columns]\nrecord_key = "a"\ntime = "b"\ncategory = "c"\n[coords]\nsystem = "EPSG:4326"\n',
     "coords.system", "not a projected CRS"),
])
def test_invalid_profiles_are_explained(tmp_path: Path, patch: str, key: str, needle: str) -> None:
    p = write(tmp_path, '[profile]\nname = "bad"\n' + patch)
    with pytest.raises(ProfileError) as e:
        load_profile(p)
    assert f"[{key}]" in str(e.value) and needle in str(e.value) and str(p) in str(e.value)


def test_projected_crs_and_lookup_order(tmp_path: Path, data_dir: Path) -> None:
    (data_dir / "profiles").mkdir()
    write(data_dir / "profiles", MINIMAL.replace('name = "mine"', 'name = "cn110"') +
          '[coords]\nsystem = "epsg:26910"\n', "cn110.toml")
    local = load_profile("cn110", data_dir=data_dir)
    assert local.coords.system == "EPSG:26910" and local.coords.projected
    assert load_profile("cn110").coords.system == "gcj02"  # without the data dir: the shipped one
    with pytest.raises(ProfileError, match=r"no profile named 'nope'; shipped: .*cn110"):
        load_profile("nope", data_dir=data_dir)
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "missing.toml")


def test_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid UTF-8 TOML"):
        load_profile(write(tmp_path, "[profile\nname="))
