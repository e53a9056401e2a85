from pathlib import Path

import numpy as np
import pytest

from anju.errors import TaxonomyError
from anju.taxonomy import load_mapping, load_taxonomy
from anju.taxonomy.loader import default_taxonomy_path


def test_shipped_taxonomy_covers_the_issue():
    tax = load_taxonomy()
    assert len(tax.families) >= 8
    assert len(tax) >= 40
    fraud = {tax[c].zh for c in tax.codes(family="fraud")}
    for technique in ["刷单返利诈骗", "冒充客服诈骗", "冒充公检法诈骗", "虚假贷款诈骗", "虚假购物诈骗", "游戏交易诈骗"]:
        assert technique in fraud
    # every non-police matter names its department
    for code in tax.codes():
        c = tax[code]
        assert c.police or c.department


def test_table_has_one_row_per_leaf():
    tax = load_taxonomy()
    t = tax.table
    assert t.num_rows == len(tax)
    assert set(t.column("family").to_pylist()) == set(tax.families)


def _write_bad(tmp_path: Path, old: str, new: str) -> Path:
    text = default_taxonomy_path().read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "taxonomy.toml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def test_bad_file_names_file_key_and_problem(tmp_path):
    p = _write_bad(tmp_path, "severity = 3.0", 'severity = "high"')
    with pytest.raises(TaxonomyError) as exc:
        load_taxonomy(p)
    msg = str(exc.value)
    assert str(p) in msg and "severity" in msg and "theft.burglary" in msg


def test_unknown_family_is_rejected(tmp_path):
    p = _write_bad(tmp_path, 'family = "theft"', 'family = "thieving"')
    with pytest.raises(TaxonomyError, match="thieving"):
        load_taxonomy(p)


def test_deployment_override_wins(tmp_path):
    p = _write_bad(tmp_path, 'zh = "入室盗窃"', 'zh = "入户盗窃"')
    tax = load_taxonomy(data_dir=tmp_path)
    assert tax["theft.burglary"].zh == "入户盗窃"
    assert p.exists()


def test_cn110_mapping_order_and_unknowns():
    tax = load_taxonomy()
    m = load_mapping("cn110", taxonomy=tax)
    codes, known = m.map(["盗窃", "盗窃", "诈骗", "不存在", None], ["入室盗窃", "奇怪细类", "刷单返利诈骗", None, None])
    assert list(codes) == ["theft.burglary", "theft.other", "fraud.rebate", "other.unknown", "other.unknown"]
    assert known.tolist() == [True, True, True, False, False]
    assert codes.dtype == np.dtype(object)


def test_mapping_to_unknown_code_fails(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('[mapping]\nsource = "x"\n[category]\n"盗窃" = "theft.nope"\n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"theft\.nope"):
        load_mapping(p, taxonomy=load_taxonomy())


def test_docs_list_every_leaf():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    tax = load_taxonomy()
    for code in tax.codes():
        assert f"`{code}`" in doc, f"{code} is not documented in docs/taxonomy.md"
