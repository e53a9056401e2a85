"""The generated cn110 CSV: format, determinism, and the planted properties later analytics must find.

Every property is recomputed here from the CSV itself (pandas + point-in-polygon on the GeoJSON), independently of the
generator's own tallies, and compared with the documented parameters (docs/demo-district.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from blake3 import blake3
from scipy import stats

from anju.demo.calls import CN110_COLUMNS
from anju.demo.generate import generate_files
from anju.demo.model import FRAUD_LOSS, LEAF_MIX
from anju.files import file_blake3
from anju.taxonomy import load_mapping, load_taxonomy


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_csv_is_gbk_with_exact_cn110_columns(demo_files, calls) -> None:
    raw = demo_files.csv.read_bytes()
    text = raw.decode("gbk")  # strict: raises if anything is not GBK
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GBK, not UTF-8 that happens to decode
    header = text.split("\n", 1)[0].replace('"', "").split(",")
    assert header == list(CN110_COLUMNS)
    assert list(calls.columns[:12]) == list(CN110_COLUMNS)
    assert len(calls) == demo_files.rows == demo_files.truth["realized"]["rows"]
    # about 450k calls a year at scale 1
    per_year = calls.groupby("year").size()
    assert set(per_year.index.astype(int)) == {2023, 2024, 2025}
    assert (per_year / 0.05).between(420_000, 480_000).all()
    # times look like 2024年3月2日 14时30分; categories are taxonomy labels
    ok = calls["ts"].notna()
    assert ok.mean() > 0.998
    tax = load_taxonomy()
    fam_zh = {f.zh for f in tax.families.values()}
    leaf_zh = {c.zh for c in tax.categories.values()}
    assert calls["警情类别"].isin(fam_zh).mean() > 0.999
    assert calls["警情细类"].isin(leaf_zh).mean() > 0.999
    assert calls["报警电话"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert calls["管辖单位"].str.endswith("派出所").all()


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = generate_files(tmp_path / "a", seed=5, scale=0.005, end_year=2025, years=1)
    b = generate_files(tmp_path / "b", seed=5, scale=0.005, end_year=2025, years=1)
    c = generate_files(tmp_path / "c", seed=6, scale=0.005, end_year=2025, years=1)
    assert _sha(a.csv) == _sha(b.csv)
    assert a.manifest["csv_blake3"] == blake3(a.csv.read_bytes()).hexdigest() == file_blake3(a.csv)
    assert _sha(a.layers["community"]) == _sha(b.layers["community"])
    assert _sha(c.csv) != _sha(a.csv)
    # re-running with the same parameters re-uses the files untouched
    mtime = a.csv.stat().st_mtime_ns
    again = generate_files(tmp_path / "a", seed=5, scale=0.005, end_year=2025, years=1)
    assert again.reused and a.csv.stat().st_mtime_ns == mtime


def test_dispute_share_about_half(calls) -> None:
    fam = calls[calls["ts"].notna()].groupby("year")["警情类别"].apply(lambda s: (s == "纠纷").mean())
    assert fam.between(0.46, 0.54).all(), fam


def test_daily_and_weekly_rhythms(calls) -> None:
    c = calls[calls["ts"].notna()]
    drunk = c[c["警情细类"] == "酒后纠纷"]
    h = drunk["hour"].value_counts()
    assert set(h.index[:2]) == {22, 23}, h.head()
    night = drunk["hour"].isin([21, 22, 23, 0, 1, 2]).mean()
    assert 0.62 < night < 0.78
    # drunk disputes cluster on Friday and Saturday
    wd = drunk["weekday"].value_counts(normalize=True)
    assert wd[[4, 5]].sum() > 2 * wd[[0, 1]].sum() * 0.9
    # traffic peaks in the rush hours, more on weekdays
    tr = c[c["警情类别"] == "交通"]
    th = tr["hour"].value_counts()
    assert th[[7, 8, 17, 18]].min() > th[[3, 4, 12, 14]].max()
    assert (tr["weekday"] < 5).mean() / (5 / 7) > 1.03
    # theft peaks in the afternoon, general disputes in the evening
    theft = c[c["警情类别"] == "盗窃"]["hour"].value_counts()
    assert theft.idxmax() in range(13, 19)
    disp = c[(c["警情类别"] == "纠纷") & (c["警情细类"] != "酒后纠纷")]["hour"].value_counts()
    assert disp.idxmax() in range(18, 22)
    # seasonality: theft higher in summer (Jul–Aug) than in winter (Jan–Feb)
    m = c[c["警情类别"] == "盗窃"]["ts"].dt.month.value_counts()
    assert m[[7, 8]].sum() > 1.2 * m[[1, 2]].sum()


def test_drunk_disputes_near_the_nightlife_zone(demo_files, calls, truth) -> None:
    import shapely

    from anju.geo.coords import convert

    zone = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in
                              json.loads(demo_files.layers["nightlife"].read_text(encoding="utf-8"))["features"]])
    d = calls[(calls["警情细类"] == "酒后纠纷")]
    lon, lat = convert(pd.to_numeric(d["经度"], errors="coerce").to_numpy(),
                       pd.to_numeric(d["纬度"], errors="coerce").to_numpy(), "gcj02", "wgs84")
    inside = shapely.contains_xy(shapely.buffer(zone, 1e-5), lon, lat)
    assert 0.50 < inside.mean() < 0.60  # planted: 55 % in the zone
    # at night the zone holds most of them
    night = d["hour"].isin([21, 22, 23, 0, 1, 2]).to_numpy()
    assert inside[night].mean() > 0.5
    assert truth["nightlife"]["drunk_dispute_peak_hours"] == [22, 23]


def test_supervised_communities_theft_falls(calls, community_of, truth) -> None:
    sup = set(truth["supervised"]["community_ids"])
    assert len(sup) == 10
    c = calls.assign(community=community_of)
    key_ok = (c["接警编号"] != "") & ~c["接警编号"].duplicated()  # what ingest loads (first occurrence wins)
    theft = c[(c["警情类别"] == "盗窃") & c["community"].notna() & c["ts"].notna() & key_ok]
    in_sup = theft["community"].isin(sup)
    by = theft.groupby([in_sup, "year"]).size()
    change_sup = by[(True, 2025)] / by[(True, 2024)] - 1
    change_other = by[(False, 2025)] / by[(False, 2024)] - 1
    assert change_sup <= -0.40, change_sup
    assert change_other > -0.20, change_other
    h2 = theft[theft["half"] == 2].groupby([in_sup, "year"]).size()
    assert h2[(True, 2025)] / h2[(True, 2024)] - 1 <= -0.40
    # the supervised set is the top 10 by theft in the base year (here at scale 0.05 with a little noise)
    base = theft[theft["year"] == 2024]["community"].value_counts()
    assert len(set(base.index[:10]) & sup) >= 6  # counts of ~35 a community here; exact at scale 1
    # and the generator's own tally (which tests of other parts use) agrees with this independent count
    real = truth["realized"]["theft_by_community_year"]["2024"]
    assert sum(real[k] for k in sup) == by[(True, 2024)]


def test_hot_communities_top_the_thieves_ranking(calls, community_of, communities, truth) -> None:
    hot = truth["hot"]["community_ids"]
    assert sorted(truth["hot"]["ranking_top5_release"]) == sorted(hot)
    assert not set(hot) & set(truth["supervised"]["community_ids"])
    c = calls.assign(community=community_of)
    t = c[c["警情细类"].isin(["入室盗窃", "非机动车盗窃", "快递外卖盗窃"]) & c["community"].notna()]
    counts = t["community"].value_counts().reindex(communities.index, fill_value=0)
    rate = counts / communities["households"] * 1000
    # over three years even the small scale separates them: the 5 hot ones are the top 5
    assert set(rate.sort_values(ascending=False).index[:5]) == set(hot)
    others = rate.drop(hot)
    # planted ≥ 1.5 × in expectation every year; at 5 % scale a small community has ~30 such calls (±18 %), and
    # the transient theft shocks put more of the 115 others near the cap in some year
    assert rate[hot].min() > 1.1 * others.max()


def test_theft_rate_follows_the_risk_profile(calls, community_of, communities, truth) -> None:
    import statsmodels.api as sm

    c = calls.assign(community=community_of)
    leaves = ["入室盗窃", "非机动车盗窃", "电瓶盗窃", "快递外卖盗窃", "车内财物盗窃", "机动车盗窃", "其他盗窃"]
    t = c[c["警情细类"].isin(leaves) & c["community"].notna() & (c["year"] == 2023)]
    counts = t["community"].value_counts().reindex(communities.index, fill_value=0)
    excluded = set(truth["theft_risk_model"]["adjusted_community_ids"]) | set(truth["hot"]["community_ids"])
    keep = ~communities.index.isin(list(excluded))
    cm = communities[keep]
    X = pd.DataFrame({
        "floating_share": cm["floating_share"], "broken_share": cm["cameras_broken"] / cm["cameras"],
        "fee_collection_rate": cm["fee_collection_rate"],
        "has_owners_committee": cm["has_owners_committee"].astype(float)})
    fit = sm.GLM(counts[keep].to_numpy(), sm.add_constant(X), family=sm.families.Poisson(),
                 offset=np.log(cm["households"].to_numpy(float))).fit()
    planted = truth["theft_risk_model"]["coefficients"]
    for name in ("floating_share", "broken_share", "fee_collection_rate"):
        assert abs(fit.params[name] - planted[name]) < 4 * fit.bse[name] + 0.3, (name, fit.params[name])
        assert np.sign(fit.params[name]) == np.sign(planted[name])
    # and the realised rates rank like the planted relative risk
    rel = pd.Series(truth["theft_risk_model"]["relative_rate"])
    rate = counts / communities["households"]
    rho = stats.spearmanr(rate[keep], rel.reindex(communities.index)[keep]).statistic
    assert rho > 0.6


def test_fraud_techniques_and_losses(calls) -> None:
    mapping = load_mapping("cn110")
    codes, _ = mapping.map(calls["警情类别"].tolist(), calls["警情细类"].tolist())
    fraud = calls.assign(code=codes)[pd.Series(codes).str.startswith("fraud.").to_numpy()]
    planted = LEAF_MIX["fraud"]
    obs = fraud["code"].value_counts().reindex(list(planted), fill_value=0)
    exp = np.array(list(planted.values())) * obs.sum()
    assert stats.chisquare(obs.to_numpy(), exp).pvalue > 1e-4
    assert (np.abs(obs / obs.sum() - np.array(list(planted.values()))) < 0.02).all()
    med = fraud.groupby("code")["loss"].median()
    # planted medians 60,000 (investment) and 50,000 (romance): log ratio 0.18, while ~150 romance losses at 5 %
    # scale give a median's standard error of ~0.12 on the log scale — the top two, either order
    assert set(med.nlargest(2).index) == {"fraud.investment", "fraud.romance"}
    for code, (median, _sigma, p_loss) in FRAUD_LOSS.items():
        assert med[code] == pytest.approx(median, rel=0.35), code
        share = fraud.loc[fraud["code"] == code, "loss"].notna().mean()
        assert share == pytest.approx(p_loss, abs=0.08), code
    total = fraud.groupby("code")["loss"].sum()
    assert total.idxmax() == "fraud.investment"


_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"万": 10000, "千": 1000, "百": 100}


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN[a] if a else 1) * 10 + (_CN[b] if b else 0)
    return _CN[s]


_AMOUNT = re.compile(r"(人民币|约)?([\d,]+(?:\.\d+)?|[一二两三四五六七八九十]+)(万|千|百)?(余)?(元|(?=[，。,]|$))")


def _parse_amounts(text: str) -> list[tuple[float, bool]]:
    """An independent reader of the amount styles the generator documents: (value, is_lower_bound)."""
    out = []
    for m in _AMOUNT.finditer(text):
        num, unit, yu = m.group(2), m.group(3), m.group(4)
        if not unit and not m.group(5):
            continue
        v = float(num.replace(",", "")) if num[0].isdigit() else float(_cn_int(num))
        v *= _UNIT.get(unit or "", 1)
        out.append((v, bool(yu)))
    return out


def test_amounts_in_texts_match_the_loss_column(calls) -> None:
    with_loss = calls[calls["loss"].notna()]
    assert len(with_loss) > 2000
    styles = {"comma": 0, "wan": 0, "yu": 0, "cn": 0, "rmb": 0}
    bad = 0
    for text, loss in zip(with_loss["简要案情"], with_loss["loss"], strict=True):
        found = _parse_amounts(text)
        if not any((abs(v - loss) < 0.01) if not yu else (v < loss < v * 2) for v, yu in found):
            bad += 1
        styles["comma"] += bool(re.search(r"\d,\d{3}", text))
        styles["wan"] += bool(re.search(r"[\d.]+万", text))
        styles["yu"] += "余元" in text
        styles["cn"] += bool(re.search(r"[一二三四五六七八九十][万千百]", text))
        styles["rmb"] += "人民币" in text
    assert bad / len(with_loss) < 0.002, bad
    assert min(styles.values()) > 20, styles


def test_texts_are_varied(calls) -> None:
    import rjieba

    texts = calls["简要案情"]
    assert texts.nunique() / len(texts) > 0.5
    sample = texts.sample(5000, random_state=1).tolist()
    vocab = {w for t in sample for w in rjieba.cut(t)}
    assert len(vocab) > 1500
    # each leaf has several phrasings
    leaf_zh = {c.zh for c in load_taxonomy().categories.values()}
    common = calls[calls["警情细类"].isin(leaf_zh)].groupby("警情细类").filter(lambda g: len(g) >= 30)
    per_leaf = common.groupby("警情细类")["简要案情"].apply(lambda s: s.str[:8].nunique())
    assert (per_leaf[per_leaf.index != "误报"] >= 3).all(), per_leaf[per_leaf < 3]
    # typos and phone numbers inside texts (which ingest must mask) occur at the documented rates
    phones = texts.str.contains(r"1[3-9]\d{9}")
    assert 0.012 < phones.mean() < 0.03
    assert texts.str.contains("抱警|以经|电平车|现再|左有").mean() > 0.001
    # addresses carry 路/弄/号/室
    addr = calls["案发地址"]
    assert addr.str.contains(r"路\d+弄\d+号").mean() > 0.4
    assert addr.str.contains(r"\d+室$").mean() > 0.1


def test_rising_and_falling_terms(calls, truth) -> None:
    c = calls[calls["half"] == 2]
    y24, y25 = c[c["year"] == 2024]["简要案情"], c[c["year"] == 2025]["简要案情"]
    for term in truth["words"]["rising"]:
        assert y25.str.contains(term).mean() > 1.5 * y24.str.contains(term).mean(), term
    for term in truth["words"]["falling"]:
        assert y25.str.contains(term).mean() < 0.8 * y24.str.contains(term).mean(), term


def test_dirty_rows_match_truth(calls, truth) -> None:
    dirty = truth["realized"]["dirty_rows"]
    detail = truth["realized"]["dirty_detail"]
    assert (calls["报警时间"] == "").sum() == dirty["missing_time"]
    parsed = calls["ts"].notna() | (calls["报警时间"] == "")
    assert (~parsed).sum() == dirty["bad_time"] + dirty["impossible_date"]
    assert ((calls["经度"] == "") & (calls["纬度"] == "")).sum() == dirty["missing_coords"]
    lon = pd.to_numeric(calls["经度"], errors="coerce")
    lat = pd.to_numeric(calls["纬度"], errors="coerce")
    outside = lon.notna() & ~(lon.between(121.2, 121.6) & lat.between(30.9, 31.3))
    assert outside.sum() == dirty["coords_out_of_bounds"] == sum(detail.values())
    keys = calls["接警编号"]
    assert (keys == "").sum() == dirty["missing_key"]
    assert keys[keys != ""].duplicated().sum() == dirty["duplicate_key"]
    tax = load_taxonomy()
    leaf_zh = {c.zh for c in tax.categories.values()}
    fam_zh = {f.zh for f in tax.families.values()}
    unknown_sub = ~calls["警情细类"].isin(leaf_zh) & calls["警情类别"].isin(fam_zh)
    unknown_both = ~calls["警情类别"].isin(fam_zh)
    assert unknown_sub.sum() == dirty["unknown_subcategory"]
    assert unknown_both.sum() == dirty["unknown_category"]
    # a few of each, at the documented rates (≈ 68k rows)
    n = len(calls)
    for kind, rate in truth["dirty_rates"].items():
        assert dirty[kind] == pytest.approx(rate * n, abs=5 * np.sqrt(rate * n) + 2), kind
    assert truth["realized"]["expected_loaded"] == n - sum(truth["realized"]["expected_quarantine"].values())
