"""Personal data: the HMAC (C kernel and DuckDB fallback) equals Python's hmac; masks; free-text masking."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.ingest.pii import (
    Hasher,
    mask_name,
    mask_phone,
    mask_text,
    normalize_name,
    normalize_phone,
    phone_forms,
)


@settings(max_examples=40, deadline=None)
@given(key=st.binary(min_size=1, max_size=150), msgs=st.lists(st.one_of(st.none(), st.text(max_size=80)),
                                                               min_size=1, max_size=30))
def test_hmac_matches_python_for_any_key_and_text(key: bytes, msgs: list[str | None]) -> None:
    h = Hasher(key)
    try:
        arr = pa.array(msgs, pa.string())
        got, got_hex = h.digest(arr), h.hexdigest(arr)
    finally:
        h.close()
    macs = [None if m is None else hmac.new(key, m.encode("utf-8"), hashlib.sha256) for m in msgs]
    assert got.type == pa.binary(32)
    assert got.to_pylist() == [None if m is None else m.digest() for m in macs]
    assert got_hex.to_pylist() == [None if m is None else m.hexdigest() for m in macs]


def test_hmac_of_many_values_with_repeats() -> None:
    key = b"k" * 64
    vals = [f"13{i % 997:09d}" for i in range(20_000)]
    h = Hasher(key)
    got = h.digest(pa.array(vals)).to_pylist()
    h.close()
    for i in range(0, 20_000, 331):
        assert got[i] == hmac.new(key, vals[i].encode(), hashlib.sha256).digest()
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
        "电话 138 1234 5678，银行卡6222021234567890123，旧身份证110101900307123",
        "身份证号11010119900307123X，座机021-64381234",
        "两个号码13812345678,13987654321紧挨着",
        "金额5000元，订单号20240302",  # no personal number: unchanged
        None,
    ])
    assert mask_text(texts).to_pylist() == [
        "报警人称手机138****5678被盗，另一号码159****1111。",
        "电话 138****5678，银行卡************0123，旧身份证1101*******7123",
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


# --- the C kernel (anju.ingest._native) and the DuckDB fallback must agree with Python's hmac and with each other
def _native_or_skip() -> Any:
    from anju.ingest import kernels

    if kernels.native() is None:
        pytest.skip("anju.ingest._native was not built (no C compiler at install time)")
    return kernels.native()


@pytest.mark.parametrize("portable", [False, True])
@settings(max_examples=30, deadline=None)
@given(key=st.binary(min_size=1, max_size=200),
       msgs=st.lists(st.one_of(st.none(), st.text(max_size=150), st.binary(max_size=140).map(bytes.hex)),
                     min_size=1, max_size=40),
       cut=st.integers(min_value=0, max_value=5))
def test_native_hmac_matches_python_and_duckdb(portable: bool, key: bytes, msgs: list[str | None], cut: int) -> None:
    mod = _native_or_skip()
    arr = pa.array(["pad"] * cut + msgs, pa.string()).slice(cut)  # a non-zero array offset
    macs = [None if m is None else hmac.new(key, m.encode("utf-8"), hashlib.sha256) for m in msgs]
    want = [None if m is None else m.digest() for m in macs]
    want_hex = [None if m is None else m.hexdigest() for m in macs]
    mod.set_portable(portable)
    try:
        fast = Hasher(key, native=True)
        slow = Hasher(key, native=False)
        assert fast.native and not slow.native
        for h in (fast, slow):
            digest = h.digest(arr)
            assert digest.type == pa.binary(32)
            assert digest.to_pylist() == want
            assert h.hexdigest(arr).to_pylist() == want_hex
        slow.close()
    finally:
        mod.set_portable(False)


def test_native_hmac_block_boundaries_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    _native_or_skip()
    key = bytes(range(1, 90))  # longer than a block: hashed first
    msgs = ["x" * k for k in range(0, 200)] + ["报警人" * k for k in range(0, 40)]
    monkeypatch.setattr(Hasher, "CHUNK", 37)  # several kernel calls, concatenated
    h = Hasher(key)
    got = h.digest(pa.chunked_array([msgs[:100], msgs[100:]])).to_pylist()
    assert got == [hmac.new(key, m.encode(), hashlib.sha256).digest() for m in msgs]
    got_hex = h.hexdigest(pa.chunked_array([msgs[:100], msgs[100:]])).to_pylist()
    assert got_hex == [hmac.new(key, m.encode(), hashlib.sha256).hexdigest() for m in msgs]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(st.none(), st.text(alphabet="张三李四王五称家被盗 ab", max_size=30)),
                               st.one_of(st.none(), st.text(alphabet="张三李四王 a", max_size=4)),
                               st.one_of(st.none(), st.text(alphabet="*张李", max_size=4))),
                     min_size=1, max_size=30))
def test_native_replace_each_matches_duckdb(rows: list[tuple[str | None, str | None, str | None]]) -> None:
    _native_or_skip()
    t, n, r = (pa.array([row[i] for row in rows], pa.string()) for i in range(3))
    fast = Hasher(b"k", native=True).replace_each(t, n, r).to_pylist()
    slow_h = Hasher(b"k", native=False)
    slow = slow_h.replace_each(t, n, r).to_pylist()
    slow_h.close()
    assert fast == slow


def _ref_mask_phone(s: str | None) -> str | None:
    if s is None:
        return None
    if len(s) >= 8:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    return "*" * max(len(s) - 2, 0) + s[-2:]


def _ref_mask_name(s: str | None) -> str | None:
    from anju.ingest.pii import COMPOUND_SURNAMES

    if s is None:
        return None
    keep = 0 if len(s) <= 1 else 2 if s[:2] in COMPOUND_SURNAMES and len(s) > 2 else 1
    return s[:keep] + "*" * max(len(s) - keep, 1)


@settings(max_examples=80, deadline=None)
@given(phones=st.lists(st.one_of(st.none(), st.text(alphabet="0123456789", min_size=1, max_size=14)), min_size=1,
                       max_size=20),
       names=st.lists(st.one_of(st.none(), st.text(alphabet="欧阳司马张三丰李", min_size=1, max_size=5)), min_size=1,
                      max_size=20))
def test_masks_match_a_plain_python_reference(phones: list[str | None], names: list[str | None]) -> None:
    assert mask_phone(pa.array(phones, pa.string())).to_pylist() == [_ref_mask_phone(p) for p in phones]
    assert mask_name(pa.array(names, pa.string())).to_pylist() == [_ref_mask_name(n) for n in names]


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(alphabet="0123456789０１２٣ 报警电话a-", max_size=40)),
                      min_size=1, max_size=30),
       cut=st.integers(min_value=0, max_value=3), run=st.integers(min_value=1, max_value=9))
def test_native_digit_runs_match_re2(texts: list[str | None], cut: int, run: int) -> None:
    # the C byte scan that picks the texts to mask must find exactly what RE2's \d{run} finds (ASCII digits only:
    # full-width and Arabic-Indic digits are not \d), with nulls False and a non-zero array offset
    from anju.ingest.pii import _digit_runs

    _native_or_skip()
    arr = pa.array(["123456789"] * cut + texts, pa.string()).slice(cut)
    want = pc.match_substring_regex(arr, rf"\d{{{run}}}").fill_null(False).to_pylist()
    assert _digit_runs(arr, run, native=True).to_pylist() == want
    assert _digit_runs(arr, run, native=False).to_pylist() == want
    assert mask_text(arr).to_pylist() == [None if t is None else t for t in mask_text(pa.array(texts)).to_pylist()]
    # separated: one space, '-' or '－' between digits keeps the run (C scan == its RE2 fallback)
    sep = _digit_runs(arr, run, native=True, separated=True).to_pylist()
    assert sep == _digit_runs(arr, run, native=False, separated=True).to_pylist()
    assert all(s or not w for s, w in zip(sep, want, strict=True))  # a superset of the plain runs


_PII_TEXTS = st.lists(
    st.tuples(st.sampled_from(["", "电话", "，", "身份证", "卡号"]),
              st.one_of(st.text(alphabet="0123456789", min_size=1, max_size=20),
                        st.from_regex(r"(\+86 ?)?1[3-9][0-9]{9}", fullmatch=True),
                        st.from_regex(r"1[3-9][0-9][ \-－][0-9]{4}[ \-－][0-9]{4}", fullmatch=True),
                        st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True),
                        st.from_regex(r"([0-9]{4} ){3}[0-9]{4,7}", fullmatch=True))),
    max_size=5).map(lambda parts: "".join(w + n for w, n in parts) + "。")


@pytest.mark.parametrize("native", [True, False], ids=["c-scan", "re2-prefilter"])
def test_ingest_text_masking_is_the_text_rules(native: bool) -> None:
    """What reaches the lake's text column is masked by anju.text.mask's rules (spaced phones, 15-digit IDs, bank
    cards included), whether the C scan or the RE2 prefilter picks the candidate rows."""
    from anju.ingest import kernels
    from anju.text.mask import mask_pii

    if native:
        _native_or_skip()

    @settings(max_examples=300, deadline=None)
    @given(texts=st.lists(st.one_of(st.none(), _PII_TEXTS), min_size=1, max_size=8))
    def check(texts: list[str | None]) -> None:
        got = mask_text(pa.array(texts, pa.string())).to_pylist()
        assert got == [None if t is None else m for t, m in zip(texts, mask_pii(texts), strict=True)]

    with kernels.use_native(native):
        check()


def test_native_kernel_is_built_where_a_compiler_is() -> None:
    """The extension is optional so that an install without a compiler still works, but where one is present (as
    on the project's machines) a build failure must not pass unnoticed as a silent fallback to the slower paths."""
    import shlex
    import shutil
    import sysconfig

    from anju.ingest import kernels

    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}) on this machine: the pure fallbacks are in use")
    assert kernels.native() is not None, "anju.ingest._native was not built although a C compiler exists: reinstall"


def test_phone_forms_all_plain_mobiles_and_full_width_digits() -> None:
    # the Arrow fast path (every value 11 ASCII digits)
    plain = pa.array(["13812345678", "13987654321", None])
    norm, masked = phone_forms(plain)
    assert norm.to_pylist() == ["13812345678", "13987654321", None]
    assert masked.to_pylist() == ["138****5678", "139****4321", None]
