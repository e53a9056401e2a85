"""The C UTF-8 validator (anju.ingest._utf8) against Python's strict codec, and the CSV reader's checked stream."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anju.errors import EncodingError
from anju.ingest import readers

_utf8 = pytest.importorskip("anju.ingest._utf8")

# Valid characters of every length and at every range edge, and invalid sequences of every kind: stray
# continuation, overlong 2/3/4-byte forms, surrogates, above U+10FFFF, bytes that never occur, cut characters.
VALID = [b"a", b"\x7f", b"\xc2\x80", b"\xc3\xa9", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xe4\xb8\xad", b"\xed\x9f\xbf",
         b"\xee\x80\x80", b"\xef\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf0\x9f\x98\x80", b"\xf4\x8f\xbf\xbf", b"\n", b","]
INVALID = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
           b"\xed\xbf\xbf", b"\xf0\x80\x80\xaf", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
           b"\xff", b"\xfe", b"\xc2", b"\xe4\xb8", b"\xf0\x9f\x98", b"\xc2a", b"\xe4\xb8a", b"\xf0\x9f\x98a"]


@pytest.fixture(params=[True, False], ids=["avx2", "scalar"])
def path(request: pytest.FixtureRequest) -> Iterator[bool]:
    _utf8.set_avx2(request.param)
    if request.param and not _utf8.avx2():
        pytest.skip("no AVX2 on this CPU")
    yield request.param
    _utf8.set_avx2(True)


def python_verdict(data: bytes) -> int | str | None:
    """None if valid, "cut" if only the end is a cut character, else the offset of the first invalid byte."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return "cut" if e.reason == "unexpected end of data" else e.start
    return None


def ours(data: bytes, cuts: list[int]) -> int | str | None:
    """Feed ``data`` to the kernel in the blocks ``cuts`` makes, carrying cut characters as the reader does."""
    carry, pos = b"", 0
    edges = [0, *sorted(cuts), len(data)]
    for a, b in itertools.pairwise(edges):
        block = data[a:b]
        if not block:
            continue
        err, tail = _utf8.check(carry, block)
        if err is not None:
            return pos + err
        carry = carry + block if carry and tail == len(block) else block[len(block) - tail:]
        pos += len(block)
    return "cut" if carry else None


pieces = st.lists(st.sampled_from(VALID), max_size=200)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces, st.lists(st.sampled_from(INVALID), max_size=2), st.randoms(use_true_random=False),
       st.lists(st.integers(0, 10_000), max_size=5))
def test_matches_python_codec(path: bool, valid: list[bytes], bad: list[bytes], rnd: object, cuts: list[int]
                              ) -> None:
    parts = list(valid)
    for b in bad:
        parts.insert(rnd.randrange(len(parts) + 1), b)  # type: ignore[attr-defined]
    data = b"".join(parts)
    cuts = [c % (len(data) + 1) for c in cuts]
    assert ours(data, cuts) == python_verdict(data)


def test_every_error_offset_in_long_text(path: bool) -> None:
    """An invalid sequence at every offset of a 300-byte CJK/ASCII text (all positions within the 32-byte vector
    chunks and across the vector/scalar hand-over), whole and split into blocks."""
    base = ("报警人称在" + "abc" + "中文字符" * 20 + "x" * 37 + "😀" * 10).encode()
    for bad in (b"\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe4\xb8a"):
        for i in range(len(base) + 1):
            cut = base[:i]
            while True:  # insert on a character boundary
                try:
                    cut.decode()
                    break
                except UnicodeDecodeError:
                    cut = cut[:-1]
            data = cut + bad + base[len(cut):]
            want = python_verdict(data)
            assert ours(data, []) == want, (bad, i)
            assert ours(data, [len(cut) + 1, len(cut) + 2]) == want, (bad, i)


def test_large_valid_text(path: bool) -> None:
    data = ("J1,2024年3月2日 14时30分,来电称电动车被盗😀,金都路1530弄\n" * 5000).encode()
    assert ours(data, []) is None
    assert ours(data, list(range(1, len(data), 4093))) is None
    assert ours(data[:-2], []) == "cut"


def test_checked_stream_reads_the_bytes_unchanged() -> None:
    data = ("接警编号,简要案情\n" + "".join(f"J{i},文本{i}😀\n" for i in range(3000))).encode()
    stream = readers._Utf8Checked(io.BytesIO(data), Path("x.csv"))
    out = b"".join(iter(lambda: stream.read(7), b""))  # 7-byte reads cut characters everywhere
    assert out == data


@pytest.mark.parametrize(("tail", "what"), [(b"J9,\xff\xfe\n", "invalid byte sequence"),
                                           (b"J9,\xe4\xb8", r"incomplete character \(the file ends inside it\)")])
def test_csv_names_the_offset_of_an_invalid_byte(tmp_path: Path, tail: bytes, what: str) -> None:
    head = "接警编号,简要案情\n".encode() + "".join(f"J{i},正常文本{i}\n" for i in range(200_000)).encode()
    p = tmp_path / "bad.csv"
    p.write_bytes(head + tail)
    with pytest.raises(EncodingError, match=rf"not valid utf-8: {what} at byte {len(head) + 3};.*gb18030"), \
            readers.open_source(p, encoding="utf-8") as r:
        for _ in r:
            pass
