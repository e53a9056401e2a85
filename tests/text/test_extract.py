"""Extraction: amounts (examples + round-trip property tests), times, places, address parts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from anju.errors import AnjuError
from anju.text.extract import (
    address_parts,
    amounts_all,
    amounts_yuan,
    extract_places,
    extract_times,
    mentioned_hour,
    parse_chinese_number,
)

# ------------------------------------------------------------------ an independent Chinese-numeral renderer
_D = "零一二三四五六七八九"
_FIN = dict(zip("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟", strict=True))


def _group(g: int, leading: bool) -> str:
    """0 < g < 10000 in Chinese, with 零 for skipped places; 一十 → 十 only at the very start."""
    out, zero = "", False
    for unit, p in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        d = (g // p) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if (d == 1 and unit == "十" and not out and leading) else _D[d]) + unit
    return out


def cn_int(n: int) -> str:
    """1 ≤ n < 10**12 written the standard way (一万二千八百, 一亿零五, 十二)."""
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    groups.reverse()
    units = ["亿", "万", ""][-len(groups):]
    out, prev_zero = "", False
    for i, (g, u) in enumerate(zip(groups, units, strict=True)):
        if g == 0:
            prev_zero = True
            continue
        if i > 0 and (g < 1000 or prev_zero):
            out += "零"
        out += _group(g, leading=(i == 0)) + u
        prev_zero = False
    return out


def test_renderer_itself():
    assert [cn_int(x) for x in (10, 12, 112, 1012, 12800, 100000005, 100005000, 30000)] == [
        "十", "十二", "一百一十二", "一千零一十二", "一万二千八百", "一亿零五", "一亿零五千", "三万"]


# ------------------------------------------------------------------ amounts: examples
@pytest.mark.parametrize(("text", "yuan"), [
    ("报警人称被骗人民币3万元", 30000), ("损失五千余元", 5000), ("转账2.5万", 25000), ("共计12,800元", 12800),
    ("借了他一万二，对方不还", 12000), ("被骗3.5万元", 35000), ("先后转账三次共计4万元", 40000),
    ("价值3000元左右", 3000), ("壹万贰仟元", 12000), ("损失三四千元", 3000), ("对方要求支付5k", 5000),
    ("被骗2w", 20000), ("约12800元", 12800), ("3万余元", 30000), ("共被骗八百元", 800),
    ("被骗走人民币一万二千元", 12000), ("欠薪5个月共计2万", 20000), ("充值了1000", 1000), ("给了他五百块", 500),
    ("￥1,299", 1299), ("一点五万元", 15000), ("十二万三千四百五十六元", 123456),
])
def test_amount_examples(text, yuan):
    assert amounts_yuan([text])[0] == yuan


@pytest.mark.parametrize("text", ["3单元502室", "2024年3月2日14时30分", "转账3次", "一块电瓶被盗", "1.28万",
                                  "元旦期间", "共5笔", "被骗3天", "电话138****5678", "十分生气", "万一被骗"])
def test_not_amounts(text):
    assert math.isnan(amounts_yuan([text])[0])


def test_how_modes_and_all():
    t = "先转账5000元，又转了3000元，共计8000元"
    assert amounts_all([t]) == [[5000.0, 3000.0, 8000.0]]
    assert amounts_yuan([t])[0] == 8000  # total cue
    assert amounts_yuan([t], how="sum")[0] == 16000
    assert amounts_yuan([t], how="first")[0] == 5000
    assert amounts_yuan(["先转5000元，又转了7000元"])[0] == 7000  # no total cue → the largest
    with pytest.raises(AnjuError):
        amounts_yuan([t], how="mean")  # type: ignore[arg-type]
    with pytest.raises(AnjuError):
        amounts_yuan("被骗3万元")  # a bare string, not a list


def test_vectorised_over_arrays_with_missing():
    s = pd.Series(["被骗3万元", None, "无", np.nan, "损失800元"], dtype=object)
    out = amounts_yuan(s)
    assert out[0] == 30000 and math.isnan(out[1]) and math.isnan(out[2]) and math.isnan(out[3]) and out[4] == 800


# ------------------------------------------------------------------ amounts: property tests (render → parse)
@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**11 - 1))
def test_property_chinese_numerals_round_trip(n):
    assert parse_chinese_number(cn_int(n)) == n
    fin = "".join(_FIN.get(c, c) for c in cn_int(n))
    assert parse_chinese_number(fin) == n


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**8), st.integers(min_value=0, max_value=7),
       st.sampled_from(["报警人称被骗", "事主称损失", "共计", "报警人称转账", "价值"]))
def test_property_amount_styles_round_trip(v, style, lead):
    if style == 0:
        phrase = f"{v}元"
    elif style == 1:
        phrase = f"{v:,}元"
    elif style == 2:
        phrase = f"人民币{v}元"
    elif style == 3:
        assume(v >= 10000 and v % 100 == 0)
        phrase = f"{v / 10000:.4f}".rstrip("0").rstrip(".") + "万元"
    elif style == 4:
        phrase = f"{cn_int(v)}元"
    elif style == 5:
        phrase = f"{cn_int(v)}块钱"
    elif style == 6:  # colloquial elision: X万Y → X万Y千
        assume(10000 <= v < 100000 and v % 1000 == 0 and (v // 1000) % 10 != 0)
        phrase = f"{_D[v // 10000]}万{_D[(v // 1000) % 10]}"
    else:  # 余: a bit more than the stated amount → the stated amount
        assume(v >= 100)
        base = int(str(v)[0]) * 10 ** (len(str(v)) - 1)
        v = base
        phrase = f"{cn_int(base)}余元"
    text = f"{lead}{phrase}，请民警处理"
    assert amounts_yuan([text])[0] == pytest.approx(v)


def test_amount_phrases_of_the_demo_generator():
    texts_mod = pytest.importorskip("anju.demo.texts")
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.integers(50, 500_000, 300).astype(float), [1234.5, 99.9, 20000, 35000, 1200]])
    for v in values:
        for style in range(7):
            phrase = texts_mod.amount_phrase(float(v), style)
            got = amounts_yuan([f"报警人称被骗{phrase}"])[0]
            iv = round(v)
            exp = v
            if "余" in phrase:  # floor of the leading unit (the generator's documented meaning)
                unit = 10000 if iv >= 10000 else 1000 if iv >= 1000 else 100
                exp = (iv // unit) * unit
            assert got == pytest.approx(exp), (v, style, phrase)


# ------------------------------------------------------------------ times, places, addresses
def test_times_and_hours():
    texts = ["报警人称今天下午3点左右在小区被盗", "2024年3月2日14时30分发生纠纷", "昨晚十点多有人敲门", "凌晨两点",
             "刚才被骗", "快一点到场", None]
    assert extract_times(texts) == [["今天下午3点左右"], ["2024年3月2日14时30分"], ["昨晚十点多"], ["凌晨两点"],
                                    ["刚才"], [], []]
    h = mentioned_hour(texts)
    assert h[:4].tolist() == [15.0, 14.0, 22.0, 2.0] and np.isnan(h[4:]).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=23), st.booleans())
def test_property_hour_round_trip(hour, chinese):
    h12 = hour % 12 or 12
    part = "凌晨" if hour < 6 else "上午" if hour < 12 else "下午" if hour < 18 else "晚上"
    if hour == 12:
        part, h12 = "中午", 12
    if hour == 0:
        part, h12 = "凌晨", 0
    num = cn_int(h12) if (chinese and h12) else ("零" if chinese else str(h12))
    assert mentioned_hour([f"报警人称{part}{num}点左右被盗"])[0] == hour


def test_places():
    assert extract_places(["报警人称其停放在上海康城小区12号楼下的电动车被盗", "在地铁站附近手机被偷",
                           "在漕宝路虹梅路路口发生事故", "在家中被盗"]) == [
        ["上海康城小区12号楼"], ["地铁站附近"], ["漕宝路虹梅路路口"], []]


def test_address_parts():
    df = address_parts(pd.Series(["上海市闵行区七宝镇漕宝路1234弄56号3单元502室", "七宝镇万科城市花园12栋3单元1502室",
                                  "闵行区漕宝路与虹梅路交叉口", None]))
    assert df.iloc[0].to_dict() == {"district": "闵行区", "town": "七宝镇", "road": "漕宝路", "lane": "1234",
                                    "number": "56", "compound": None, "building": None, "unit": "3", "room": "502"}
    assert df.iloc[1][["town", "compound", "building", "unit", "room"]].tolist() == ["七宝镇", "万科城市花园", "12",
                                                                                      "3", "1502"]
    assert df.iloc[2]["road"] == "漕宝路" and df.iloc[3].isna().all()


def test_address_parts_on_real_shanghai_addresses(shared_data):
    f = shared_data / "shanghai-geography" / "covid2022_residential_addresses" / "geo.csv"
    if not f.exists():
        pytest.skip(f"{f} missing")
    df = pd.read_csv(f, dtype=str).dropna(subset=["complete_address"]).sample(3000, random_state=0)
    parts = address_parts(df["complete_address"])
    # the district parsed from the address agrees with the file's own district column (the few misses are
    # addresses the geocoder completed into another district)
    assert (parts["district"].to_numpy() == df["district"].to_numpy()).mean() > 0.95
    with_road = df["address"].str.contains(r"[路街][0-9]").to_numpy()
    assert with_road.mean() > 0.5
    assert parts["road"].notna().to_numpy()[with_road].mean() > 0.95
