"""Text normalisation before segmentation, matching and display.

Call texts arrive typed on phones, pasted from WeChat, exported from old systems and sometimes in traditional
characters. One pass makes them comparable:

* full-width letters, digits and symbols (``ＡＢＣ１２３％＊``) become half width (``ABC123%*``) and the ideographic
  space a space; the Chinese punctuation marks ，！？：；（） are kept;
* traditional characters become simplified (OpenCC ``t2s`` with its phrase tables, offline) — only for texts that
  contain at least one traditional-only character, so simplified text is never touched;
* zero-width and control characters are dropped, whitespace runs collapse to one space, spaces between two Chinese
  characters (or next to Chinese punctuation) are removed (``被 盗`` → ``被盗``) and the ends are stripped;
* masked phone numbers written in any style (``138 **** 5678``, ``138xxxx5678``, ``138＊＊＊＊5678``) become the one
  canonical form ``138****5678`` that the segmenter keeps as a single token.

Everything is a batch function over a sequence of strings; ``None`` becomes ``""``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["MASKED_PHONE", "is_traditional", "normalize", "normalize_one", "to_simplified"]

#: Canonical masked mobile number, e.g. ``138****5678`` (also used by :mod:`anju.text.mask`).
MASKED_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]\*{4}[0-9]{4}(?![0-9])")

# Full-width letters, digits and symbols → ASCII; the Chinese punctuation marks ，！？：；（） stay as they are (they
# are the normal form in Chinese text, and translating every text would cost more than the rest of the pass).
_KEEP_FULL = {ord(c) for c in "，！？：；（）"}
_WIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F) if i not in _KEEP_FULL}
_WIDTH[0x3000] = 0x20  # ideographic space
_JUNK_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad" + "".join(chr(c) for c in range(0x00, 0x20) if chr(c) not in
                                                                 "\t\n\r")
_TABLE: dict[int, int | None] = {**_WIDTH, **{ord(c): None for c in _JUNK_CHARS}}
_TABLE[0xA0] = 0x20  # no-break space
_TABLE[ord("×")] = ord("*")  # 138××××5678
_TABLE[ord("﹡")] = ord("*")

_NEEDS_TABLE = re.compile("[" + re.escape("".join(chr(k) for k in _TABLE)) + "]")
_WS = re.compile(r"\s+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])|(?<=[{_CJK_PUNCT}]) | (?=[{_CJK_PUNCT}])")
_MASKED_ANY = re.compile(r"(?<![0-9])(1[3-9][0-9])[ -]?(?:[*xX]{4}|\*{2} ?\*{2})[ -]?([0-9]{4})(?![0-9])")


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s.json")


@lru_cache(maxsize=1)
def _traditional_class() -> re.Pattern[str]:
    """Characters that OpenCC's t2s changes on their own: their presence marks a text as traditional."""
    conv = _converter()
    ranges = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)]
    chars = [chr(i) for lo, hi in ranges for i in range(lo, hi)]
    out = conv.convert("\n".join(chars)).split("\n")
    trad = "".join(a for a, b in zip(chars, out, strict=True) if a != b and a != "乾")
    return re.compile("[" + re.escape(trad) + "]")


def is_traditional(text: str) -> bool:
    """True when ``text`` holds at least one character that only traditional Chinese uses.

    >>> is_traditional("電動車被盜"), is_traditional("电动车被盗")
    (True, False)
    """
    return _traditional_class().search(text) is not None


def to_simplified(text: str) -> str:
    """Traditional → simplified with OpenCC (phrase-aware); text without traditional characters is returned as is.

    >>> to_simplified("報警人稱電動車被盜")
    '报警人称电动车被盗'
    """
    if not is_traditional(text):
        return text
    return str(_converter().convert(text))


def normalize_one(text: str | None) -> str:
    """Normalise one text (see the module docstring).

    >>> normalize_one("  報警人稱：電動車 被盜，\\u200b聯繫電話１３８ＸＸＸＸ５６７８ ")
    '报警人称：电动车被盗，联系电话138****5678'
    """
    if not text or text != text:  # None, "" or a float NaN (a missing cell) is the empty text, never "nan"
        return ""
    s = str(text)
    if _NEEDS_TABLE.search(s) is not None:
        s = s.translate(_TABLE)
    if _traditional_class().search(s) is not None:
        s = str(_converter().convert(s))
    if "*" in s or "x" in s or "X" in s:
        s = _MASKED_ANY.sub(r"\1****\2", s)
    s = _WS.sub(" ", s).strip()
    if " " in s:
        s = _CJK_SPACE.sub("", s)
    return s


def normalize(texts: Iterable[str | None]) -> list[str]:
    """Normalise a batch of texts: width, traditional → simplified, whitespace junk, masked phones.

    Parameters
    ----------
    texts
        Any iterable of strings (``None`` allowed): a list, a NumPy or pandas array, a pyarrow array's
        ``to_pylist()``.

    Returns
    -------
    list[str]
        One normalised string per input, ``""`` for ``None``.

    Examples
    --------
    >>> normalize(["ＡＢＣ１２３，被　盗", None, "電瓶車被偷"])
    ['ABC123，被盗', '', '电瓶车被偷']
    """
    return [normalize_one(t) for t in texts]
