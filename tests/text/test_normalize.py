"""Normalisation: width, traditional → simplified, whitespace junk, masked phones."""

from __future__ import annotations

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.text.normalize import is_traditional, normalize, normalize_one, to_simplified


def test_full_width_letters_digits_become_ascii_but_chinese_punctuation_stays():
    assert normalize_one("ＡＢＣ１２３％") == "ABC123%"
    assert normalize_one("被盗，请到场！（急）") == "被盗，请到场！（急）"


def test_traditional_converted_with_opencc_and_simplified_untouched():
    conv = opencc.OpenCC("t2s.json")
    trad = "報警人稱電動車在樓下被偷，損失約三千元"
    assert is_traditional(trad)
    assert normalize_one(trad) == conv.convert(trad) == "报警人称电动车在楼下被偷，损失约三千元"
    simplified = "乾坤大挪移，乾隆年间，著名小区"  # 乾 is also simplified usage: must stay as is
    assert not is_traditional(simplified)
    assert normalize_one(simplified) == simplified
    assert to_simplified(simplified) == simplified


def test_whitespace_junk():
    assert normalize_one("\u200b 被 盗\t\n了 ，\u3000 Hello   world \ufeff") == "被盗了，Hello world"
    assert normalize_one(None) == "" and normalize_one("   ") == ""


@pytest.mark.parametrize("raw", ["138****5678", "138 **** 5678", "138-****-5678", "138xxxx5678", "138XXXX5678",
                                 "１３８＊＊＊＊５６７８", "138××××5678"])
def test_masked_phone_variants_become_canonical(raw):
    assert normalize_one(f"联系电话{raw}，已报警") == "联系电话138****5678，已报警"


def test_batch_and_none():
    assert normalize(["ＡＢ", None, "電瓶車"]) == ["AB", "", "电瓶车"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("被盗电動車報警 　\t\n，,ＡＢ１２abc*×xX138567\u200b")), max_size=40))
def test_normalize_is_idempotent(s):
    once = normalize_one(s)
    assert normalize_one(once) == once


def test_idempotent_on_real_messages(teddy_dir):
    import pandas as pd

    df = pd.read_csv(teddy_dir / "full" / "附件2_rawtext_subset_A.csv", header=None, names=["label", "text"])
    texts = df["text"].head(300).tolist()
    once = normalize(texts)
    assert normalize(once) == once
    assert not any("\t" in t or "\n" in t for t in once)
