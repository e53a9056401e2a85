"""Run the worked example of docs/ingest.md: its profile and mapping files, on a workbook made here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from anju.config import Settings
from anju.errors import ProfileError
from anju.ingest import check_file, ingest_file
from anju.lake import connect

DOC = Path(__file__).resolve().parents[2] / "docs" / "ingest.md"

HEADER = ["警情编号", "报警日期", "报警时刻", "案由", "案情描述", "事发地点", "百度经度", "百度纬度", "报警人姓名", "联系方式",
          "身份证号", "处警单位", "损失金额(元)"]


def doc_files() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- file: (\S+) -->\n```toml\n(.*?)```", text, flags=re.S))


def workbook(path: Path) -> Path:
    import xlsxwriter

    from anju.geo.coords import wgs84_to_bd09

    rows = [
        ["CN2024030001", "2024/3/2", "14:30", "盗窃电动车", "报警人王小明称电动车在楼下被盗，电话13912345678", "城南路1号"],
        ["CN2024030002", "2024/3/2", "15:05", "邻里纠纷", "楼上漏水引发纠纷", "城南路8号"],
        ["CN2024030003", "2024/3/3", "9:10", "电信诈骗-刷单", "刷单被骗", "城南路20号"],
        ["CN2024030004", "2024/3/3", "22:40", "醉酒闹事", "酒后吵闹", "城南路3号"],  # not in the mapping
        ["CN2024030005", "2024/2/30", "9:00", "噪音", "装修噪音", "城南路5号"],  # no 30 February
        ["CN2024030001", "2024/3/4", "10:00", "入室盗窃", "重复编号", "城南路9号"],  # duplicate id
    ]
    lon, lat = wgs84_to_bd09([121.40 + 0.001 * i for i in range(len(rows))], [31.12] * len(rows))
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("警情")
    ws.write(0, 0, "城南分局2024年警情导出")
    ws.write_row(1, 0, HEADER)
    for i, r in enumerate(rows):
        ws.write_row(i + 2, 0, r)
        ws.write_number(i + 2, 6, float(lon[i]))
        ws.write_number(i + 2, 7, float(lat[i]))
        ws.write_string(i + 2, 8, ["王小明", "李四", "欧阳娜娜", "赵六", "钱七", "孙八"][i])
        ws.write_number(i + 2, 9, 13912345678 + i)
        ws.write_string(i + 2, 10, "310101199001011234")
        ws.write_string(i + 2, 11, "城南派出所")
        ws.write_string(i + 2, 12, "3,200" if i == 0 else "")
    wb.close()
    return path


@pytest.fixture
def example(settings: Settings, tmp_path: Path) -> Path:
    files = doc_files()
    assert set(files) == {"profiles/chengnan.toml", "mappings/chengnan.toml"}
    for rel, body in files.items():
        p = settings.data_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body, encoding="utf-8")
    return workbook(tmp_path / "城南分局警情.xlsx")


def test_the_documented_mistake_gives_the_documented_error(settings: Settings, example: Path) -> None:
    prof = settings.data_dir / "profiles" / "chengnan.toml"
    prof.write_text(prof.read_text(encoding="utf-8").replace("skip_rows = 1", "skip_rows = 0"), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"chengnan\.toml: \[columns\.record_key\]: column '警情编号' not in "
                                           r"file; available: 城南分局2024年警情导出; the header has a single column — is there a title "
                                           r"row above it \(\[read\]\.skip_rows\)"):
        check_file(settings, example, profile="chengnan")


def test_the_worked_example_runs(settings: Settings, example: Path) -> None:
    rep = check_file(settings, example, profile="chengnan")
    assert {f["row"]: f["reason"] for f in rep.failures} == {5: "bad_time", 6: "duplicate_key"}
    assert rep.unknown_categories == {"醉酒闹事": 1}
    assert "身份证号" in rep.unmapped_columns
    assert not settings.paths.lake.exists()

    report = ingest_file(settings, example, profile="chengnan")
    assert (report.rows_read, report.rows_loaded) == (6, 4)
    assert report.quarantine_by_reason == {"bad_time": 1, "duplicate_key": 1}
    with connect(settings) as lake:
        inc = lake.incidents().execute().set_index("source_row").sort_index()
        raw = lake.quarantine().execute()["raw"].str.cat()
    assert list(inc["category"]) == ["theft.nonmotor", "dispute.neighbour", "fraud.rebate", "other.unknown"]
    assert str(inc.loc[1, "reported_at"]) == "2024-03-02 14:30:00"
    assert abs(inc.loc[1, "lon"] - 121.40) < 1e-6 and abs(inc.loc[1, "lat"] - 31.12) < 1e-6  # BD-09 → WGS-84
    assert inc.loc[1, "loss_yuan"] == 3200.0
    assert inc.loc[1, "text"] == "报警人王**称电动车在楼下被盗，电话139****5678"
    assert inc.loc[3, "caller_masked"] == "欧阳**"
    assert "310101199001011234" not in raw and "***" in raw  # the extra personal column, masked in quarantine
    assert ingest_file(settings, example, profile="chengnan").skipped_duplicate_file
