"""parse_numbers: the C kernel (anju.ingest._native.parse_decimal) gives bit for bit the float64 values and the bad
mask of the Arrow path (trim Unicode whitespace, the number regex, Arrow's cast), which stays the fallback."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.ingest.enrich import parse_numbers


@pytest.fixture(autouse=True)
def _need_kernel() -> None:
    from anju.ingest import pii

    if pii._native is None:
        pytest.skip("anju.ingest._native was not built (no C compiler at install time)")


def _same(values: pa.Array) -> None:
    f, bad = parse_numbers(values, native=True)
    f_ref, bad_ref = parse_numbers(values, native=False)
    assert f.dtype == np.float64 and bad.dtype == np.bool_ and f.shape == bad.shape == (len(values),)
    assert bad.tolist() == bad_ref.tolist()
    mismatch = np.flatnonzero(f.view(np.uint64) != f_ref.view(np.uint64))  # bit for bit: -0.0, NaN, inf too
    assert mismatch.size == 0, [(values[i].as_py(), f[i], f_ref[i]) for i in mismatch[:5]]


_WS = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\u3000", "\xa0", "\u2003",
                       "\x85", " \u3000 "])
_DIGITS = st.text(alphabet="0123456789", max_size=25)
_NUMBERISH = st.builds(
    lambda ws1, sign, whole, dot, frac, e, esign, edigits, ws2: (
        ws1 + sign + whole + dot + frac + (e + esign + edigits if e else "") + ws2),
    _WS, st.sampled_from(["", "+", "-", "--", "+-"]), _DIGITS, st.sampled_from(["", ".", "..", ","]), _DIGITS,
    st.sampled_from(["", "e", "E", "x"]), st.sampled_from(["", "+", "-"]),
    st.text(alphabet="0123456789", max_size=5), _WS)
_SPECIAL = st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400", "4.9e-324",
                            "2.4703282292062327e-324", "1.7976931348623157e308", "1.7976931348623159e308", "",
                            ".", "1.", ".5", "-.5", "+.5", "-", "e5", "1e", "1e+", "0x10", "１２", "1_000", " 1 2 ",
                            "9007199254740993", "9007199254740992.5", "0.1", "-0", "-0.0", "0e999", "-0e-999",
                            "121.440019", "31.142853", "00000000000000000000000000012.5", "1.5\u3000", "\u30001.5",
                            "1\u30005", "1e22", "1e23", "123456789012345678e-3", "１.5"])


@settings(max_examples=400, deadline=None)
@given(vals=st.lists(st.one_of(st.none(), _NUMBERISH, _SPECIAL,
                               st.text(alphabet="0123456789+-.eE \u3000\xa0x", max_size=12),
                               st.floats(allow_nan=False).map(repr)), min_size=1, max_size=40),
       cut=st.integers(0, 11))
def test_native_equals_arrow(vals: list[str | None], cut: int) -> None:
    arr = pa.array(["1.5"] * cut + vals, pa.string())
    _same(arr.slice(cut))  # a bit offset into the validity bitmap and an offset into the value offsets
    _same(arr)


def test_every_ascii_character_around_a_number() -> None:
    """Which ASCII characters count as whitespace is Arrow's utf8_trim_whitespace's choice: the kernel's table must
    equal it for all 128 (and anything else around or inside a number makes it bad either way)."""
    vals = []
    for c in map(chr, range(128)):
        vals += [c + "1.5" + c, c + "2", "3" + c, "4" + c + "5", c, c + c + "-6e1" + c]
    _same(pa.array(vals, pa.string()))


def test_realistic_coordinates_and_amounts() -> None:
    """Values as the call-record exports hold them, with the figures checked against Python's float()."""
    rng = np.random.default_rng(7)
    lon = [f"{x:.6f}" for x in rng.uniform(121.2, 121.6, 5000)]
    lat = [f"{x:.{d}f}" for x, d in zip(rng.uniform(30.9, 31.3, 5000), rng.integers(0, 17, 5000), strict=True)]
    loss = [str(x) for x in rng.integers(0, 10**7, 5000)] + [" 2900 ", "3.5", "", None, "约2000", "１万"]
    for vals in (lon, lat, loss):
        arr = pa.array(vals, pa.string())
        _same(arr)
        f, bad = parse_numbers(arr)
        want = [np.nan if v is None or not v.strip() or b else float(v) for v, b in zip(vals, bad, strict=True)]
        assert np.array_equal(f, np.array(want), equal_nan=True)
    assert parse_numbers(pa.array(loss[-6:], pa.string()))[1].tolist() == [False, False, True, False, True, True]


def test_chunked_empty_and_all_null() -> None:
    f, bad = parse_numbers(pa.chunked_array([["1", None], [" 2.5\u3000", "x"]], pa.string()))
    assert np.array_equal(f, [1.0, np.nan, 2.5, np.nan], equal_nan=True) and bad.tolist() == [0, 0, 0, 1]
    for arr in (pa.array([], pa.string()), pa.nulls(5, pa.string())):
        _same(arr)
        assert not parse_numbers(arr)[1].any()
