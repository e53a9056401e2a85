"""`anju text train | eval | classify | models | audit` through the real CLI."""

from __future__ import annotations

import csv

import pandas as pd
from typer.testing import CliRunner

from anju.cli import app


def _run(*args: str):
    # a wide console whatever the caller's terminal: rich would otherwise fold paths and truncate table cells
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "240"})


def test_train_eval_classify_models(tmp_path, cail_dir):
    d = str(tmp_path / "anju-data")
    res = _run("-q", "-d", d, "text", "train", "--task", "charge", "--data", str(cail_dir))
    assert res.exit_code == 0, res.output
    # rich folds a long temporary path over lines: compare the printed path without the line breaks
    assert "text-charge-v1.joblib" in res.output.replace("\n", "") and "准确率 / accuracy" in res.output
    from pathlib import Path

    assert list(Path(d).rglob("text-charge-v1.joblib")), "the model is stored in the data directory's model store"
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
        assert exc.code == 2
    else:
        raise AssertionError("expected exit 2")


def test_audit_command_on_an_empty_lake(tmp_path):
    res = _run("-d", str(tmp_path / "anju-data"), "text", "audit", "--out", str(tmp_path / "audit"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "audit" / "downgrade_audit.csv").exists()


def _classify(tmp_path, src, *extra: str, lang: str = "zh"):
    return CliRunner().invoke(app, ["-q", "-d", str(tmp_path / "d"), "--lang", lang, "text", "classify", str(src),
                                    "--task", "category", "--out", str(tmp_path / "out"), *extra])


def test_classify_bad_files_are_clean_errors(tmp_path):
    """Empty CSV/xlsx, a CSV renamed .xlsx, an unterminated quote, an unwritable output: exit 2, one message."""
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_bytes(b"")
    header_only = tmp_path / "header.csv"
    header_only.write_text("", encoding="utf-8")
    empty_xlsx = tmp_path / "empty.xlsx"
    pd.DataFrame().to_excel(empty_xlsx, index=False)
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_text("简要案情\n电瓶被盗\n", encoding="utf-8")
    quote = tmp_path / "quote.csv"
    quote.write_text('简要案情,地址\n"电瓶被盗,漕宝路1号\n手机被偷,漕宝路2号\n', encoding="utf-8")
    expected = {empty_csv: ("空文件", "is empty"), empty_xlsx: ("没有任何列", "has no columns"),
                renamed: ("改回 .csv", "renamed to"), quote: ("引号", "quote")}
    for src, (zh, en) in expected.items():
        for lang, word in (("zh", zh), ("en", en)):
            res = _classify(tmp_path, src, lang=lang)
            assert res.exit_code == 2, (src.name, res.output)
            assert word in res.stderr and "Traceback" not in res.output, (src.name, res.stderr)
            assert res.stderr.startswith("错误" if lang == "zh" else "error"), res.stderr
    good = tmp_path / "good.csv"
    good.write_text("简要案情\n电瓶被盗\n", encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    res = CliRunner().invoke(app, ["-q", "-d", str(tmp_path / "d"), "text", "classify", str(good), "--task",
                                   "category", "--out", str(blocker / "out")])
    assert res.exit_code == 2 and "输出目录" in res.stderr and "Traceback" not in res.output


def test_classify_empty_cells_and_long_texts(tmp_path):
    """An empty cell is left for review (never classified as "nan"); xlsx truncation is said in the summary."""
    src = tmp_path / "calls.csv"
    long_text = "电瓶被盗" + "很" * 40_000
    pd.DataFrame({"简要案情": ["电瓶被盗", None, "   ", long_text], "编号": ["J1", "J2", "J3", "J4"]}).to_csv(
        src, index=False)
    res = _classify(tmp_path, src, "--format", "xlsx")
    assert res.exit_code == 0, res.output
    said = "".join(res.output.split())  # Rich wraps long lines
    assert "2行文本为空" in said and "1个单元格超过Excel上限" in said
    df = pd.read_excel(tmp_path / "out" / "calls.category.xlsx", engine="calamine", dtype=str)
    assert df["category_method"].tolist()[1:3] == ["empty", "empty"] and len(df) == 4
    assert df["category"].tolist()[:2] == ["theft.battery", "needs_review"]
    assert "nan" not in df["category_suggestion"].fillna("").tolist()
    assert len(df["简要案情"].iloc[3]) == 32_767
    csv_src = tmp_path / "calls.csv"
    csv_src.write_text("简要案情,编号\n电瓶被盗,J1\n,J2\n", encoding="utf-8")
    res = _classify(tmp_path, csv_src, lang="en")
    assert res.exit_code == 0 and "rows with an empty text" in res.output
    out = pd.read_csv(tmp_path / "out" / "calls.category.csv", dtype=str, encoding="utf-8-sig")
    assert out["category_method"].tolist() == ["rules", "empty"] and out["简要案情"].isna().iloc[1]


def test_classify_one_column_csv_keeps_blank_lines(tmp_path):
    """A one-column CSV's empty lines are empty texts: each is an output row with method `empty`, none is dropped
    (pandas skips blank lines by default, which lost them without a trace)."""
    src = tmp_path / "texts.csv"
    src.write_text("简要案情\n电瓶被盗\n\n电动车被偷\n\n\n手机被盗\n", encoding="utf-8")
    res = _classify(tmp_path, src, lang="en")
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "out" / "texts.category.csv", dtype=str, encoding="utf-8-sig",
                      skip_blank_lines=False)
    assert len(out) == 6  # every data line of the input is a row
    assert out["category_method"].tolist() == ["rules", "empty", "rules", "empty", "empty", "rules"]
    assert "needs_review│3" in "".join(res.output.split())  # the three empty lines are left for review
