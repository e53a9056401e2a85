"""`anju text train | eval | classify | models | audit` through the real CLI."""

from __future__ import annotations

import csv

import pandas as pd
from typer.testing import CliRunner

from anju.cli import app


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_train_eval_classify_models(tmp_path, cail_dir):
    d = str(tmp_path / "anju-data")
    res = _run("-q", "-d", d, "text", "train", "--task", "charge", "--data", str(cail_dir))
    assert res.exit_code == 0, res.output
    assert "text-charge-v1.joblib" in res.output and "准确率 / accuracy" in res.output
    res = _run("-d", d, "text", "eval")
    assert res.exit_code == 0 and "same data as at training" in res.output
    res = _run("-d", d, "text", "models")
    assert res.exit_code == 0 and "charge" in res.output
    src = tmp_path / "facts.csv"
    with src.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["案情", "报警电话"])
        w.writerow(["被告人盗窃电动车一辆，联系电话13812345678", "13812345678"])
        w.writerow(["被告人以投资为名骗取被害人人民币5万元", "13900001111"])
    res = _run("-q", "-d", d, "text", "classify", str(src), "--task", "charge", "--out", str(tmp_path / "out"),
               "--format", "xlsx")
    assert res.exit_code == 0, res.output
    df = pd.read_excel(tmp_path / "out" / "facts.charge.xlsx", engine="calamine", dtype=str)
    assert df["charge"].tolist() == ["theft", "fraud"] and df["charge_label"].tolist() == ["盗窃", "诈骗"]
    assert df["案情"].iloc[0].endswith("138****5678") and df["报警电话"].iloc[1] == "139****1111"


def test_missing_model_is_a_clean_error(tmp_path, monkeypatch):
    import sys

    from anju import cli

    src = tmp_path / "in.csv"
    src.write_text("text\n市民反映学校乱收费\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["anju", "-d", str(tmp_path / "d"), "text", "classify", str(src), "--task",
                                      "charge", "--out", str(tmp_path / "o")])
    try:
        cli.main()
    except SystemExit as exc:
        assert exc.code == 1
    else:
        raise AssertionError("expected exit 1")


def test_audit_command_on_an_empty_lake(tmp_path):
    res = _run("-d", str(tmp_path / "anju-data"), "text", "audit", "--out", str(tmp_path / "audit"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "audit" / "downgrade_audit.csv").exists()
