"""The duty CLI verbs on the demo: briefing, kpi (printed and written), import report, dosage, registry."""

from __future__ import annotations

from typing import Any

import pandas as pd
from typer.testing import CliRunner

from anju.cli import app


def _run(duty_demo: dict[str, Any], *args: str) -> Any:
    r = CliRunner().invoke(app, ["--data-dir", str(duty_demo["settings"].data_dir), "--quiet", *args])
    assert r.exit_code == 0, r.output
    return r


def test_kpi_and_briefing_commands(duty_demo: dict[str, Any]) -> None:
    r = _run(duty_demo, "kpi", "--month", "2025-12", "--explain", "arrest_rate", "--station", "PS04", "--trend", "2")
    assert "盘查抓获率" in r.output and "arrest_rate numerator" in r.output
    x = duty_demo["settings"].data_dir / "duty" / "kpi" / "kpi-2025-12.xlsx"
    k = pd.read_excel(x, sheet_name="指标", engine="calamine")
    assert set(k["kpi"]) == {"call_decline", "preventable_rate", "duty_fulfilment", "arrest_rate", "visibility"}
    trend = pd.read_excel(x, sheet_name="趋势", engine="calamine")
    assert {"2025-10", "2025-11", "2025-12"} <= set(map(str, trend.columns))
    r = _run(duty_demo, "briefing", "--date", "2025-12-30")
    assert "PS01" in r.output and (duty_demo["settings"].data_dir / "duty" / "briefings" / "2025-12-30" /
                                   "briefing.xlsx").exists()


def test_bad_month_is_a_clean_error(duty_demo: dict[str, Any]) -> None:
    r = CliRunner().invoke(app, ["--data-dir", str(duty_demo["settings"].data_dir), "kpi", "--month", "2025-13"])
    assert r.exit_code == 2 and "YYYY-MM" in r.stderr


def test_import_dosage_registry_commands(duty_demo: dict[str, Any]) -> None:
    r = _run(duty_demo, "duty", "import", "utilities", str(duty_demo["dir"] / "utilities.csv"))
    assert "62404" in r.output and "地址编码不在标准地址库" in r.output
    r = _run(duty_demo, "duty", "dosage", "--from", "2025-12-30", "--to", "2025-12-31")
    assert "停放 1 次" in r.output.replace("\n", "")
    r = _run(duty_demo, "duty", "registry", "--as-of", "2026-01-01")
    assert "疑似群租: 8" in r.output.replace("\n", "")
    r = _run(duty_demo, "duty", "coverage", "--from", "2025-12-30", "--to", "2025-12-31")
    assert "网格" in r.output


def test_import_households_puts_names_in_the_ops_database_only(tmp_path: Any) -> None:
    """`anju duty import households` keeps counts in the duty store and names/ID numbers in the ops database, masked
    forms beside; the registry export shows the masked forms only."""
    from sqlalchemy import select

    from anju.config import load_settings
    from anju.duty.imports import read_store
    from anju.ops.db import database_url, make_engine, session_factory
    from anju.ops.models import ResidentPerson

    data = tmp_path / "data"
    f = tmp_path / "hh.csv"
    pd.DataFrame({"户编号": ["H1", "H2"], "地址编码": ["A1", "A2"], "社区编码": ["C1", "C2"], "登记人数": ["2", "1"],
                  "最近核验日期": ["2020-01-01", "2025-06-01"], "户主姓名": ["王小明", "欧阳修文"],
                  "身份证号": ["43010219900101118x", "310190198505050012"]}).to_csv(f, index=False)
    r = CliRunner().invoke(app, ["--data-dir", str(data), "--quiet", "duty", "import", "households", str(f)])
    assert r.exit_code == 0, r.output
    stored = read_store(load_settings(data_dir=data), "households")
    assert len(stored) == 2 and not {"name", "id_number"} & set(stored.columns)
    raw = b"".join(p.read_bytes() for p in (data / "duty").rglob("*") if p.is_file())
    assert "王小明".encode() not in raw and b"43010219900101118" not in raw
    engine = make_engine(database_url(load_settings(data_dir=data)))
    with session_factory(engine)() as s:
        rows = {p.household_id: p for p in s.scalars(select(ResidentPerson))}
    engine.dispose()
    assert (rows["H1"].name, rows["H1"].id_number) == ("王小明", "43010219900101118X")
    assert (rows["H1"].name_masked, rows["H1"].id_masked) == ("王**", "4301**********118X")
    assert rows["H2"].name_masked == "欧阳**"
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["--data-dir", str(data), "--quiet", "duty", "registry", "--as-of", "2026-01-01",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    x = pd.read_excel(next(out.glob("*.xlsx")), dtype=str, engine="calamine")
    assert set(x["name_masked"]) == {"王**"} and "王小明" not in x.to_string()  # H1 is stale
