"""Real corpora loaders (Teddy Cup messages, CAIL2018 GB18030) and the fixed held-out split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anju.errors import DataNotFoundError, IngestError
from anju.text.corpora import (
    data_hash,
    fixed_split,
    load_cail_charges,
    load_labelled_file,
    load_teddy_messages,
)
from anju.text.normalize import normalize

DEPARTMENTS = {"城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"}


@pytest.fixture(scope="module")
def teddy(teddy_dir):
    return load_teddy_messages(teddy_dir)


def test_teddy_messages(teddy):
    assert set(teddy["label"]) == DEPARTMENTS
    assert 2000 < len(teddy) <= 1842 + 495
    assert teddy["text"].is_unique
    assert not teddy["text"].str.contains(r"[\t\n]").any()
    assert set(teddy["source"]) == {"full/附件2_A", "sample/附件2"}


def test_cail_read_as_gb18030_equals_utf8_copy(cail_dir):
    gb = load_cail_charges(cail_dir / "data_train.json")
    u8 = load_cail_charges(cail_dir / "data_train.utf8.json")
    assert gb.attrs["encoding"] == "gb18030" and u8.attrs["encoding"] == "utf-8"
    assert gb["text"].tolist() == u8["text"].tolist() and gb["label"].tolist() == u8["label"].tolist()
    with pytest.raises(UnicodeDecodeError):
        (cail_dir / "data_train.json").read_bytes().decode("utf-8")


def test_cail_definition_single_charge(cail_dir):
    df = load_cail_charges(cail_dir)
    assert set(df["label"]) == {"theft", "fraud", "assault"}
    assert dict(zip(df["charge"], df["label"], strict=True)) == {"盗窃": "theft", "诈骗": "fraud", "故意伤害": "assault"}
    # independent count straight from the UTF-8 copy: exactly one accusation, one of the three
    facts = set()
    with (cail_dir / "data_train.utf8.json").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            acc = rec["meta"]["accusation"]
            if len(acc) == 1 and acc[0] in ("盗窃", "诈骗", "故意伤害"):
                facts.add(normalize([rec["fact"]])[0])
    assert len(df) == len(facts)


def test_fixed_split_is_stratified_and_order_independent(teddy):
    texts, labels = teddy["text"].tolist(), teddy["label"].tolist()
    m = fixed_split(texts, labels, 0.2)
    for lab in DEPARTMENTS:
        n = sum(1 for x in labels if x == lab)
        k = sum(1 for x, t in zip(labels, m, strict=True) if x == lab and t)
        assert k == round(0.2 * n)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(texts))
    m2 = fixed_split([texts[i] for i in perm], [labels[i] for i in perm], 0.2)
    assert {texts[i] for i in perm[m2]} == {t for t, x in zip(texts, m, strict=True) if x}
    assert data_hash(texts, labels) == data_hash([texts[i] for i in perm], [labels[i] for i in perm])
    assert data_hash(texts, labels) != data_hash(texts[1:], labels[1:])
    with pytest.raises(IngestError):
        fixed_split(texts, labels, 1.5)


def test_fixed_split_keeps_test_rows_when_data_grows():
    texts = [f"样本{i}" for i in range(200)]
    labels = ["a"] * 200
    before = {t for t, m in zip(texts, fixed_split(texts, labels, 0.2), strict=True) if m}
    more = texts + [f"新增{i}" for i in range(20)]
    after = {t for t, m in zip(more, fixed_split(more, ["a"] * 220, 0.2), strict=True) if m}
    assert len(before & after) >= len(before) - 2  # the lowest hashes stay the lowest; only a few drop out


def test_labelled_file_csv_gb18030_and_xlsx(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"简要案情": ["电动车被盗", "邻居吵架", "电动车被盗"], "类别": ["theft.nonmotor", "dispute.neighbour",
                                                                        "theft.nonmotor"]})
    p = tmp_path / "x.csv"
    df.to_csv(p, index=False, encoding="gb18030")
    out = load_labelled_file(p)
    assert out["text"].tolist() == ["电动车被盗", "邻居吵架"] and out["label"].tolist() == ["theft.nonmotor",
                                                                                      "dispute.neighbour"]
    x = tmp_path / "x.xlsx"
    df.to_excel(x, index=False)
    assert load_labelled_file(x).equals(out)
    with pytest.raises(IngestError, match="--text-column"):
        load_labelled_file(p, text_column="nope")
    with pytest.raises(DataNotFoundError):
        load_labelled_file(tmp_path / "missing.csv")
