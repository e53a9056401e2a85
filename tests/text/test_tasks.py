"""The task services on real data: CAIL2018 charges (goal ≥ 0.95 accuracy), Teddy Cup departments (goal ≥ 0.90
macro-F1), training from a file and from the lake, label checks, rules fallback."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from text_synth import make_corpus

from anju.config import load_settings
from anju.deployment import load_deployment
from anju.errors import ConfigError, DataNotFoundError, IngestError
from anju.taxonomy import load_taxonomy
from anju.text.classify import NEEDS_REVIEW
from anju.text.models import load_model
from anju.text.tasks import classify_file, classify_texts, evaluate_task, load_departments, train_task
from shipped import RULES


@pytest.fixture(scope="module")
def charge_dir(tmp_path_factory, cail_dir) -> tuple[Path, object]:
    d = tmp_path_factory.mktemp("charge") / "anju-data"
    settings = load_settings(data_dir=d)
    info = train_task(load_deployment(settings), "charge", cail_dir)
    return d, info


def test_cail_theft_fraud_assault_accuracy_goal(charge_dir):
    _, info = charge_dir
    m = info.metrics
    assert info.labels == ["assault", "fraud", "theft"]
    assert "gb18030" in info.data_source
    assert info.n_test == m["n"] and info.n_test + info.n_train > 700
    assert m["accuracy"] >= 0.95, m
    assert m["per_class"]["theft"]["support"] >= 10  # every label is in the held-out part


def test_eval_reproduces_the_card(charge_dir):
    d, info = charge_dir
    res = evaluate_task(load_deployment(load_settings(data_dir=d)), "charge")
    assert res["data_matches_card"] is True
    assert res["metrics"]["accuracy"] == pytest.approx(info.metrics["accuracy"])
    assert res["metrics"]["confusion"] == info.metrics["confusion"]


def test_classify_texts_with_the_saved_model(charge_dir):
    d, _ = charge_dir
    res, info = classify_texts(load_deployment(load_settings(data_dir=d)), "charge",
                               ["被告人张某趁无人之机盗窃电动车一辆，价值3000元", "被告人以投资为名骗取被害人人民币5万元",
                                "被告人持刀将被害人砍伤，经鉴定为轻伤"])
    assert res["label"].tolist() == ["theft", "fraud", "assault"] and info is not None


@pytest.mark.slow
def test_teddy_department_routing_macro_f1_goal(tmp_path, teddy_dir):
    settings = load_settings(data_dir=tmp_path / "anju-data")
    info = train_task(load_deployment(settings), "department", teddy_dir)
    m = info.metrics
    assert set(info.labels) == set(load_departments().names)
    from anju.text.corpora import load_teddy_messages

    counts = load_teddy_messages(teddy_dir)["label"].value_counts()
    assert info.n_test == sum(round(0.2 * n) for n in counts)  # the fixed split: 20 % of each department
    assert m["macro_f1"] >= 0.90, m["macro_f1"]
    assert m["coverage"] > 0.9 and m["accepted_accuracy"] >= m["accuracy"]
    assert m["ece"] < 0.1  # calibrated


def test_category_from_a_labelled_file_and_label_checks(tmp_path):
    settings = load_settings(data_dir=tmp_path / "anju-data")
    texts, labels = make_corpus(n_per_label=25, seed=4)
    f = tmp_path / "train.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(f, index=False)
    info = train_task(load_deployment(settings), "category", f)
    assert info.metrics["accuracy"] >= 0.9
    clf, card = load_model(settings.paths.models, "category")
    assert card.version == 1 and clf.rules is not None
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"text": texts[:10], "label": ["theft.nonexistent"] * 10}).to_csv(bad, index=False)
    with pytest.raises(IngestError, match=r"theft\.nonexistent"):
        train_task(load_deployment(settings), "category", bad)
    with pytest.raises(IngestError, match="fraud family"):
        train_task(load_deployment(settings), "fraud", f)  # non-fraud labels for the fraud task


def test_fraud_model_from_the_lake(tmp_path):
    ingest = pytest.importorskip("anju.ingest")
    tax = load_taxonomy()
    d = tmp_path / "anju-data"
    settings = load_settings(data_dir=d)
    texts, labels = make_corpus(n_per_label=30, seed=2)
    rows = [["接警编号", "报警时间", "警情类别", "警情细类", "简要案情", "案发地址", "经度", "纬度", "报警人", "报警电话",
             "管辖单位", "涉案金额"]]
    for i, (t, lab) in enumerate(zip(texts, labels, strict=True)):
        c = tax[lab]
        rows.append([f"J{i:06d}", f"2024年3月{1 + i % 28}日 {i % 24}时{i % 60:02d}分", tax.families[c.family].zh, c.zh,
                     t, "闵行区漕宝路1号", "121.38", "31.16", "张三", "13812345678", "七宝派出所", ""])
    downgraded = ["双方争吵，报警人被打伤", "手机遗失，后发现被偷了", "因琐事纠纷，包被抢走"]
    for j, (t, lab) in enumerate(zip(downgraded, ["dispute.other", "help.lost_property", "dispute.other"],
                                     strict=True)):
        c = tax[lab]
        rows.append([f"K{j:06d}", "2024年4月2日 10时00分", tax.families[c.family].zh, c.zh, t, "闵行区漕宝路1号",
                     "121.38", "31.16", "", "", "七宝派出所", ""])
    csv_path = tmp_path / "calls.csv"
    with csv_path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)
    ingest.ingest_file(settings, csv_path)
    info = train_task(load_deployment(settings), "fraud")
    assert info.labels == ["fraud.fake_service", "fraud.rebate"]
    assert info.data_source.startswith("lake:")
    assert info.n_train + info.n_test == len({t for t, lab in zip(texts, labels, strict=True) if lab.startswith("fraud")})
    res, _ = classify_texts(load_deployment(settings), "fraud", ["做刷单任务返佣金被骗3000元", "假客服称可以退款理赔被骗2万元"])
    assert res["label"].tolist() == ["fraud.rebate", "fraud.fake_service"]
    # the audit runs on the real lake view (Ibis over DuckDB): only the three planted rows are flagged
    from anju.lake import connect
    from anju.text.audit import downgrade_audit

    with connect(settings) as lake:
        audit = downgrade_audit(lake.incidents(), rules=RULES).to_pandas()
    assert audit["records"].sum() == len(texts) + 3
    assert audit["flagged"].sum() == 3
    april = audit[audit["month"].astype(str).str.startswith("2024-04")].iloc[0]
    assert (april["flagged_assault"], april["flagged_theft"], april["flagged_robbery"]) == (1, 1, 1)


def test_rules_fallback_and_missing_models(tmp_path):
    settings = load_settings(data_dir=tmp_path / "anju-data")
    res, info = classify_texts(load_deployment(settings), "category", ["报警人称电动车电瓶被盗", "今天天气不错"])
    assert info is None
    assert res["label"].tolist() == ["theft.battery", NEEDS_REVIEW]
    assert res["method"].tolist() == ["rules", "review"]
    with pytest.raises(DataNotFoundError, match="charge"):
        classify_texts(load_deployment(settings), "charge", ["x"])
    with pytest.raises(ConfigError, match="unknown text task"):
        classify_texts(load_deployment(settings), "nope", ["x"])
    with pytest.raises(DataNotFoundError, match="teddy-cup"):
        train_task(load_deployment(settings), "department")


def test_classify_file_masks_and_labels(tmp_path):
    settings = load_settings(data_dir=tmp_path / "anju-data")
    src = tmp_path / "in.xlsx"
    pd.DataFrame({"简要案情": ["电瓶被盗，联系电话13812345678", "楼上装修噪音扰民"], "报警人": ["张三", "欧阳修"],
                  "报警电话": ["13812345678", "021-64381234"]}).to_excel(src, index=False)
    seen = []
    out = tmp_path / "out.csv"
    summary = classify_file(load_deployment(settings), "category", src, out, on_progress=lambda d, t: seen.append((d, t)))
    assert summary["rows"] == 2 and summary["method"] == "rules" and seen[-1] == (2, 2)
    df = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert df["简要案情"].iloc[0] == "电瓶被盗，联系电话138****5678"
    assert df["报警人"].tolist() == ["张*", "欧**"] and df["报警电话"].tolist() == ["138****5678", "021****1234"]
    assert df["category"].tolist() == ["theft.battery", "noise.residential"]
    assert df["category_label"].tolist() == ["电瓶盗窃", "生活噪音"]
    assert not out.read_bytes().count(b"13812345678")
    with pytest.raises(IngestError, match=r"\.csv or \.xlsx"):
        classify_file(load_deployment(settings), "category", src, tmp_path / "out.json")


def test_departments_override_is_validated(tmp_path):
    d = tmp_path / "anju-data"
    (d / "text").mkdir(parents=True)
    (d / "text" / "departments.toml").write_text('[[department]]\nname = "街道办"\nkeywords = ["路灯"]\n'
                                                '[[department]]\nname = "市场监管"\n', encoding="utf-8")
    deps = load_departments(d)
    assert deps.names == ("街道办", "市场监管")
    (d / "text" / "departments.toml").write_text('[[department]]\nname = "街道办"\ncolour = "red"\n',
                                                encoding="utf-8")
    with pytest.raises(ConfigError, match=r"departments.toml.*colour"):
        load_departments(d)


def test_tasks_take_the_deployment_and_read_no_configuration(tmp_path, monkeypatch):
    """The caller's deployment is used as given: the task functions load no taxonomy of their own."""
    import anju.taxonomy

    dep = load_deployment(load_settings(data_dir=tmp_path / "anju-data"))

    def refuse(*a, **k):
        raise AssertionError("the text tasks must use the deployment's taxonomy, not load one")

    monkeypatch.setattr(anju.taxonomy, "load_taxonomy", refuse)
    res, info = classify_texts(dep, "category", ["报警人称电动车电瓶被盗"])
    assert info is None and res["label"].tolist() == ["theft.battery"]
