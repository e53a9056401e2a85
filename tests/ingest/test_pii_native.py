"""The C kernels' fast paths in anju.ingest._native: the HMAC (values whose block counts differ,
odd counts, nulls, sliced arrays, SHA-NI and portable compression) against Python's hmac, and the word-at-a-time
digit scan against RE2 on long texts with digits at every byte offset modulo 8, and the one-pass scan of the text
masks' other prefilters (a name keyword followed by a name's first character; full-width digits) against RE2 and
NumPy on texts built from keywords, stop characters and the bytes the scan looks for."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.ingest.pii import Hasher, _digit_runs, _text_flags, mask_text
from anju.text.mask import NAME_START, _full_width_digits, mask_array, wide_digits

#: message lengths (bytes) around SHA-256's block and padding boundaries (a value is hashed after the 64-byte pad)
_EDGES = [0, 1, 55, 56, 63, 64, 119, 120, 200]


def _native() -> Any:
    from anju.ingest import kernels

    if kernels.native() is None:
        pytest.skip("anju.ingest._native was not built (no C compiler at install time)")
    return kernels.native()


def _value(length: int, seed: int) -> str:
    """A string of exactly ``length`` UTF-8 bytes (mixed ASCII and three-byte characters)."""
    chars = "报警人张三李四王"
    out, size, k = [], 0, seed
    while size < length:
        if length - size >= 3 and k % 3 == 0:
            out.append(chars[k % len(chars)])
            size += 3
        else:
            out.append("0123456789abcdef"[k % 16])
            size += 1
        k += 7
    return "".join(out)


def _check(key: bytes, arr: pa.Array) -> None:
    msgs = arr.to_pylist()
    macs = [None if m is None else hmac.new(key, m.encode("utf-8"), hashlib.sha256) for m in msgs]
    h = Hasher(key, native=True)
    assert h.digest(arr).to_pylist() == [None if m is None else m.digest() for m in macs]
    assert h.hexdigest(arr).to_pylist() == [None if m is None else m.hexdigest() for m in macs]


@pytest.mark.parametrize("portable", [False, True], ids=["sha-ni-if-present", "portable"])
@pytest.mark.parametrize("key", [b"k", b"secret-key-0123456789abcdef0123", bytes(range(1, 100))],
                         ids=["short-key", "32-byte-key", "hashed-key"])
def test_hmac_every_pair_of_boundary_lengths(portable: bool, key: bytes) -> None:
    """Every ordered pair of boundary lengths is hashed side by side (a value with one block next to one with four),
    then the same list shifted by one value (other pairs, an odd count) and with nulls between."""
    mod = _native()
    lengths = [x for a in _EDGES for b in _EDGES for x in (a, b)] + [57]
    msgs = [_value(n, i) for i, n in enumerate(lengths)]
    for n, m in zip(lengths, msgs, strict=True):
        assert len(m.encode()) == n
    mod.set_portable(portable)
    try:
        arr = pa.array(msgs, pa.string())
        _check(key, arr)
        _check(key, arr.slice(1))
        _check(key, arr.slice(3, 50))
        with_nulls = pa.array([None if i % 5 == 2 else m for i, m in enumerate(msgs)], pa.string())
        _check(key, with_nulls)
        _check(key, with_nulls.slice(7))
    finally:
        mod.set_portable(False)


@pytest.mark.parametrize("portable", [False, True], ids=["sha-ni-if-present", "portable"])
@settings(max_examples=40, deadline=None)
@given(key=st.binary(min_size=1, max_size=100),
       lengths=st.lists(st.one_of(st.none(), st.sampled_from(_EDGES), st.integers(0, 300)), min_size=1, max_size=41),
       cut=st.integers(0, 4))
def test_hmac_mixed_lengths_match_python(portable: bool, key: bytes, lengths: list[int | None], cut: int) -> None:
    mod = _native()
    msgs = [None if n is None else _value(n, i) for i, n in enumerate(lengths)]
    mod.set_portable(portable)
    try:
        _check(key, pa.array(["x" * 70] * cut + msgs, pa.string()).slice(cut))
    finally:
        mod.set_portable(False)


def test_hmac_sha_ni_and_portable_agree_on_a_large_batch() -> None:
    """The same 10 001 values under the SHA-NI kernel (when the CPU has it) and the portable C: identical bytes."""
    mod = _native()
    arr = pa.array([_value(i % 211, i) for i in range(10_001)], pa.string())
    h = Hasher(b"deployment-secret")
    fast = h.digest(arr)
    mod.set_portable(True)
    try:
        slow = h.digest(arr)
    finally:
        mod.set_portable(False)
    assert fast.equals(slow)
    assert fast[10_000].as_py() == hmac.new(b"deployment-secret", arr[10_000].as_py().encode(), "sha256").digest()


_FILL = st.sampled_from(["报", "警", "a", "，", " ", "-", "－", "号", "x-", "1"])


@settings(max_examples=300, deadline=None)
@given(prefix=st.integers(0, 23), lead=st.lists(_FILL, max_size=30),
       digits=st.text(alphabet="0123456789 -－.．", min_size=1, max_size=16), tail=st.lists(_FILL, max_size=30),
       run=st.integers(1, 9), cut=st.integers(0, 9))
def test_digit_runs_long_texts_digits_at_every_offset(prefix: int, lead: list[str], digits: str, tail: list[str],
                                                      run: int, cut: int) -> None:
    """A digit group at any byte offset (``prefix`` ASCII bytes shift it through all eight positions in a word) inside
    a long text, texts of many lengths side by side in one buffer (words straddle values and the buffer's end):
    the scan finds exactly RE2's ``\\d{run}``, and with ``separated`` exactly its fallback pattern."""
    _native()
    text = "b" * prefix + "".join(lead) + digits + "".join(tail)
    texts = [text, text[: len(text) // 2], None, "无" * prefix + digits, digits, text[prefix:], text[-3:]]
    arr = pa.array(["9999999999"] * cut + texts, pa.string()).slice(cut)
    want = pc.match_substring_regex(arr, rf"\d{{{run}}}").fill_null(False).to_pylist()
    assert _digit_runs(arr, run, native=True).to_pylist() == want
    sep = _digit_runs(arr, run, native=True, separated=True).to_pylist()
    assert sep == _digit_runs(arr, run, native=False, separated=True).to_pylist()


def test_digit_runs_at_each_offset_exhaustively() -> None:
    """Runs of 6, 7 and 8 digits (plain, spaced, hyphenated) at every offset 0..23 of a 64-byte text; 7 needed."""
    _native()
    groups = ["123456", "1234567", "12345678", "123 4567", "12-34-56", "138－1234－5", "1 2 3 4 5 6 7", "12  34567"]
    texts = []
    for g in groups:
        for off in range(24):
            for filler in ("a", "报"):
                body = (filler * 64)[: max(off // len(filler.encode()), 0)] + g
                texts.append(body + "x" * (64 - len(body.encode())) if len(body.encode()) < 64 else body)
    arr = pa.array(texts, pa.string())
    for separated in (False, True):
        got = _digit_runs(arr, 7, native=True, separated=separated).to_pylist()
        assert got == _digit_runs(arr, 7, native=False, separated=separated).to_pylist()
    assert any(_digit_runs(arr, 7, native=True).to_pylist())
    assert not all(_digit_runs(arr, 7, native=True, separated=True).to_pylist())


#: pieces of call texts around the name rule's start: every keyword, colons, RE2's white space, name characters,
#: stop characters (verbs after a keyword), full-width digits and punctuation (EF BC ..), other bytes 0xBA / 0xAB
#: (the keywords' last bytes, inside other characters: 人 E4 BA BA, 叫 E5 8F AB; 虎 E8 99 8E), a four-byte Han
#: character, ASCII and digits
_PIECES = st.sampled_from([
    "报警人", "当事人", "受害人", "嫌疑人", "联系人", "我叫", "本人", "人", "叫", "报警", "我", ":", "：", " ", "\t", "\n",
    "\r", "\f", "\v", "张", "欧阳", "三", "称", "在", "于", "反", "，", "。", "１", "３", "０", "２", "９", "．", "－", "Ａ",
    "𠀀", "a", "7", "（", "虎", "宾", "馆", "元",
])


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.lists(_PIECES, max_size=24).map("".join)), min_size=1, max_size=12),
       cut=st.integers(0, 9), names=st.booleans())
def test_text_flags_match_the_regex_prefilters(texts: list[str | None], cut: int, names: bool) -> None:
    """The C scan flags exactly the texts where RE2 finds :data:`NAME_START` (texts of BMP characters; with a
    four-byte character after a keyword the scan may flag more, never less), and exactly the texts NumPy finds the
    full-width digits of :func:`wide_digits` in — at every byte offset (many lengths side by side in one buffer, a
    sliced array, nulls)."""
    _native()
    arr = pa.array(["报警人张三"] * cut + texts, pa.string()).slice(cut)
    named, wide = _text_flags(arr, names=names, native=True)
    assert wide is not None
    assert wide.tolist() == _full_width_digits(arr, wide_digits(names)).tolist()
    if not names:
        assert named is None
        return
    assert named is not None
    want = np.asarray(pc.match_substring_regex(arr, NAME_START).fill_null(False).to_numpy(zero_copy_only=False))
    assert not (want & ~named).any()  # never less
    bmp = np.array([t is None or all(ord(c) < 0x10000 for c in t) for t in arr.to_pylist()])
    assert (named[bmp] == want[bmp]).all()  # exactly, on BMP texts


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.lists(st.one_of(_PIECES, st.sampled_from(
    ["13812345678", "138 1234 5678", "１３８１２３４５６７８", "021-64381234", "110101199003071234"])), max_size=12)
    .map("".join)), min_size=1, max_size=8))
def test_ingest_masks_equal_the_one_set_of_rules(texts: list[str | None]) -> None:
    """Ingest's masks (C prefilters) give exactly what :func:`anju.text.mask.mask_array` gives with its own RE2 and
    NumPy prefilters, for free text and for the columns masked without the name rule."""
    _native()
    arr = pa.array(texts, pa.string())
    assert mask_text(arr).to_pylist() == mask_array(arr).to_pylist()
    assert mask_text(arr, names=False).to_pylist() == mask_array(arr, names=False).to_pylist()


def test_replace_each_leaves_a_batch_without_its_names_uncopied() -> None:
    """When no text holds its caller's name, the texts come back as the same buffers (no copy); when one does,
    only that row changes."""
    _native()
    h = Hasher(b"k", native=True)
    texts = pa.array(["报警人称被盗", "张三家门口", None, "王五称"], pa.string())
    out = h.replace_each(texts, pa.array(["李四", "赵六", "王五", None]), pa.array(["李*", "赵*", "王*", None]))
    assert out.buffers()[2].address == texts.buffers()[2].address
    out = h.replace_each(texts, pa.array(["李四", "张三", "王五", None]), pa.array(["李*", "张*", "王*", None]))
    assert out.to_pylist() == ["报警人称被盗", "张*家门口", None, "王五称"]
