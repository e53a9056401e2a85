"""Mask personal numbers in free text before it is stored or shown.

Call texts and citizen messages often carry a phone number ("联系电话13812345678") or an ID-card number. anju
masks them everywhere text leaves this package (lake, reports, exported files, CLI output):

=================  ==========================================  =========================
what               recognised as                               masked form
=================  ==========================================  =========================
resident ID        18 characters: 17 digits + digit/X;         ``1101**********1234``
                   old 15-digit IDs
mobile             ``1[3-9]`` + 9 digits, optional ``+86``/``86``  ``138****5678``
                   prefix, optional space/hyphen groups
                   (``138-1234-5678``, ``138 1234 5678``)
landline           area code ``0xx``/``0xxx`` + 7–8 digits,    ``021-****1234``
                   optional hyphen or space
bank card          16–19 digits (contiguous or 4-digit groups)  ``************1234``
=================  ==========================================  =========================

A number only counts when it is not part of a longer digit run (``(?<!\\d) … (?!\\d)``), so case numbers and amounts
are left alone. Masking is idempotent: masked forms contain no run of seven digits, so a second pass changes
nothing. The ID format (4 + 10 stars + 4) and the phone format (3 + 4 stars + 4) are those of
:mod:`anju.ingest.pii`, so text masked here and there looks the same.

Vectorised: a pyarrow RE2 scan finds the texts holding a candidate digit run; only those go through the Python
patterns (which need look-arounds RE2 lacks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PII_PATTERNS", "mask_array", "mask_one", "mask_pii", "pii_found"]

_SEP = r"[ \-－]?"

#: (name, compiled pattern, replacement) applied in this order: IDs before phones so the mobile pattern cannot bite
#: into an ID, bank cards last.
PII_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("id18", re.compile(r"(?<![0-9])([1-9][0-9]{3})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9Xx])"), r"\1**********\2"),
    ("mobile", re.compile(rf"(?<![0-9])((?:\+?86{_SEP})?)(1[3-9][0-9]){_SEP}([0-9]{{4}}){_SEP}([0-9]{{4}})(?![0-9])"),
     r"\1\2****\4"),
    ("landline", re.compile(r"(?<![0-9])(0[1-9][0-9]{1,2})([\-－ ]?)[0-9]{3,4}([0-9]{4})(?![0-9])"), r"\1\2****\3"),
    ("id15", re.compile(r"(?<![0-9])([1-9][0-9]{3})[0-9]{7}([0-9]{4})(?![0-9])"), r"\1*******\2"),
    ("bank_card", re.compile(r"(?<![0-9])(?:[0-9]{12,15}|(?:[0-9]{4} ){3}(?:[0-9]{0,3} ?))([0-9]{4})(?![0-9])"),
     r"************\1"),
)

# The same rules for RE2 (pyarrow), which has no look-arounds: the digit boundary on each side is a captured group
# (a non-digit or the text's edge) put back by the replacement. A boundary character consumed by one match cannot
# start the next, so two numbers one character apart need a second pass of the same pattern; mask_array repeats
# each pattern, and both implementations the whole sequence, to a fixpoint (tested against mask_one).
_L, _R = r"(^|[^0-9])", r"([^0-9]|$)"
_RE2_PATTERNS: tuple[tuple[str, str], ...] = (
    (_L + r"([1-9][0-9]{3})[0-9]{10}([0-9]{3}[0-9Xx])([^0-9Xx]|$)", r"\1\2**********\3\4"),
    (_L + rf"((?:\+?86{_SEP})?)(1[3-9][0-9]){_SEP}([0-9]{{4}}){_SEP}([0-9]{{4}})" + _R, r"\1\2\3****\5\6"),
    (_L + r"(0[1-9][0-9]{1,2})([\-－ ]?)[0-9]{3,4}([0-9]{4})" + _R, r"\1\2\3****\4\5"),
    (_L + r"([1-9][0-9]{3})[0-9]{7}([0-9]{4})" + _R, r"\1\2*******\3\4"),
    (_L + r"(?:[0-9]{12,15}|(?:[0-9]{4} ){3}(?:[0-9]{0,3} ?))([0-9]{4})" + _R, r"\1************\2\3"),
)

# RE2 prefilter (no look-arounds): any text that could hold one of the numbers above
_CANDIDATE = r"[0-9]{7}|[0-9]{3}[ \-－][0-9]{4}[ \-－][0-9]{4}|[0-9]{4} [0-9]{4} [0-9]{4}|[0-9]{3,4}[\-－ ][0-9]{7}"


def mask_one(text: str) -> str:
    """Mask the personal numbers of one text.

    >>> mask_one("联系电话13812345678，身份证11010119900307123X，座机021-64381234")
    '联系电话138****5678，身份证1101**********123X，座机021-****1234'
    >>> mask_one("+86 138 1234 5678 / 6222021234567890123")
    '+86 138****5678 / ************0123'
    """
    while True:  # to a fixpoint: masking a bank card can leave a landline-shaped tail (a second pass masks it)
        before = text
        for _, pat, repl in PII_PATTERNS:
            text = pat.sub(repl, text)
        if text == before:
            return text


def _candidates(texts: list[str]) -> np.ndarray:
    arr = pa.array(texts, type=pa.string())
    hit = pc.match_substring_regex(arr, _CANDIDATE).fill_null(False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def mask_pii(texts: Iterable[str | None]) -> list[str]:
    """Mask phone, ID-card and bank-card numbers in a batch of texts (``None`` → ``""``).

    Parameters
    ----------
    texts
        Any iterable of strings.

    Returns
    -------
    list[str]
        The texts with every recognised number masked (see the module table); texts without one are returned
        unchanged. ``mask_pii(mask_pii(x)) == mask_pii(x)``.

    Examples
    --------
    >>> mask_pii(["报警人电话13812345678", "被骗3万元", None])
    ['报警人电话138****5678', '被骗3万元', '']
    """
    out = ["" if t is None else str(t) for t in texts]
    if not out:
        return out
    for i in np.flatnonzero(_candidates(out)):
        out[i] = mask_one(out[i])
    return out


def pii_found(texts: Iterable[str | None]) -> np.ndarray:
    """Boolean array: does each text still hold a recognisable phone, ID-card or bank-card number?"""
    vals = ["" if t is None else str(t) for t in texts]
    found = np.zeros(len(vals), dtype=bool)
    if not vals:
        return found
    for i in np.flatnonzero(_candidates(vals)):
        found[i] = any(pat.search(vals[i]) for _, pat, _ in PII_PATTERNS)
    return found


def mask_array(values: pa.Array | pa.ChunkedArray, *, candidates: pa.Array | None = None) -> pa.Array:
    """:func:`mask_pii` over an Arrow string array, in pyarrow's RE2 without Python strings (nulls stay null).

    The ingest path uses this for call texts and addresses: a prefilter finds the few texts holding a candidate
    digit run, and only those go through the patterns. ``candidates`` (a boolean array, e.g. from the ingest's C
    byte scan) replaces the RE2 prefilter; it must flag at least every text the prefilter would.

    >>> mask_array(pa.array(["联系电话13812345678,13912345678", "被骗3万元", None])).to_pylist()
    ['联系电话138****5678,139****5678', '被骗3万元', None]
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    hit = pc.match_substring_regex(values, _CANDIDATE).fill_null(False) if candidates is None else candidates
    if not pc.any(hit).as_py():
        return values
    sub = values.filter(hit)
    while True:  # to a fixpoint, as mask_one (each pass masks at least one more number, so this ends)
        before = sub
        for pattern, repl in _RE2_PATTERNS:
            # each pattern to its own fixpoint before the next, as Python's non-consuming look-arounds find every
            # match in one scan: a number whose left boundary the previous match consumed is found by the next pass
            # of the same pattern, not bitten by a later one
            while True:
                again = pc.replace_substring_regex(sub, pattern, repl)
                if again.equals(sub):
                    break
                sub = again
        if sub.equals(before):
            return pc.replace_with_mask(values, hit, sub)
