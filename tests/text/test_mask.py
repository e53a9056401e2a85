"""Masking personal numbers: examples and property tests (no mobile or ID survives; idempotent)."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.text.mask import mask_one, mask_pii, pii_found

MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
ID18 = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9Xx])")


@pytest.mark.parametrize(("raw", "masked"), [
    ("电话13812345678", "电话138****5678"),
    ("电话+86 138 1234 5678。", "电话+86 138****5678。"),
    ("电话8613812345678", "电话86138****5678"),
    ("电话138-1234-5678", "电话138****5678"),
    ("身份证11010119900307123X", "身份证1101**********123X"),
    ("身份证110101199003071234，", "身份证1101**********1234，"),
    ("座机021-64381234", "座机021-****1234"),
    ("座机0571 88881234", "座机0571 ****1234"),
    ("卡号6222021234567890123", "卡号************0123"),
    ("卡号6222 0212 3456 7890", "卡号************7890"),
    ("旧身份证110101900307123", "旧身份证1101*******7123"),
])
def test_examples(raw, masked):
    assert mask_one(raw) == masked
    assert mask_pii([raw]) == [masked]


@pytest.mark.parametrize("keep", ["被骗3万元", "2024年3月2日14时30分", "接警编号J3101122024030100012345678",
                                  "12号楼3单元502室", "价值12800元", "110报警", "138****5678"])
def test_non_personal_numbers_untouched(keep):
    assert mask_pii([keep]) == [keep]


def test_found_and_none():
    assert pii_found(["无", "13812345678", None, "138****5678"]).tolist() == [False, True, False, False]
    assert mask_pii([None, ""]) == ["", ""]
    assert mask_pii([]) == []


def _id_number(draw_digits: str, check: str) -> str:
    return draw_digits + check


mobiles = st.builds(lambda p, rest: p + rest, st.sampled_from(["13", "14", "15", "16", "17", "18", "19"]),
                    st.text(alphabet="0123456789", min_size=9, max_size=9))
ids = st.builds(_id_number, st.builds(lambda a, b: a + b, st.sampled_from("123456789"),
                                      st.text(alphabet="0123456789", min_size=16, max_size=16)),
                st.sampled_from("0123456789Xx"))
noise = st.text(alphabet=st.sampled_from(list("被盗骗电话号码身份证，。 :：-+ab元万")), max_size=6)
short_digits = st.text(alphabet="0123456789", max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(mobiles, ids, noise, short_digits), min_size=1, max_size=8))
def test_property_no_mobile_or_id_survives_and_idempotent(parts):
    # numbers are separated by a non-digit (as in real text), so each is recognisable on its own
    text = "".join(p + "，" for p in parts)
    once = mask_pii([text])[0]
    assert not MOBILE.search(once), once
    assert not ID18.search(once), once
    assert mask_pii([once])[0] == once
    assert len(once) == len(text) or "+" in text or "-" in text or " " in text  # masking keeps length


def test_consistent_with_ingest_masking_for_plain_numbers():
    pa = pytest.importorskip("pyarrow")
    pii = pytest.importorskip("anju.ingest.pii")
    texts = ["联系电话13812345678，身份证110101199003071234", "无号码", "座机021-64381234"]
    assert mask_pii(texts) == pii.mask_text(pa.array(texts)).to_pylist()


_NUMBERS = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=20),
    st.from_regex(r"(\+86 ?)?1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"1[3-9][0-9][ \-－][0-9]{4}[ \-－][0-9]{4}", fullmatch=True),
    st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True),
    st.from_regex(r"0[1-9][0-9]{1,2}-?[0-9]{7,8}", fullmatch=True),
    st.from_regex(r"([0-9]{4} ){3}[0-9]{4,7}", fullmatch=True),
)
# numbers with words between them, as in call texts
_TEXTS = st.lists(st.tuples(st.sampled_from(["", "电话", "，", "身份证", "卡号", "\n"]), _NUMBERS),
                  max_size=5).map(lambda parts: "".join(w + n for w, n in parts) + "。")
# anything: digits, separators and numbers jammed together
_JAMMED = st.lists(st.one_of(_NUMBERS, st.sampled_from(["+86", " ", "-", "－", "X", "x", "0", "1", "电话"])),
                   max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=6))
def test_arrow_masking_equals_the_python_patterns(texts: list[str]) -> None:
    """mask_array (RE2, captured boundaries, passes to a fixpoint) masks exactly as mask_pii (Python look-arounds)."""
    from anju.text.mask import mask_array

    assert mask_array(pa.array(texts)).to_pylist() == mask_pii(texts)


@settings(max_examples=400, deadline=None)
@given(st.lists(_JAMMED, min_size=1, max_size=6))
def test_both_maskings_leave_no_number_when_numbers_touch(texts: list[str]) -> None:
    """Numbers that touch (shared separators, overlapping card groups) may be cut differently by the two engines,
    but neither leaves a recognisable personal number, and both are idempotent."""
    from anju.text.mask import mask_array

    arrow = mask_array(pa.array(texts)).to_pylist()
    python = mask_pii(texts)
    assert not pii_found(arrow).any() and not pii_found(python).any()
    assert mask_array(pa.array(arrow)).to_pylist() == arrow and mask_pii(python) == python


def test_arrow_masking_keeps_nulls_and_chunks() -> None:
    from anju.text.mask import mask_array

    arr = pa.chunked_array([["电话13812345678", None], ["无号码"]])
    assert mask_array(arr).to_pylist() == ["电话138****5678", None, "无号码"]
