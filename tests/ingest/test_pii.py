"""Personal data: the DuckDB HMAC equals Python's hmac; masks; free-text masking."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.ingest.pii import Hasher, mask_name, mask_phone, mask_text, normalize_name, normalize_phone


@settings(max_examples=40, deadline=None)
@given(key=st.binary(min_size=1, max_size=150), msgs=st.lists(st.one_of(st.none(), st.text(max_size=80)),
                                                               min_size=1, max_size=30))
def test_hmac_matches_python_for_any_key_and_text(key: bytes, msgs: list[str | None]) -> None:
    h = Hasher(key)
    try:
        got = h.hmac_hex(pa.array(msgs, pa.string())).to_pylist()
    finally:
        h.close()
    want = [None if m is None else hmac.new(key, m.encode("utf-8"), hashlib.sha256).hexdigest() for m in msgs]
    assert got == want


def test_hmac_of_many_values_with_repeats() -> None:
    key = b"k" * 64
    vals = [f"13{i % 997:09d}" for i in range(20_000)]
    h = Hasher(key)
    got = h.hmac_hex(pa.array(vals)).to_pylist()
    h.close()
    for i in range(0, 20_000, 331):
        assert got[i] == hmac.new(key, vals[i].encode(), hashlib.sha256).hexdigest()
    assert len(set(got)) == 997


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        Hasher(b"")


def test_phone_normalisation_and_masks() -> None:
    raw = ["13812345678", "+86 138 1234 5678", "0086-13812345678", "138-1234-5678", "(021) 6438-1234", "110",
           "", None, "无"]
    norm = normalize_phone(pa.array(raw))
    assert norm.to_pylist() == ["13812345678"] * 4 + ["02164381234", "110", None, None, None]
    assert mask_phone(norm).to_pylist() == ["138****5678"] * 4 + ["021****1234", "*10", None, None, None]


def test_name_masks() -> None:
    norm = normalize_name(pa.array(["张三", " 李 四 ", "诸葛亮", "司马相如", "王", "John Smith", None, "  "]))
    assert norm.to_pylist() == ["张三", "李四", "诸葛亮", "司马相如", "王", "JohnSmith", None, None]
    assert mask_name(norm).to_pylist() == ["张*", "李*", "诸葛*", "司马**", "*", "J********", None, None]


def test_text_masking() -> None:
    texts = pa.array([
        "报警人称手机13812345678被盗，另一号码15900001111。",
        "身份证号11010119900307123X，座机021-64381234",
        "两个号码13812345678,13987654321紧挨着",
        "金额5000元，订单号20240302",  # no personal number: unchanged
        None,
    ])
    assert mask_text(texts).to_pylist() == [
        "报警人称手机138****5678被盗，另一号码159****1111。",
        "身份证号1101**********123X，座机021-****1234",
        "两个号码138****5678,139****4321紧挨着",
        "金额5000元，订单号20240302",
        None,
    ]


def test_replace_each_masks_the_callers_own_name() -> None:
    h = Hasher(b"x" * 32)
    out = h.replace_each(pa.array(["报警人张三称张三家被盗", "王五称", None, "无名"]),
                         pa.array(["张三", "王", "李四", None]), pa.array(["张*", "*", "李*", None]))
    h.close()
    assert out.to_pylist() == ["报警人张*称张*家被盗", "王五称", None, "无名"]  # 1-char names are not replaced
