"""Masking personal data: examples, and property tests that generate each form of number and name (nothing of it
survives but what the masked form keeps) and ordinary numbers (they all survive)."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.text.mask import mask_array, mask_one, mask_pii, pii_found


@pytest.mark.parametrize(("raw", "masked"), [
    ("电话13812345678", "电话138****5678"),
    ("电话+86 138 1234 5678。", "电话+86 138****5678。"),
    ("电话8613812345678", "电话86138****5678"),
    ("电话138-1234-5678", "电话138****5678"),
    ("电话138.1234.5678", "电话138****5678"),
    ("电话138 123 45678", "电话138****5678"),
    ("电话１３８１２３４５６７８", "电话138****5678"),
    ("身份证11010119900307123X", "身份证1101**********123X"),
    ("身份证110101199003071234，", "身份证1101**********1234，"),
    ("身份证430102 19850612 118X", "身份证4301**********118X"),
    ("座机021-64381234", "座机021-****1234"),
    ("座机0571 88881234", "座机0571 ****1234"),
    ("座机(021)64871234", "座机(021)****1234"),
    ("座机0731-8456-7890转801", "座机0731-****7890转801"),
    ("卡号6222021234567890123", "卡号************0123"),
    ("卡号6222 0212 3456 7890", "卡号************7890"),
    ("卡号6222-0212-3456-7890", "卡号************7890"),
    ("卡号6222 0212 3456 7890 123", "卡号************123"),
    ("旧身份证110101900307123", "旧身份证1101*******7123"),
    ("报警人张三称被盗", "报警人张**称被盗"),
    ("当事人：欧阳小明在场", "当事人：欧**在场"),
    ("我叫王小明，家住", "我叫王**，家住"),
    ("本人赵六", "本人赵**"),
])
def test_examples(raw: str, masked: str) -> None:
    assert mask_one(raw) == masked
    assert mask_pii([raw]) == [masked]


@pytest.mark.parametrize("keep", [
    "被骗3万元", "2024年3月2日14时30分", "接警编号J3101122024030100012345678", "12号楼3单元502室", "价值12800元",
    "110报警", "138****5678", "2017 2018 2019 2020年", "J320105202403020001", "J320105202403030001",
    "订单号2024030212345678", "案件编号A2024030100123", "本人称被骗", "报警人称家中被盗", "当事人双方协商",
])
def test_non_personal_numbers_untouched(keep: str) -> None:
    assert mask_pii([keep]) == [keep]


def test_found_and_none() -> None:
    assert pii_found(["无", "13812345678", None, "138****5678"]).tolist() == [False, True, False, False]
    assert mask_pii([None, ""]) == ["", ""]
    assert mask_pii([]) == []


def test_arrow_masking_keeps_nulls_and_chunks() -> None:
    arr = pa.chunked_array([["电话13812345678", None], ["无号码"]])
    assert mask_array(arr).to_pylist() == ["电话138****5678", None, "无号码"]


# ------------------------------------------------------------------------------------------ property tests
_D = "0123456789"
_SEPS = st.sampled_from([" ", "-", ".", "－"])


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_D, min_size=n, max_size=n)


def _groups(parts: list[str], sep: str) -> str:
    return sep.join(parts)


mobiles = st.builds(lambda a, b, c, d, sep, form: (
    a + b + c + d if form == 0 else _groups([a + b, c, d], sep) if form == 1 else _groups([a + b, c[:3], c[3:] + d], sep)
), st.just("1"), st.sampled_from("3456789").map(lambda x: x + "8"), _digits(4), _digits(4), _SEPS, st.integers(0, 2))
dates = st.builds(lambda y, m, d: f"{y:04d}{m:02d}{d:02d}", st.integers(1930, 2024), st.integers(1, 12),
                  st.integers(1, 28))
ids18 = st.builds(lambda area, date, seq, chk, sep, grouped: (
    _groups([area, date, seq + chk], sep) if grouped == 1 else
    _groups([area, date[:4], date[4:], seq + chk], sep) if grouped == 2 else area + date + seq + chk
), st.sampled_from("123456789").flatmap(lambda f: _digits(5).map(lambda r: f + r)), dates, _digits(3),
    st.sampled_from("0123456789X"), st.sampled_from([" ", "-"]), st.integers(0, 2))
landlines = st.builds(lambda area, a, b, sep, paren, ext: (
    (f"({area})" if paren else area + sep) + a + b + (f"转{ext}" if ext else "")
), st.sampled_from(["010", "021", "0731", "0571", "0755"]), _digits(4), _digits(4), st.sampled_from(["-", " ", ""]),
    st.booleans(), st.one_of(st.none(), _digits(3)))
cards = st.builds(lambda first, rest, sep, grouped: (
    first + rest if not grouped else sep.join((first + rest)[i:i + 4] for i in range(0, len(first + rest), 4))
), st.sampled_from(["62", "4", "5", "35", "9"]), st.integers(14, 17).flatmap(lambda n: _digits(n)),
    st.sampled_from([" ", "-"]), st.booleans()).filter(lambda c: 16 <= sum(ch.isdigit() for ch in c) <= 19)
names = st.builds(lambda kw, sur, given_: (kw, sur + given_), st.sampled_from(["报警人", "当事人", "我叫", "本人"]),
                  st.sampled_from(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")),
                  st.text(alphabet="伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚", min_size=1, max_size=2))
_FULL = str.maketrans(_D, "０１２３４５６７８９")
_BETWEEN = st.sampled_from(["，", "。", "电话", "卡号", " 身份证 ", "；联系", "\n"])


def _only_digits(s: str) -> str:
    return re.sub(r"\D", "", s.translate(str.maketrans("０１２３４５６７８９", _D)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["mobile", "id", "landline", "card"]), st.booleans(), _BETWEEN),
                min_size=1, max_size=4), st.data())
def test_property_no_personal_number_survives(parts: list[tuple[str, bool, str]], data: st.DataObject) -> None:
    """Each generated number (any grouping, full-width or not) loses its middle digits; ordinary text survives."""
    strategies = {"mobile": mobiles, "id": ids18, "landline": landlines, "card": cards}
    numbers, text = [], "报案："
    for kind, wide, between in parts:
        num = data.draw(strategies[kind])
        numbers.append((kind, num))
        text += (num.translate(_FULL) if wide else num) + between
    masked = mask_one(text)
    # what a masked form keeps is a head or tail of at most four digits (138****5678, 4301**********118X,
    # 021-****1234, ************0123): no run of digits and separators between stars or words holds more
    runs = re.split(r"[^0-9０-９ \-.－()Xx]", masked)
    assert max(len(_only_digits(r)) for r in runs) <= 4, (numbers, masked)
    assert "报案：" in masked and mask_one(masked) == masked  # idempotent


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(names, st.sampled_from(["称", "在", "于", "，", "被", "说"])), min_size=1, max_size=3))
def test_property_names_after_keywords_are_masked(parts: list[tuple[tuple[str, str], str]]) -> None:
    text = "".join(kw + name + stop + "情况" for (kw, name), stop in parts)
    masked = mask_one(text)
    for (kw, name), stop in parts:
        assert kw + name + stop not in masked
        assert kw + name[0] + "**" + stop in masked  # the surname stays, the given name goes


ordinary = st.one_of(
    st.integers(1, 99_999).map(lambda n: f"被骗{n}元"),
    st.integers(1990, 2030).map(lambda y: f"{y}年"),
    st.lists(st.integers(1990, 2030), min_size=2, max_size=4).map(lambda ys: " ".join(map(str, ys)) + "年"),
    st.builds(lambda a, b: f"{a}号楼{b}室", st.integers(1, 99), st.integers(101, 2999)),
    st.builds(lambda p, d: p + d, st.sampled_from(["J", "A", "NO", "订单号JD", "单号SF"]), _digits(18)),
    st.integers(0, 23).map(lambda h: f"{h}时30分"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ordinary, min_size=1, max_size=5))
def test_property_ordinary_numbers_survive(parts: list[str]) -> None:
    text = "，".join(parts)
    assert mask_one(text) == text
    assert not pii_found([text]).any()


def test_text_classify_output_keeps_id_columns_and_masks_the_rest() -> None:
    import pandas as pd

    from anju.text.tasks import _mask_frame

    df = pd.DataFrame({"接警编号": ["320105202403020001", "320105202403030001"], "incident_id": ["13812345678", None],
                       "报警电话": ["13812345678", "13912345678"], "身份证号": ["110101199003071234", None],
                       "简要案情": ["电话13812345678", "本人赵六称"]})
    out = _mask_frame(df)
    assert out["接警编号"].tolist() == ["320105202403020001", "320105202403030001"]  # two ids stay two ids
    assert out["incident_id"].iloc[0] == "13812345678"
    assert out["报警电话"].tolist() == ["138****5678", "139****5678"]
    assert out["身份证号"].tolist()[0] == "1101**********1234"
    assert out["简要案情"].tolist() == ["电话138****5678", "本人赵**称"]


def test_verbs_after_a_keyword_are_not_names() -> None:
    """The leads of real call texts stay as they are (报警人反映 was masked to 报警人反** before)."""
    texts = ["报警人反映在本小区19号楼", "报警人诉遭到家暴", "报警人误拨110", "报警人讲述经过", "当事人表示不追究",
             "报警人打电话求助", "当事人拨打110", "报警人求助", "报警人告知地址", "报警人述称被骗"]
    assert mask_array(pa.array(texts)).to_pylist() == texts
    assert mask_one("报警人反映报警人王小明被打") == "报警人反映报警人王**被打"


@given(st.lists(st.sampled_from(["１", "２", "０", "５", "Ａ", "中", "a", "1", "\uff0e"]), max_size=12))
def test_full_width_scan_matches_a_plain_search(chars: list[str]) -> None:
    from anju.text.mask import _full_width_digits

    texts = ["".join(chars), "".join(reversed(chars)), None, "前缀" + "".join(chars)]
    arr = pa.array(texts, pa.string()).slice(1)  # an offset into the buffers, as batches have
    got = _full_width_digits(arr, "０１２").tolist()
    assert got == [t is not None and any(d in t for d in "０１２") for t in texts[1:]]


def test_a_number_beside_a_masked_name_is_masked() -> None:
    """A text that is a candidate for both rule families: neither family's verdict hides the other's."""
    texts = ["报警人王**称电动车在楼下被盗，电话13912345678", "报警人张三称电话13812345678", "电话13812345678"]
    assert mask_array(pa.array(texts)).to_pylist() == [
        "报警人王**称电动车在楼下被盗，电话139****5678", "报警人张**称电话138****5678", "电话138****5678"]
