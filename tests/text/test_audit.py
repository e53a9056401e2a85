"""Downgrading audit: rules, negation, severity logic; pandas and Ibis (DuckDB) give the same table."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from anju.errors import ConfigError, TaxonomyError
from anju.taxonomy import load_taxonomy
from anju.text.audit import downgrade_audit, flag_downgrades, load_audit_rules
from shipped import RULES, TAX

ROWS = [
    # key, station, time, category, text, expected indicated, expected flagged
    ("a", "S1", "2024-03-01 10:00", "dispute.other", "双方争吵，报警人称被打伤", "assault.injury", True),
    ("b", "S1", "2024-03-02 11:00", "help.lost_property", "手机遗失，后发现是被偷了", "theft.other", True),
    ("c", "S1", "2024-03-03 12:00", "dispute.other", "未被打伤，双方争吵", None, False),
    ("d", "S2", "2024-04-01 09:00", "theft.battery", "电瓶被盗", "theft.other", False),  # same family, small gap
    ("e", "S2", "2024-04-02 09:00", "assault.beating", "被人用刀砍伤", "assault.injury", True),  # gap 2
    ("f", None, "2024-04-03 09:00", "dispute.neighbour", "邻居吵架被打了", "assault.beating", True),
    ("g", "S1", "2024-04-04 09:00", "help.lost_property", "以为被盗，后在家中找到", None, False),
    ("h", "S1", "2024-04-05 09:00", "dispute.family", "夫妻吵架，包被抢走", "robbery.robbery", True),
    ("i", "S1", "2024-04-06 09:00", "robbery.robbery", "被抢走手机", "robbery.robbery", False),  # coded right
    ("j", "S1", "2024-04-07 09:00", "dispute.other", "没有被盗，但后来电瓶被盗", "theft.other", True),  # mixed
    ("k", "S2", "2024-04-08 09:00", "other.consult", "咨询如何防止被骗", None, False),
    ("l", "S2", "2024-04-09 09:00", "dispute.other", None, None, False),
]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    tax = load_taxonomy()
    return pd.DataFrame({
        "record_key": [r[0] for r in ROWS], "station_id": [r[1] for r in ROWS],
        "reported_at": pd.to_datetime([r[2] for r in ROWS]), "category": [r[3] for r in ROWS],
        "family": [tax.family_of(r[3]) for r in ROWS], "text": [r[4] for r in ROWS]})


def test_flags_follow_the_rules(frame):
    out = flag_downgrades(frame, only_flagged=False, rules=RULES).set_index("record_key")
    for key, *_, indicated, flagged in ROWS:
        got = out.loc[key, "indicated"]
        assert (None if pd.isna(got) else got) == indicated, key
        assert bool(out.loc[key, "flagged"]) is flagged, key
    only = flag_downgrades(frame, rules=RULES)
    assert set(only["record_key"]) == {r[0] for r in ROWS if r[6]}


def test_summary_equals_an_independent_pandas_count(frame):
    res = downgrade_audit(frame, examples=2, rules=RULES)
    flags = {r[0]: r[6] for r in ROWS}
    ref = frame.assign(month=frame["reported_at"].dt.to_period("M").dt.start_time.dt.date,
                       flagged=frame["record_key"].map(flags))
    ref = ref.groupby(["station_id", "month"], dropna=False).agg(records=("record_key", "size"),
                                                                 flagged=("flagged", "sum")).reset_index()
    got = res.assign(month=pd.to_datetime(res["month"]).dt.date)
    m = ref.merge(got, on=["station_id", "month"], how="outer", suffixes=("_ref", ""))
    assert len(m) == len(ref) == len(res)
    assert (m["records_ref"] == m["records"]).all() and (m["flagged_ref"] == m["flagged"]).all()
    assert np.allclose(m["flagged_share"], m["flagged"] / m["records"])
    s1 = res[(res["station_id"] == "S1") & (pd.to_datetime(res["month"]).dt.month == 4)].iloc[0]
    assert s1["flagged"] == 2 and s1["flagged_robbery"] == 1 and s1["flagged_theft"] == 1
    lines = s1["examples"].split("\n")
    assert len(lines) == 2 and lines[0].startswith("h｜dispute.family→robbery.robbery｜")
    assert res["flagged"].is_monotonic_decreasing


def test_ibis_duckdb_gives_the_same_table(frame):
    con = ibis.duckdb.connect()
    con.con.register("inc_df", frame)
    con.con.execute("CREATE TABLE inc AS SELECT * FROM inc_df")
    t = con.table("inc")
    expr = downgrade_audit(t, examples=2, rules=RULES)
    assert isinstance(expr, ibis.expr.types.Table)
    a = expr.to_pandas()
    b = downgrade_audit(frame, examples=2, rules=RULES)
    key = ["station_id", "month"]
    a = a.sort_values(key, na_position="last").reset_index(drop=True)
    b = b.sort_values(key, na_position="last").reset_index(drop=True)
    assert a["flagged"].tolist() == b["flagged"].tolist() and a["records"].tolist() == b["records"].tolist()
    assert a["examples"].fillna("").tolist() == b["examples"].tolist()


def test_bad_inputs_and_rules(frame, tmp_path):
    with pytest.raises(ConfigError, match="missing"):
        downgrade_audit(frame.drop(columns=["station_id"]), rules=RULES)
    with pytest.raises(ConfigError):
        downgrade_audit([1, 2], rules=RULES)
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rule]]\nname = "x"\nindicates = "theft.other"\ncues = ["(?<!未)被盗"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="look-around"):
        load_audit_rules(bad, taxonomy=TAX)
    bad.write_text('[[rule]]\nname = "x"\nindicates = "theft.nothing"\ncues = ["被盗"]\n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"theft\.nothing"):
        load_audit_rules(bad, taxonomy=TAX)


def test_deployment_rules_override(frame, tmp_path):
    d = tmp_path / "anju-data"
    (d / "text").mkdir(parents=True)
    (d / "text" / "downgrade_rules.toml").write_text(
        '[meta]\nnegations = []\n[[rule]]\nname = "fraud"\nindicates = "fraud.other"\ncues = ["被骗"]\n',
        encoding="utf-8")
    rules = load_audit_rules(data_dir=d, taxonomy=TAX)
    out = flag_downgrades(frame, rules=rules)
    assert out["record_key"].tolist() == ["k"]  # no negations: "防止被骗" now counts


def cross_frame() -> pd.DataFrame:
    """Every taxonomy leaf (plus a source category unknown to it) × texts matching each rule, a negated cue and no
    cue: every (rule, coded category) pair the flag depends on."""
    texts = ["双方争吵，报警人称被打伤", "包被抢走", "手机被一把抢过", "家中被盗", "接电话被骗了", "邻居吵架被打了",
             "电瓶被盗", "未被打伤，双方争吵", "咨询噪音问题", None]
    cats = [*TAX.categories, "source.unmapped"]
    rows = [(f"k{i}-{j}", "S1", c, TAX.family_of(c) if c in TAX else "other", t)
            for i, c in enumerate(cats) for j, t in enumerate(texts)]
    df = pd.DataFrame(rows, columns=["record_key", "station_id", "category", "family", "text"])
    return df.assign(reported_at=pd.Timestamp("2025-03-01 08:00"))[list(REQUIRED_COLUMNS)]


REQUIRED_COLUMNS = ("record_key", "station_id", "reported_at", "category", "family", "text")


def test_flagged_is_what_the_rule_columns_say() -> None:
    """``flagged`` is computed per rule (a flat CASE, so Spark can filter on it without inlining the rule lookups);
    on every (rule, coded category) pair it equals the definition over the output's own columns."""
    out = flag_downgrades(cross_frame(), only_flagged=False, rules=RULES)
    ind, cs = out["indicated_severity"], out["coded_severity"]
    other = (out["indicated_family"] != out["family"]) & (ind > cs)
    same = (out["indicated_family"] == out["family"]) & ((ind - cs) >= RULES.same_family_gap)
    expected = out["indicated"].notna() & (other | same)
    assert out["flagged"].astype(bool).tolist() == expected.tolist()
    assert 50 < expected.sum() < len(out) - 50  # both outcomes well represented
    only = flag_downgrades(cross_frame(), rules=RULES)
    assert sorted(only["record_key"]) == sorted(out.loc[expected, "record_key"])
