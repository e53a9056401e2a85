"""Mask personal data in free text before it is stored or shown: the one set of masking rules.

Call texts, addresses, unit names and citizen messages can carry a phone number ("联系电话13812345678"), an ID-card
number, a bank card or a person's name. anju masks them everywhere text leaves this package (lake, reports,
exported files, CLI output), with the rules below — written once, in RE2 over Arrow arrays (:func:`mask_array`);
:func:`mask_one`, :func:`mask_pii` and :func:`pii_found` are that same function on Python strings.

=================  ===================================================  ===============================
what               recognised as                                        masked form
=================  ===================================================  ===============================
resident ID        18 characters: 6 digits, a birth date (19xx/20xx),   ``4301**********118X``
                   3 digits + digit/X; groups 6-8-4 or 6-4-4-4 with a
                   space, ``-`` or ``.``; old 15-digit IDs (6 digits,
                   a YYMMDD date, 3 digits)
mobile             ``1[3-9]`` + 9 digits, optional ``+86``/``86``;       ``138****5678``
                   groups 3-4-4 or 3-3-5 with a space, ``-`` or ``.``
landline           area code ``0xx``/``0xxx`` (optionally in            ``021-****1234``,
                   parentheses) + 7–8 digits, optional hyphen/space      ``0731-****7890转801``
                   groups and an extension (``转801``)
bank card          16–19 digits starting 3–6 or 9 (contiguous or in     ``************1234``
                   groups of 4, the last group 1–4 digits)
name               two to four Chinese characters after 报警人,         ``张**``
                   当事人, 受害人, 嫌疑人, 联系人, 我叫, 本人 (not a
                   verb or preposition such as 称, 在, 于)
=================  ===================================================  ===============================

Full-width digits (``１３８…``) are read as digits: a text holding them is rewritten with ASCII digits before the
rules run, so they are masked like any other number.

What is left alone: a number that is part of a longer digit run, or that follows an ASCII letter (record ids
such as ``J320105202403020001``, order numbers with a prefix), years (``2017 2018 2019 2020年``: a card starts
with 3–6 or 9, an ID needs a date in its place), amounts and case numbers. Masking is idempotent: masked forms
hold no maskable number, so a second pass changes nothing.

Vectorised: cheap tests pick the texts that may hold something (a run of seven digits, full-width digits, a
keyword followed by a character that could start a name); only those go through the RE2 rules. The RE2 rules have
no look-arounds: the boundary on each side is a captured group (a non-digit or the text's edge) put back by the
replacement, and each rule runs to a fixpoint so that two numbers one character apart are both found.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["NAME_CHAR", "NAME_KEYWORDS", "NAME_START", "mask_array", "mask_one", "mask_pii", "pii_found", "wide_digits"]

#: words after which a name is masked
NAME_KEYWORDS = ("报警人", "当事人", "受害人", "嫌疑人", "联系人", "我叫", "本人")
# characters that cannot start (or continue) a name after a keyword: verbs, prepositions, particles
_STOP = ("称在于被的是家报发从向和与因说将已未没不也都就到对把系双等们及某自现之为来去所要均前后今昨电手其该此"
         "反诉误讲表打拨求告述")  # the second line: verbs of call texts (报警人反映 / 诉 / 误拨 / 讲述 / 表示 / 打电话 …)

_S = r"[ \-－.．]?"  # one optional separator between digit groups
_L, _R = r"(^|[^0-9A-Za-z])", r"([^0-9]|$)"
_DATE8 = r"(?:19|20)[0-9]{2}" + _S + r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
#: a character that can begin or continue a name: a Han character that is not a verb, preposition or particle
NAME_CHAR = rf"[^{_STOP}\P{{Han}}]"

#: (RE2 pattern, replacement), applied in this order: IDs before phones so that the mobile rule cannot bite into an
#: ID; bank cards before landlines (a card group such as 0212 would pass for an area code); names last
RULES: tuple[tuple[str, str], ...] = (
    (_L + r"([1-9][0-9]{3})[0-9]{2}" + _S + _DATE8 + _S + r"([0-9]{3}[0-9Xx])([^0-9Xx]|$)", r"\1\2**********\3\4"),
    (_L + rf"((?:\+?86{_S})?)(1[3-9][0-9]){_S}[0-9]{{4}}{_S}([0-9]{{4}})" + _R, r"\1\2\3****\4\5"),
    (_L + rf"((?:\+?86{_S})?)(1[3-9][0-9]){_S}[0-9]{{3}}{_S}[0-9]([0-9]{{4}})" + _R, r"\1\2\3****\4\5"),
    (_L + r"([1-9][0-9]{3})[0-9]{4}(?:0[1-9]|1[0-2])[0-3]([0-9]{4})" + _R, r"\1\2*******\3\4"),
    (_L + r"[3-69][0-9]{11,14}([0-9]{4})" + _R, r"\1************\2\3"),
    (_L + r"[3-69][0-9]{3}(?:[ \-－][0-9]{4}){2,3}[ \-－]([0-9]{1,4})" + _R, r"\1************\2\3"),
    (_L + r"(\(?0[1-9][0-9]{1,2}\)?)([\-－ ]?)[0-9]{3,4}[\-－ ]?([0-9]{4})((?:转[0-9]{1,6})?)" + _R,
     r"\1\2\3****\4\5\6"),
    # a name already masked (欧阳**) is not a name to mask again: the character after it may not be a star
    ("(" + "|".join(NAME_KEYWORDS) + r")([:：]?\s*)(" + NAME_CHAR + ")" + NAME_CHAR + r"{1,3}([^*]|$)",
     r"\1\2\3**\4"),
)

_FULL_WIDTH = [(chr(0xFF10 + i), str(i)) for i in range(10)]
# RE2 prefilter of the number rules (a superset: any text that could hold one of the numbers above)
_CANDIDATE = r"[0-9](?:[ \-－.．]?[0-9]){6}"
#: one RE2 pass that tells whether any number rule can match a text (the rules' union, for matching only)
_ANY_NUMBER = "|".join(f"(?:{p})" for p, _ in RULES[:-1])
#: the name rule's own start — a keyword, then a character that can begin a name — as a one-pass prefilter
NAME_START = "(?:" + "|".join(NAME_KEYWORDS) + r")[:：]?\s*" + NAME_CHAR


def mask_array(values: pa.Array | pa.ChunkedArray, *, candidates: pa.Array | None = None,
               names: bool = True, name_candidates: np.ndarray | None = None,
               wide: np.ndarray | None = None) -> pa.Array:
    """Mask the personal data of every text of an Arrow string array (nulls stay null).

    ``candidates`` (a boolean array, e.g. from ingest's C digit scan) replaces the RE2 prefilter of the number
    rules; it must flag at least every text holding seven digits in a row (one separator allowed between two).
    ``names=False`` skips the name rule (for columns that are not free text: units, sub-categories).
    ``name_candidates`` (a boolean NumPy array, e.g. from ingest's C keyword scan) replaces the RE2 prefilter of the
    name rule; it must flag at least every text where :data:`NAME_START` matches. ``wide`` (likewise) replaces the
    search for full-width digits: exactly the texts holding one of :func:`wide_digits` (``names``).

    The work is in as few RE2 passes as the rules allow: one pass of the rules' union picks the texts some rule
    matches; each rule runs once over those (again only where its own match remains — two numbers one character
    apart); a round repeats only for texts that a rule changed and that some rule still matches (a card's tail).

    >>> mask_array(pa.array(["联系电话13812345678,13912345678", "被骗3万元", None, "报警人张三丰称"])).to_pylist()
    ['联系电话138****5678,139****5678', '被骗3万元', None, '报警人张**称']
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    if len(values) == 0:
        return values
    hit = pc.match_substring_regex(values, _CANDIDATE).fill_null(False) if candidates is None else candidates
    if wide is None:
        wide = _full_width_digits(values, wide_digits(names))
    numbers = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool) | wide
    if not names:
        named = np.zeros(len(values), dtype=bool)
    elif name_candidates is not None:
        named = np.asarray(name_candidates, dtype=bool)
    else:
        named = _name_candidates(values)
    rows = numbers | named
    if not rows.any():
        return values
    idx = np.flatnonzero(rows)
    sub = values.take(pa.array(idx))
    if wide.any():
        w = np.flatnonzero(wide[idx])
        part = sub.take(pa.array(w))
        for a, b in _FULL_WIDTH:
            part = pc.replace_substring(part, a, b)
        sub = _put(sub, w, part)
    num_ok, name_ok = numbers[idx], named[idx]
    # which rules may apply to which of these rows: the number rules to the number candidates, the name rule to
    # the name candidates; a round runs on the rows some applicable rule matches
    todo = _matching(sub, num_ok, name_ok, np.ones(len(idx), dtype=bool))
    if not todo.any():
        return values
    while todo.any():
        changed = np.zeros(len(idx), dtype=bool)
        for (pattern, repl), may in zip(RULES, [num_ok] * (len(RULES) - 1) + [name_ok], strict=True):
            live = np.flatnonzero(todo & may)
            while live.size:
                part = sub.take(pa.array(live))
                again = pc.replace_substring_regex(part, pattern, repl)
                diff = np.asarray(pc.not_equal(again, part).fill_null(False).to_numpy(zero_copy_only=False),
                                  dtype=bool)
                if not diff.any():
                    break
                moved = live[diff]
                done = again.filter(pa.array(diff))
                sub = _put(sub, moved, done)
                changed[moved] = True
                # the same rule again only where it still matches (the boundary it consumed hid a second number)
                still = np.asarray(pc.match_substring_regex(done, pattern).fill_null(False)
                                   .to_numpy(zero_copy_only=False), dtype=bool)
                live = moved[still]
        # masking one number can leave another shape (a card's tail): changed rows some rule matches go again
        todo = _matching(sub, num_ok, name_ok, changed)
    return _put(values, idx, sub)


def _matching(sub: pa.Array, num_ok: np.ndarray, name_ok: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Rows of ``among`` that some rule may change: the number rules' union where numbers may be, the name rule
    where names may be (a match of any rule always changes the text, so this is exactly "not yet a fixpoint")."""
    out = np.zeros(len(sub), dtype=bool)
    for pattern, ok in ((_ANY_NUMBER, num_ok), (RULES[-1][0], name_ok)):
        rows = np.flatnonzero(among & ok)
        if rows.size:
            m = pc.match_substring_regex(sub if rows.size == len(sub) else sub.take(pa.array(rows)), pattern)
            out[rows] |= np.asarray(m.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return out


def _put(values: pa.Array, at: np.ndarray, new: pa.Array) -> pa.Array:
    """``values`` with the entries at the sorted positions ``at`` replaced by ``new``."""
    if len(at) == len(values):
        return new
    mask = np.zeros(len(values), dtype=bool)
    mask[at] = True
    return pc.replace_with_mask(values, pa.array(mask), new)


def wide_digits(names: bool) -> str:
    """The full-width digits whose presence sends a text through the number rules (a mobile starts with １, a
    landline with ０, an ID's birth year holds １ or ０; ``２`` catches cards too — in free text, ``names``)."""
    return "０１２" if names else "０１"


def _full_width_digits(values: pa.Array, digits: str) -> np.ndarray:
    """Texts holding one of the full-width ``digits`` (a mobile starts with １, a landline with ０, an ID's birth
    year holds １ or ０; ``２`` catches cards too).

    A byte scan of the array's data buffer with NumPy: U+FF10..U+FF19 are ``EF BC 90..99`` in UTF-8, and a lead
    byte ``EF`` is rare in Chinese text, so only its few positions are looked at (an RE2 pass over every text
    cost ten times more).
    """
    out = np.zeros(len(values), dtype=bool)
    bufs = values.buffers()
    if bufs[2] is None or len(values) == 0:
        return out
    offsets = np.frombuffer(bufs[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(bufs[2], dtype=np.uint8)[lo:hi]
    pos = np.flatnonzero(data[:-2] == 0xEF) if data.size > 2 else np.zeros(0, np.int64)
    if pos.size == 0:
        return out
    pos = pos[data[pos + 1] == 0xBC]
    third = data[pos + 2]
    want = np.zeros(256, dtype=bool)
    want[[0x90 + int(ord(d) - 0xFF10) for d in digits]] = True
    pos = pos[want[third]] + lo
    if pos.size:
        row = np.searchsorted(offsets, pos, side="right") - 1
        out[row] = True
        if values.null_count:
            out &= np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return out


def _name_candidates(values: pa.Array) -> np.ndarray:
    """Texts where a name keyword is followed by a Chinese character that could start a name: the name rule's own
    beginning, in one RE2 pass (a superset of the rule's matches; it was fourteen literal searches and a reversal
    of every text)."""
    m = pc.match_substring_regex(values, NAME_START)
    return np.asarray(m.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def mask_one(text: str) -> str:
    """Mask the personal data of one text (:func:`mask_array` on one value).

    >>> mask_one("联系电话13812345678，身份证11010119900307123X，座机021-64381234")
    '联系电话138****5678，身份证1101**********123X，座机021-****1234'
    >>> mask_one("+86 138 1234 5678 / 6222021234567890123")
    '+86 138****5678 / ************0123'
    """
    return mask_array(pa.array([text], pa.string()))[0].as_py()  # type: ignore[no-any-return]


def mask_pii(texts: Iterable[str | None]) -> list[str]:
    """Mask the personal data of a batch of texts (``None`` → ``""``); texts without any come back unchanged.

    >>> mask_pii(["报警人电话13812345678", "被骗3万元", None])
    ['报警人电话138****5678', '被骗3万元', '']
    """
    out = ["" if t is None else str(t) for t in texts]
    if not out:
        return out
    return mask_array(pa.array(out, pa.string())).to_pylist()  # type: ignore[no-any-return]


def pii_found(texts: Iterable[str | None]) -> np.ndarray:
    """Boolean array: does each text still hold personal data the rules would mask?"""
    vals = ["" if t is None else str(t) for t in texts]
    if not vals:
        return np.zeros(0, dtype=bool)
    arr = pa.array(vals, pa.string())
    return np.asarray(pc.not_equal(mask_array(arr), arr).to_numpy(zero_copy_only=False), dtype=bool)
