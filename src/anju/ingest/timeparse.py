"""Vectorised date-time parsing for source exports: strptime formats, ISO-8601 and epoch numbers.

Formats are tried in order, each only on the values no earlier format parsed, with ``pyarrow.compute.strptime``
(C++; whitespace in a format matches any run of whitespace, numbers may be unpadded: ``%m`` reads ``3`` and
``03``). Besides strptime formats a profile may list:

* ``iso`` — ISO-8601 with ``T`` or a space, optional seconds, fraction (dropped) and ``Z``/``±hh:mm`` offset;
* ``epoch_s`` / ``epoch_ms`` — seconds or milliseconds since 1970-01-01 UTC.

``iso`` is always tried last, because spreadsheet and Parquet readers render native date-times that way.

Values none of the profile's formats read are then normalised (:func:`_normalise`: full-width digits, ``年月日``,
dots and slashes between date parts, ``上午/下午/晚上/凌晨/中午`` + 12-hour clock, ``14点05分``, ``14点半``,
``202503011405``, fractional seconds) and tried with the built-in formats; a bare number between 20000 and 80000
is an Excel serial date (days since 1899-12-30, fraction = time of day). The common path (every value read by a
profile format) costs nothing extra.

Each row gets a **time precision** (:data:`PRECISIONS`): ``minute`` (minutes or finer were written), ``hour`` (only
an hour: ``2025年3月1日 14时``) or ``day`` (a date only: ``2025年3月1日``, an integral Excel serial). A date-only
row is placed at midnight; hour-of-day, night and shift analyses must leave such rows out (the lake's
``time_precision`` column says which).

strptime alone would accept 30 February as 2 March (it normalises the day), so values whose parsed date could be
such a roll-over are re-checked against the day written in the source. Values with an offset or an epoch are
instants; all others are wall-clock times in the profile's time zone. The result has both forms: ``local`` (naive
wall clock in that zone) and ``utc``. An ambiguous wall-clock time at a daylight-saving change takes the earlier
instant; one that does not exist (in the spring gap) is shifted forward to the end of the gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PRECISIONS", "ParsedTimes", "format_precision", "parse_times"]

#: time precision codes (index = the int8 code used while parsing)
PRECISIONS: tuple[str, ...] = ("minute", "hour", "day")
_MINUTE, _HOUR, _DAY = 0, 1, 2

_NAT = np.iinfo(np.int64).min
_ISO_NAIVE = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_ISO_OFFSET = ("%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M%z")
_US = 1_000_000


@dataclass
class ParsedTimes:
    """Parsed times: ``local`` (timestamp[us], naive wall clock) and ``utc`` (timestamp[us, UTC]); null = failed."""

    local: pa.Array
    utc: pa.Array
    #: ``minute`` / ``hour`` / ``day`` per row (null where the value did not parse)
    precision: pa.Array | None = None

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of values that parsed."""
        return np.asarray(self.local.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _strptime_us(values: pa.Array, fmt: str) -> np.ndarray:
    """strptime to int64 microseconds (NaT sentinel on failure), rejecting day-of-month roll-overs."""
    ts = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
    if ts.null_count == len(ts):  # nothing read (the usual case for the fallback formats): no further passes
        return np.full(len(ts), _NAT, np.int64)
    if "%z" in fmt:
        ts = pc.cast(ts, pa.timestamp("s", "UTC"))
    secs = ts.cast(pa.int64()).fill_null(_NAT).to_numpy(zero_copy_only=False)
    out = np.where(secs == _NAT, _NAT, secs * _US)
    if "%d" in fmt or "%e" in fmt:
        _reject_rollover(values, ts, fmt, out)
    return out


def _reject_rollover(values: pa.Array, ts: pa.Array, fmt: str, out: np.ndarray) -> None:
    """Null out values whose written day does not exist in the written month (e.g. 2月30日, which strptime rolls
    over to 3月2日).

    Only values that could be such a roll-over are re-read (their parsed date is 1–3 March or the 1st of a month
    after a 30-day month); with an offset (``%z``) the parsed date is shifted to UTC, so every value is re-read.
    """
    valid = pc.is_valid(ts)
    if "%z" in fmt:
        maybe = valid
    else:
        month = pc.month(ts)
        day = pc.day(ts)
        maybe = pc.and_(valid, pc.or_(
            pc.and_(pc.equal(month, 3), pc.less_equal(day, 3)),
            pc.and_(pc.is_in(month, pa.array([5, 7, 10, 12], pa.int64())), pc.equal(day, 1)),
        ))
    idx = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
    regex = _format_regex(fmt)
    if idx.size == 0 or regex is None:
        return
    parts = pc.extract_regex(values.take(pa.array(idx)), regex)
    d = pc.cast(pc.struct_field(parts, "d"), pa.int64()).to_numpy(zero_copy_only=False)
    names = {parts.type.field(i).name for i in range(parts.type.num_fields)}
    if {"Y", "m"} <= names:  # the calendar decides
        y = pc.cast(pc.struct_field(parts, "Y"), pa.int64()).to_numpy(zero_copy_only=False)
        m = pc.cast(pc.struct_field(parts, "m"), pa.int64()).to_numpy(zero_copy_only=False)
        first = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1).astype("timedelta64[M]")
        month_days = ((first + np.timedelta64(1, "M")).astype("datetime64[D]")
                      - first.astype("datetime64[D]")).astype(np.int64)
        bad = idx[d > month_days]
    else:  # no year or month in the format: compare with the parsed day
        bad = idx[d != pc.day(ts).take(pa.array(idx)).to_numpy(zero_copy_only=False)]
    out[bad] = _NAT


_DIRECTIVES = {
    "Y": r"[+-]?\d{4}", "y": r"\d{2}", "m": r"\d{1,2}", "d": r"\d{1,2}", "e": r"\s?\d{1,2}",
    "H": r"\d{1,2}", "I": r"\d{1,2}", "M": r"\d{1,2}", "S": r"\d{1,2}", "p": r"[AaPp][Mm]",
    "b": r"[A-Za-z]+", "B": r"[A-Za-z]+", "h": r"[A-Za-z]+", "a": r"[A-Za-z]+", "A": r"[A-Za-z]+",
    "j": r"\d{1,3}", "z": r"(?:Z|[+-]\d{2}:?\d{2})", "%": "%", "n": r"\s*", "t": r"\s*",
}


@lru_cache(maxsize=64)
def _format_regex(fmt: str) -> str | None:
    """A regex with named groups ``d`` (and ``Y``, ``m`` when present) that matches what ``fmt`` matches.

    None if a directive is unknown.
    """
    groups = {"d": r"\s?(?P<d>\d{1,2})", "e": r"\s?(?P<d>\d{1,2})", "Y": r"(?P<Y>[+-]?\d{4})",
              "m": r"(?P<m>\d{1,2})"}
    parts = ["^"]
    seen: set[str] = set()
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code not in _DIRECTIVES:
                return None
            name = "d" if code == "e" else code
            if code in groups and name not in seen:
                parts.append(groups[code])
                seen.add(name)
            else:
                parts.append(_DIRECTIVES[code])
            i += 2
            continue
        parts.append(r"\s*" if ch.isspace() else re.escape(ch))
        i += 1
    parts.append("$")
    return "".join(parts)


def _iso_us(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """ISO-8601 → (wall-clock µs, instant µs), each NaT where not that kind."""
    n = len(values)
    local = np.full(n, _NAT, np.int64)
    instant = np.full(n, _NAT, np.int64)
    v = pc.replace_substring_regex(values, r"^(\d{4}-\d{1,2}-\d{1,2})[Tt]", r"\1 ")
    if pc.any(pc.match_substring(v, ".")).as_py():
        v = pc.replace_substring_regex(v, r"(\d{1,2}:\d{2}:\d{2})\.\d+", r"\1")
    _fill(local, v, _ISO_NAIVE)
    todo = np.flatnonzero(local == _NAT)
    if todo.size:
        sub = v.take(pa.array(todo))
        part = np.full(todo.size, _NAT, np.int64)
        _fill(part, sub, _ISO_OFFSET)
        instant[todo] = part
    return local, instant


def _fill(out: np.ndarray, values: pa.Array, formats: tuple[str, ...] | list[str]) -> None:
    for fmt in formats:
        todo = np.flatnonzero(out == _NAT)
        if todo.size == 0:
            return
        sub = values if todo.size == len(values) else values.take(pa.array(todo))
        out[todo] = _strptime_us(sub, fmt)


def _epoch_us(values: pa.Array, scale: int) -> np.ndarray:
    ok = pc.match_substring_regex(values, r"^-?\d+(\.\d+)?$")
    num = pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())
    f = num.fill_null(np.nan).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(f) & (np.abs(f) < 1e11 * (1000 if scale == 1000 else 1))
    return np.where(good, np.round(np.where(good, f, 0) * (_US // scale)).astype(np.int64), _NAT)


def parse_times(values: pa.Array | pa.ChunkedArray, formats: list[str] | tuple[str, ...],
                timezone: str) -> ParsedTimes:
    """Parse source date-time strings with ``formats`` in ``timezone``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = parse_times(pa.array(["2019年3月2日 14时30分", "2019/3/2 14:30", "2019年2月30日 1时0分", None]),
    ...                 ["%Y年%m月%d日 %H时%M分", "%Y/%m/%d %H:%M"], "Asia/Shanghai")
    >>> [str(x) for x in t.local.to_pylist()]
    ['2019-03-02 14:30:00', '2019-03-02 14:30:00', 'None', 'None']
    >>> str(t.utc[0].as_py())
    '2019-03-02 06:30:00+00:00'
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    n = len(values)
    local = np.full(n, _NAT, np.int64)
    instant = np.full(n, _NAT, np.int64)
    precision = np.full(n, _MINUTE, np.int8)
    _try_formats(values, [*formats, "iso"] if "iso" not in formats else list(formats), local, instant, precision,
                 np.arange(n))
    todo = np.flatnonzero((local == _NAT) & (instant == _NAT))
    if todo.size:
        sub = values.take(pa.array(todo))
        if not pc.all(pc.is_null(sub)).as_py():
            norm = _normalise(sub)
            _try_formats(norm, [*formats, *_BUILTIN, "iso", "excel"], local, instant, precision, todo)
    out = _both(local, instant, timezone)
    valid = np.asarray(out.local.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    out.precision = pa.array(PRECISIONS, pa.string()).take(pa.array(precision, pa.int8(), mask=~valid))
    return out


def format_precision(fmt: str) -> int:
    """The precision code a strptime format gives: minute if it reads minutes, hour if only hours, else day."""
    if fmt in ("iso", "epoch_s", "epoch_ms", "excel"):
        return _MINUTE
    if "%M" in fmt or "%T" in fmt or "%R" in fmt:
        return _MINUTE
    if "%H" in fmt or "%I" in fmt:
        return _HOUR
    return _DAY


def _try_formats(values: pa.Array, formats: list[str], local: np.ndarray, instant: np.ndarray,
                 precision: np.ndarray, rows: np.ndarray) -> None:
    """Try ``formats`` in order on ``values`` (the source rows ``rows``), each on what is still unparsed."""
    n = len(values)
    loc = np.full(n, _NAT, np.int64)
    ins = np.full(n, _NAT, np.int64)
    prec = np.full(n, _MINUTE, np.int8)
    todo = np.arange(n)  # the rows no format has read yet (shrinks as formats read them: no full-array passes)
    for fmt in formats:
        if todo.size == 0:
            break
        sub = values if todo.size == n else values.take(pa.array(todo))
        if sub.null_count == len(sub):
            break
        if fmt == "iso":
            a, b = _iso_us(sub)
            loc[todo], ins[todo] = a, b
            no_clock = ~np.asarray(pc.match_substring(sub, ":").fill_null(False).to_numpy(zero_copy_only=False),
                                   dtype=bool)
            prec[todo[no_clock & ((a != _NAT) | (b != _NAT))]] = _DAY
            todo = todo[(a == _NAT) & (b == _NAT)]
        elif fmt in ("epoch_s", "epoch_ms"):
            got = _epoch_us(sub, 1 if fmt == "epoch_s" else 1000)
            ins[todo] = got
            todo = todo[got == _NAT]
        elif fmt == "excel":
            a, whole = _excel_us(sub)
            loc[todo] = a
            prec[todo[whole]] = _DAY
            todo = todo[a == _NAT]
        elif "%z" in fmt:
            got = _strptime_us(sub, fmt)
            ins[todo] = got
            todo = todo[got == _NAT]
        else:
            got = _strptime_us(sub, fmt)
            loc[todo] = got
            p = format_precision(fmt)
            if p != _MINUTE:
                prec[todo[got != _NAT]] = p
            todo = todo[got == _NAT]
    local[rows] = np.where(loc != _NAT, loc, local[rows])
    instant[rows] = np.where(ins != _NAT, ins, instant[rows])
    precision[rows] = prec


#: formats tried after normalisation (see :func:`_normalise`), finest first
_BUILTIN = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H", "%Y-%m-%d")
_FULL_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {"：": ":", "／": "/", "－": "-", "．": ".", "　": " "}
_AM_PM = r"^(?P<pre>.*?)\s*(?P<ap>上午|早上|凌晨|中午|下午|傍晚|晚上)\s*(?P<h>\d{1,2})(?P<post>\D.*|)$"


def _normalise(values: pa.Array) -> pa.Array:
    """Rewrite the date-time spellings of Chinese exports to ``YYYY-M-D[ H[:MM[:SS]]]`` (see the module doc)."""
    v = values
    if pc.any(pc.match_substring_regex(v, "[０-９：／－．　]")).as_py():
        for a, b in _FULL_WIDTH.items():
            v = pc.replace_substring(v, a, b)
    # 202503011405(00) and 20250301
    v = pc.replace_substring_regex(v, r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$", r"\1-\2-\3 \4:\5:\6")
    v = pc.replace_substring_regex(v, r":$", "")
    v = pc.replace_substring_regex(v, r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3")
    # 2025年3月1日, 2025.3.1, 2025/3/1 → 2025-3-1
    v = pc.replace_substring_regex(v, r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*[日号]?", r"\1-\2-\3 ")
    # 14点05分(30秒), 14时05分, 14点半, 14点, 14时
    v = pc.replace_substring_regex(v, r"(\d{1,2})\s*[点时]\s*半", r"\1:30")
    v = pc.replace_substring_regex(v, r"(\d{1,2})\s*[点时]\s*(\d{1,2})\s*分\s*(?:(\d{1,2})\s*秒)?", r"\1:\2:\3")
    v = pc.replace_substring_regex(v, r"(\d{1,2})\s*[点时]\s*$", r"\1")
    v = pc.replace_substring_regex(v, r"(\d{1,2}:\d{1,2}):$", r"\1")
    # fractional seconds
    v = pc.replace_substring_regex(v, r"(\d{1,2}:\d{2}:\d{2})[.,]\d+", r"\1")
    if pc.any(pc.match_substring_regex(v, "上午|早上|凌晨|中午|下午|傍晚|晚上")).as_py():
        v = _twelve_hour(v)
    return pc.utf8_trim_whitespace(v)


def _twelve_hour(v: pa.Array) -> pa.Array:
    """``下午2:05`` → ``14:05``: 下午/傍晚/晚上 add 12 to hours 1–11, 中午 keeps 12 and adds 12 to 1–11, 凌晨 12 → 0."""
    parts = pc.extract_regex(v, _AM_PM)
    ok = np.asarray(pc.is_valid(parts).to_numpy(zero_copy_only=False), dtype=bool)
    if not ok.any():
        return v
    idx = pa.array(np.flatnonzero(ok))
    sub = parts.take(idx)
    ap = pc.struct_field(sub, "ap").to_numpy(zero_copy_only=False)
    h = pc.cast(pc.struct_field(sub, "h"), pa.int64()).to_numpy(zero_copy_only=False)
    pm = np.isin(ap, ["下午", "傍晚", "晚上"]) & (h < 12)
    noon = (ap == "中午") & (h < 12)
    small_hours = (ap == "凌晨") & (h == 12)
    h = np.where(pm | noon, h + 12, np.where(small_hours, 0, h))
    hour = pc.cast(pa.array(h), pa.string())
    rebuilt = pc.binary_join_element_wise(pc.struct_field(sub, "pre"), " ", hour, pc.struct_field(sub, "post"), "")
    return pc.replace_with_mask(v, pa.array(ok), pc.utf8_trim_whitespace(rebuilt))


_EXCEL_EPOCH_US = int((np.datetime64("1899-12-30", "us") - np.datetime64("1970-01-01", "us")).astype(np.int64))


def _excel_us(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial dates (20000–80000, i.e. 1954–2119) → wall-clock µs, and which were whole days."""
    ok = pc.match_substring_regex(values, r"^\d{5}(\.\d+)?$")
    num = pc.cast(pc.if_else(ok, values, pa.scalar(None, pa.string())), pa.float64())
    f = num.fill_null(np.nan).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(f) & (f >= 20000) & (f <= 80000)
    us = np.where(good, _EXCEL_EPOCH_US + np.round(np.where(good, f, 0) * 86400.0) * _US, _NAT).astype(np.int64)
    return us, good & (np.where(good, f, 0) == np.floor(np.where(good, f, 0)))


def _both(local: np.ndarray, instant: np.ndarray, timezone: str) -> ParsedTimes:
    """Complete each row's missing form: wall clock → instant via the zone, instant → wall clock."""
    has_local = local != _NAT
    has_instant = instant != _NAT
    loc_arr = pa.array(local, pa.int64(), mask=~has_local).cast(pa.timestamp("us"))
    from_local = pc.assume_timezone(loc_arr, timezone=timezone, ambiguous="earliest", nonexistent="latest")
    utc_from_local = from_local.cast(pa.int64()).fill_null(_NAT).to_numpy(zero_copy_only=False)
    utc = np.where(has_local, utc_from_local, instant)
    if has_instant.any():
        inst_arr = pa.array(instant, pa.int64(), mask=~has_instant).cast(pa.timestamp("us", timezone))
        wall = pc.local_timestamp(inst_arr).cast(pa.int64()).fill_null(_NAT).to_numpy(zero_copy_only=False)
        local = np.where(has_local, local, wall)
    valid = local != _NAT
    return ParsedTimes(
        local=pa.array(local, pa.int64(), mask=~valid).cast(pa.timestamp("us")),
        utc=pa.array(utc, pa.int64(), mask=~valid).cast(pa.timestamp("us", "UTC")),
    )
