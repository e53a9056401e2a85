"""Extraction from Chinese call texts: loss amounts in yuan, times, places and address parts.

Amounts
-------
:func:`amounts_yuan` reads the money written in a text, in the many ways people write it:

=======================  ==========  =====================================================================
text                     yuan        rule
=======================  ==========  =====================================================================
被骗人民币3万元          30000       number + 万/千/百/亿 multiplier + 元
损失五千余元             5000        Chinese numerals; 余/多/来 ("a bit more than") → the stated number
转账2.5万                25000       no 元, but a money verb right before (转账, 被骗, 损失, 共计…)
共计12,800元             12800       thousands separators
一万二 (after 借了)      12000       colloquial elision: a trailing digit takes the next lower unit
壹万贰仟元               12000       financial numerals
三四千元                 3000        a range of two neighbouring digits → its lower end
￥1,299 / 5k / 2w        1299 …      currency signs; k = 千, w = 万 after a digit
=======================  ==========  =====================================================================

A number counts as money when it is followed by a currency word (元, 块, 块钱, 圆), preceded by a currency sign
(人民币, ￥, ¥, RMB), or follows a money verb within two characters and is not followed by a counter word
(次, 笔, 个, 人, 天…). When a text holds several amounts, ``how="total"`` (the default) takes the one after a
total cue (共计, 合计, 总计, 累计, 一共, 总共, 共) if any — otherwise the largest; ``"sum"``, ``"max"`` and
``"first"`` are also available, and :func:`amounts_all` returns every amount.

Candidates are found with one RE2 scan over the whole array (pyarrow); only texts that can hold money are parsed in
Python.

Times, places, addresses
------------------------
:func:`extract_times` returns the time expressions of each text (``今天下午3点左右``, ``2024年3月2日14时30分``,
``凌晨``) and :func:`mentioned_hour` the clock hour they name (0–23, NaN if none). :func:`extract_places` returns
place phrases (``在上海康城小区`` → ``上海康城小区``). :func:`address_parts` splits addresses into district, town,
road, lane (弄), number (号), compound, building (栋/幢/号楼), unit (单元) and room (室).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anju.errors import AnjuError

__all__ = [
    "address_parts",
    "amounts_all",
    "amounts_yuan",
    "extract_places",
    "extract_times",
    "mentioned_hour",
    "parse_chinese_number",
]

# ----------------------------------------------------------------------------------------------- numbers
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "两": 2, "贰": 2, "貳": 2, "三": 3, "叁": 3, "四": 4,
             "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
_CN_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "k": 1000, "K": 1000,
            "万": 10_000, "萬": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "億": 100_000_000}
_DIGITS_CLASS = "零〇一壹二两贰貳三叁四肆五伍六陆七柒八捌九玖"
_UNITS_CLASS = "十拾百佰千仟万萬亿億"
_TOKEN = re.compile(r"([0-9]+(?:\.[0-9]+)?)|([" + _DIGITS_CLASS + r"])|([" + _UNITS_CLASS + r"kKwW])|(点)")
_RANGE = re.compile(r"([一二三四五六七八])([二三四五六七八九])(?=[十百千万])")


def _collapse_range(s: str) -> str:
    def repl(m: re.Match[str]) -> str:
        a, b = _CN_DIGIT[m.group(1)], _CN_DIGIT[m.group(2)]
        return m.group(1) if b == a + 1 else m.group(0)

    return _RANGE.sub(repl, s)


def parse_chinese_number(s: str) -> float:
    """Value of a number written with Arabic and/or Chinese numerals and multipliers; NaN if it is not one.

    Handles ``12,800``, ``2.5万``, ``一万二千八百``, ``一万二`` (= 12000: a trailing digit takes the next lower
    unit), ``三千五``, ``十二``, ``一万零五百``, ``1万2千``, ``壹万贰仟``, ``三四千`` (lower end: 3000), ``一点五万``.

    >>> [parse_chinese_number(x) for x in ["12,800", "2.5万", "一万二", "一万零五百", "两百五", "十二", "1万2千"]]
    [12800.0, 25000.0, 12000.0, 10500.0, 250.0, 12.0, 12000.0]
    """
    s = _collapse_range(s.replace(",", "").replace("，", ""))
    yi = wan = sec = 0.0
    cur: float | None = None
    last_unit: float | None = None
    zero_before = False
    frac_mode = False
    frac_scale = 0.1
    pos = 0
    for m in _TOKEN.finditer(s):
        if m.start() != pos:
            return math.nan
        pos = m.end()
        arabic, digit, unit, point = m.groups()
        if point:
            if cur is None or frac_mode:
                return math.nan
            frac_mode = True
            frac_scale = 0.1
            continue
        if arabic is not None or digit is not None:
            d = float(arabic) if arabic is not None else float(_CN_DIGIT[digit])
            if frac_mode:
                if arabic is not None:
                    return math.nan
                cur = (cur or 0.0) + d * frac_scale
                frac_scale /= 10
                continue
            if digit is not None and d == 0:
                zero_before = True
                continue
            cur = cur * 10 + d if cur is not None else d  # two digits in a row: positional (一二三 = 123)
            continue
        u = float(_CN_UNIT[unit])
        frac_mode = False
        if u >= 1e8:
            yi = (yi + wan + sec + (cur or 0.0)) * u
            wan = sec = 0.0
        elif u >= 1e4:
            wan = (sec + (cur if cur is not None else (0.0 if sec else 1.0))) * u
            sec = 0.0
        else:
            sec += (cur if cur is not None else 1.0) * u
        cur = None
        last_unit = u
        zero_before = False
    if pos != len(s) or (cur is None and last_unit is None and not zero_before):
        return math.nan
    if cur is not None and last_unit is not None and not zero_before and last_unit >= 10 and not frac_mode:
        cur = cur * last_unit / 10  # elision: 一万二 → 12000, 三千五 → 3500
    return yi + wan + sec + (cur or 0.0)


# ----------------------------------------------------------------------------------------------- amounts
_NUM = (r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|[" + _DIGITS_CLASS + _UNITS_CLASS + r"])"
        r"(?:[0-9]+(?:\.[0-9]+)?|[" + _DIGITS_CLASS + _UNITS_CLASS + r"]|点(?=[" + _DIGITS_CLASS + r"])"
        r"|(?<=[0-9])[kKwW](?![A-Za-z]))*")
_QUAL = r"(?:余|多|来)?"
_CURRENCY_AFTER = (r"(?:元(?!旦|宵)|块钱|块(?=[，。,;；！!？?、\s)）]|$|左右|的|多|余|人民币|现金)|圆(?![形满])"
                   r"|人民币)")
_SIGN = r"(?:人民币|RMB|rmb|￥|¥)"
_VERBS = (r"(?:转账|转了|转给|转入|转款|汇款|汇了|付款|付了|支付|充值|充了|被骗走?|骗走|骗了|损失|共计|合计|总计|累计|"
          r"一共|总共|价值|借给|借了|欠款|欠了|赔偿|涉案|金额|提现|取走|盗走|抢走|垫付|投入|投资)")
_COUNTER = r"(?:次|笔|个|人|名|天|日|年|月|号|岁|小时|分钟|多次|单|件|张|台|辆|部|条|家|户|元宝|倍|%|％|斤|公里|米)"
_TOTAL_CUE = re.compile(r"(?:共计|合计|总计|累计|一共|总共|共)[^，。,;；]{0,6}$")
_AMOUNT = re.compile(
    rf"(?P<sign>{_SIGN})\s?(?P<n1>{_NUM}){_QUAL}{_CURRENCY_AFTER}?"
    rf"|(?P<n2>{_NUM}){_QUAL}{_CURRENCY_AFTER}"
    rf"|(?P<verb>{_VERBS})(?P<gap>(?:了|给|共|约|近|达|他|她|对方|其){{0,3}})(?P<n3>{_NUM}){_QUAL}(?P<cur3>{_CURRENCY_AFTER})?(?!{_COUNTER}|[0-9])"
)
_CANDIDATE = (r"[0-9" + _DIGITS_CLASS + _UNITS_CLASS + r"](?:余|多|来)?(?:元|块|圆)|人民币|RMB|rmb|￥|¥|"
              r"(?:转|汇|付|支付|充|骗|损失|共|合计|总计|累计|价值|借|欠|赔|涉案|金额|提现|取走|盗走|抢走|垫付|投)"
              r"[^，。,;；]{0,5}[0-9" + _DIGITS_CLASS + _UNITS_CLASS + r"]")

How = Literal["total", "sum", "max", "first"]


def _amounts_in(text: str) -> list[tuple[float, bool]]:
    """(value, after a total cue) for every money amount in one text, in order."""
    out: list[tuple[float, bool]] = []
    for m in _AMOUNT.finditer(text):
        raw = m.group("n1") or m.group("n2") or m.group("n3")
        if raw is None:
            continue
        # a bare number after a verb needs a multiplier or at least two digits (转账5000, 转账2.5万)
        if (m.group("n3") is not None and m.group("cur3") is None
                and not re.search(r"[万萬千仟百佰亿億kKwW]", raw) and not re.fullmatch(r"[0-9,.]{2,}", raw)):
            continue
        if m.group("n2") is not None and re.fullmatch(r"[" + _UNITS_CLASS + r"]", raw):
            continue  # a bare 万元 without a number
        v = parse_chinese_number(raw)
        if math.isnan(v) or v <= 0:
            continue
        before = text[max(0, m.start() - 8): m.start()]
        cue = bool(_TOTAL_CUE.search(before)) or (m.group("verb") or "") in {"共计", "合计", "总计", "累计",
                                                                          "一共", "总共"}
        cue = cue or "共" in (m.group("gap") or "")
        out.append((v, cue))
    return out


def _candidates(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros(0, dtype=bool)
    hit = pc.match_substring_regex(pa.array(texts, type=pa.string()), _CANDIDATE).fill_null(False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _as_list(texts: Iterable[str | None]) -> list[str]:
    if isinstance(texts, str):
        raise AnjuError("expected a sequence of texts, got a single string; wrap it in a list: [text]")
    return ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in texts]


def amounts_all(texts: Iterable[str | None]) -> list[list[float]]:
    """Every money amount (yuan) of each text, in order of appearance.

    >>> amounts_all(["先转账5000元，又转了3000元，共计8000元", "无损失"])
    [[5000.0, 3000.0, 8000.0], []]
    """
    vals = _as_list(texts)
    out: list[list[float]] = [[] for _ in vals]
    for i in np.flatnonzero(_candidates(vals)):
        out[i] = [v for v, _ in _amounts_in(vals[i])]
    return out


def amounts_yuan(texts: Iterable[str | None], how: How = "total") -> np.ndarray:
    """The loss amount in yuan of each text (NaN when none is written).

    Parameters
    ----------
    texts
        Call texts (any iterable of strings; ``None`` allowed).
    how
        ``"total"``: the amount after a total cue (共计/合计/…) if any, else the largest; ``"sum"``, ``"max"``,
        ``"first"``.

    Examples
    --------
    >>> amounts_yuan(["被骗人民币3万元", "损失五千余元", "转账2.5万", "共计12,800元", "借了他一万二", "未损失"]).tolist()
    [30000.0, 5000.0, 25000.0, 12800.0, 12000.0, nan]
    """
    if how not in ("total", "sum", "max", "first"):
        raise AnjuError(f"amounts_yuan: how must be 'total', 'sum', 'max' or 'first'; got {how!r}")
    vals = _as_list(texts)
    out = np.full(len(vals), np.nan)
    for i in np.flatnonzero(_candidates(vals)):
        found = _amounts_in(vals[i])
        if not found:
            continue
        if how == "first":
            out[i] = found[0][0]
        elif how == "sum":
            out[i] = sum(v for v, _ in found)
        elif how == "max":
            out[i] = max(v for v, _ in found)
        else:
            totals = [v for v, cue in found if cue]
            out[i] = max(totals) if totals else max(v for v, _ in found)
    return out


# ----------------------------------------------------------------------------------------------- times
_CN_SMALL = "零〇一二两三四五六七八九十"
_DAYPART = (r"(?:今天|今日|昨天|昨日|前天|当天|次日|今早|今晨|今晚|昨晚|前晚|当晚|凌晨|清晨|早上|早晨|上午|中午|下午|"
            r"傍晚|晚上|夜里|夜间|深夜|半夜|午夜|刚才|刚刚)")
_DATE = (r"(?:(?:[0-9]{4}|[" + _CN_SMALL + r"]{4})年)?(?:[0-9]{1,2}|[" + _CN_SMALL + r"]{1,3})月"
         r"(?:[0-9]{1,2}|[" + _CN_SMALL + r"]{1,3})[日号]")
_CLOCK_AR = r"[0-9]{1,2}(?:[:：][0-9]{2}|[点时](?:[0-9]{1,2}分?|半|[一二三]刻)?)(?:许|左右|多|钟)?"
_CLOCK_CN = (r"[" + _CN_SMALL + r"]{1,3}[点时](?:[" + _CN_SMALL + r"]{1,3}分|半|[一二三]刻)?(?:许|左右|多|钟)?")
_TIME = re.compile(
    rf"(?:{_DATE})\s?(?:{_DAYPART})?\s?(?:{_CLOCK_AR}|{_CLOCK_CN})?"
    rf"|(?:{_DAYPART})+\s?(?:{_CLOCK_AR}|{_CLOCK_CN})?"
    rf"|(?<![0-9.]){_CLOCK_AR}(?![万千百元块])"
)
_HOUR = re.compile(r"([0-9]{1,2}|[" + _CN_SMALL + r"]{1,3})(?:[点时:：])")
_PM = ("下午", "傍晚", "晚上", "今晚", "昨晚", "前晚", "当晚", "夜里", "夜间", "深夜")


def extract_times(texts: Iterable[str | None]) -> list[list[str]]:
    """Time expressions of each text (dates, parts of day, clock times), in order.

    >>> extract_times(["报警人称今天下午3点左右在小区被盗", "2024年3月2日14时30分发生纠纷", "无"])
    [['今天下午3点左右'], ['2024年3月2日14时30分'], []]
    """
    return [[m.group(0).strip() for m in _TIME.finditer(t)] if t else [] for t in _as_list(texts)]


def mentioned_hour(texts: Iterable[str | None]) -> np.ndarray:
    """The clock hour (0–23) of the first clock time in each text, adjusted by the part of day; NaN if none.

    ``下午3点`` → 15, ``晚上10点`` → 22, ``凌晨两点`` → 2, ``中午12点`` → 12, ``14时许`` → 14.

    >>> mentioned_hour(["今天下午3点左右被盗", "凌晨两点有人敲门", "14时许", "昨晚十二点", "无"]).tolist()
    [15.0, 2.0, 14.0, 0.0, nan]
    """
    vals = _as_list(texts)
    out = np.full(len(vals), np.nan)
    for i, t in enumerate(vals):
        if not t or not any(c in t for c in "点时:："):
            continue
        for m in _TIME.finditer(t):
            expr = m.group(0)
            h = _HOUR.search(expr)
            if h is None:
                continue
            raw = h.group(1)
            hour = float(raw) if raw.isdigit() else parse_chinese_number(raw)
            if math.isnan(hour) or hour > 24:
                continue
            if any(p in expr for p in _PM) and hour < 12:
                hour += 12
            if "中午" in expr and hour < 6:
                hour += 12
            if hour == 24 or ((("晚" in expr) or ("夜" in expr)) and hour == 12):
                hour = 0
            out[i] = hour % 24
            break
    return out


# ----------------------------------------------------------------------------------------------- places
_PLACE_SUFFIX = (r"(?:小区|花园|公寓|大厦|广场|商场|超市|菜场|菜市场|市场|医院|学校|小学|中学|大学|幼儿园|公园|地铁站|公交站|"
                 r"火车站|汽车站|车站|停车场|车库|车棚|酒店|宾馆|饭店|餐厅|网吧|KTV|酒吧|银行|工地|新村|苑|村|"
                 r"[0-9]+号楼|[0-9]+号|[0-9]+弄|路口|交叉口|大道|路|街|巷|桥)")
_PLACE = re.compile(r"(?:在|于|位于|途经|路过|到达|来到)(?P<p>(?:(?!在|于)[\u4e00-\u9fa5A-Za-z0-9]){0,14}?"
                    + _PLACE_SUFFIX + r"(?:(?:与|和)?[\u4e00-\u9fa5]{1,5}?路(?:路口|交叉口)?)?(?:[0-9]+(?:弄|号楼|号|栋|幢|单元|室))*(?:门口|附近|楼下|旁边|内|里|对面)?)")


def extract_places(texts: Iterable[str | None]) -> list[list[str]]:
    """Place phrases of each text: what follows 在/于/位于… up to a place word (小区, 路, 超市, 地铁站…).

    >>> extract_places(["报警人称在上海康城小区门口被盗", "其位于漕宝路1234弄56号的家中被撬", "无"])
    [['上海康城小区门口'], ['漕宝路1234弄56号'], []]
    """
    return [[m.group("p") for m in _PLACE.finditer(t)] if t else [] for t in _as_list(texts)]


# ----------------------------------------------------------------------------------------------- addresses
_HAN = "[\u4e00-\u9fa5]"
_ADMIN_BREAK = r"区|县|街道|镇(?![路街道])|乡(?![路街])"
_ADDRESS_PARTS: tuple[tuple[str, str], ...] = (
    ("district", rf"^((?:(?!区|县){_HAN}){{1,4}}(?:区|县))"),
    ("town", rf"(?:^|区|县)((?:(?!区|县){_HAN}){{2,6}}?(?:街道|镇(?![路街])|乡(?![路街])))"),
    ("road", rf"((?:(?!{_ADMIN_BREAK}){_HAN}){{1,8}}?(?:大道|公路|路|街(?!道)|巷))"
             rf"(?=[^\u4e00-\u9fa5]|近|与|和|$|[一二三四五六七八九十])"),
    ("lane", r"([0-9]+)弄"),
    ("number", r"(?<![0-9])([0-9]+)号(?!楼)"),
    ("compound", rf"((?:(?!{_ADMIN_BREAK}|路|街|弄|号){_HAN}){{2,10}}?(?:小区|花园|公寓|新村|家园|"
                 rf"(?:苑|城|庭|府|湾|里)(?=[0-9]|（|\(|）|\)|$)))"),
    ("building", r"([0-9]+)(?:栋|幢|号楼|座)"),
    ("unit", r"([0-9]+)单元"),
    ("room", r"([0-9]+)(?:室|房间)"),
)


def address_parts(addresses: Sequence[str | None] | pd.Series) -> pd.DataFrame:
    """Split Chinese addresses into parts (vectorised regex over the array).

    Returns a DataFrame with one row per address and string columns ``district``, ``town``, ``road``, ``lane``,
    ``number``, ``compound``, ``building``, ``unit``, ``room`` (null where absent). Numbers are kept as written
    (``lane="1234"`` for ``1234弄``).

    >>> address_parts(["闵行区七宝镇漕宝路1234弄56号3单元502室"]).iloc[0].dropna().to_dict()
    {'district': '闵行区', 'town': '七宝镇', 'road': '漕宝路', 'lane': '1234', 'number': '56', 'unit': '3', 'room': '502'}
    """
    s = pd.Series(_as_list(addresses), dtype=object)
    s = s.str.replace(r"^(?:中国)?(?:[\u4e00-\u9fa5]{2,3}(?:省|自治区))?(?:[\u4e00-\u9fa5]{2,3}市)?", "", regex=True)
    out = pd.DataFrame(index=s.index)
    for name, pattern in _ADDRESS_PARTS:
        col = s.str.extract(pattern, expand=False)
        out[name] = col.where(col.notna(), None).astype(object)
    return out
