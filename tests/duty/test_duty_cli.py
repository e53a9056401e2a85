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
