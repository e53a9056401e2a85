"""Loss amounts (损失金额) parsed at ingest: units, separators, 万, blanks, and the sparse path."""

from __future__ import annotations

import math

import pyarrow as pa

from anju.ingest.transform import _parse_loss


def _floats(a: pa.Array) -> list[float | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in a.to_pylist()]


def test_loss_formats() -> None:
    raw = ["5000", "5,000元", "1.2万", "￥300", " 2 500 ", "约三千", "0", "3，000", "约5000元", "五千元", "１２００",
           "两万五千元", "5000余元", "一千五", "若干", "不详", "5千"]
    assert _floats(_parse_loss(pa.array(raw))) == [5000.0, 5000.0, 12000.0, 300.0, 2500.0, 3000.0, 0.0, 3000.0,
                                                   5000.0, 5000.0, 1200.0, 25000.0, 5000.0, 1500.0, None, None,
                                                   None]


def test_unreadable_loss_values_are_counted_in_the_report(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    from anju.ingest import ingest_file
    from anju.ingest.sample import cn110_sample, write_csv

    t = cn110_sample(100, seed=5)
    loss = ["若干"] * 3 + ["五千元", "1.2万"] + [None] * 95
    t = t.set_column(t.schema.get_field_index("涉案金额"), "涉案金额", pa.array(loss, pa.string()))
    report = ingest_file(settings, write_csv(t, tmp_path / "loss.csv"))
    assert report.unparsed_values == {"loss": 3}
    assert report.rows_loaded == 100  # the rows load; only the amount is empty

    # `anju status` shows them per field, summed over the imports, in Chinese by default and in English
    from typer.testing import CliRunner

    from anju.cli import app

    t2 = cn110_sample(50, seed=6, first_id=9000)
    t2 = t2.set_column(t2.schema.get_field_index("涉案金额"), "涉案金额", pa.array(["不详"] * 2 + [None] * 48, pa.string()))
    assert ingest_file(settings, write_csv(t2, tmp_path / "loss2.csv")).unparsed_values == {"loss": 2}
    env = {"ANJU_SECRET": str(settings.secret), "COLUMNS": "200"}
    base = ["-d", str(settings.data_dir), "-q"]
    zh = CliRunner().invoke(app, [*base, "status"], env=env)
    assert zh.exit_code == 0, zh.output
    assert "无法识别的值" in zh.output and "涉案金额" in zh.output
    line = next(x for x in zh.output.splitlines() if "(loss)" in x)
    assert line.rstrip(" │|").split()[-1] == "5"
    en = CliRunner().invoke(app, [*base, "--lang", "en", "status"], env=env)
    assert en.exit_code == 0, en.output
    line = next(x for x in en.output.splitlines() if "(loss)" in x)
    assert "loss amounts" in line and "无法" not in en.output and line.rstrip(" │|").split()[-1] == "5"


def test_loss_sparse_values_land_on_their_rows() -> None:
    raw: list[str | None] = [None] * 1000
    raw[3], raw[500], raw[999] = "1.5万", "800元", "abc"
    got = _floats(_parse_loss(pa.array(raw, pa.string())))
    want: list[float | None] = [None] * 1000
    want[3], want[500] = 15000.0, 800.0
    assert got == want
    assert _floats(_parse_loss(pa.nulls(5, pa.string()))) == [None] * 5
    assert _parse_loss(pa.array([], pa.string())).to_pylist() == []
