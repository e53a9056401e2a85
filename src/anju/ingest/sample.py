"""Small synthetic cn110 exports, for trying a profile, for tests and for benchmarks at any size.

This is not the demo district (``anju.demo`` plants realistic patterns); it only produces files with the exact
cn110 columns, formats and encodings, quickly and deterministically, including personal data in clear — which is
what the ingest must hash and mask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from anju.taxonomy import load_taxonomy

__all__ = ["CN110_COLUMNS", "cn110_sample", "write_csv"]

CN110_COLUMNS = ("接警编号", "报警时间", "警情类别", "警情细类", "简要案情", "案发地址", "经度", "纬度", "报警人",
                 "报警电话", "管辖单位", "涉案金额")

_SURNAMES = [*list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"), "欧阳", "司马", "诸葛", "上官"]
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌浩宇欣怡晨")
_ROADS = ["莘庄路", "七宝街", "虹梅路", "沪闵路", "都市路", "春申路", "银都路", "顾戴路", "吴中路", "漕宝路"]
_UNITS = ["莘庄派出所", "七宝派出所", "梅陇派出所", "虹桥派出所", "古美派出所", "浦江派出所"]
_TEMPLATES = (
    "报警人{name}称其停放在{road}的电动车被盗，价值约{amount}元。",
    "报警人称与邻居因噪音问题发生纠纷，要求民警到场处理，联系电话{phone}。",
    "报警人称接到自称客服的电话，被骗转账{amount}元，对方号码{phone}。",
    "报警人称家中被盗，门锁被撬，丢失现金若干。",
    "报警人称在{road}路口发生两车刮擦事故，无人员受伤。",
    "报警人{name}称其身份证{idcard}丢失。",
)


def _fill_template(template: str, fields: dict[str, pa.Array]) -> pa.Array:
    """Vectorised ``template.format(**fields)``."""
    import re

    parts: list[pa.Array | str] = []
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        if literal:
            parts.append(literal)
        if name:
            parts.append(fields[name])
    return pc.binary_join_element_wise(*parts, "")


def _pick(rng: np.random.Generator, values: list[str], n: int) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(rng.integers(0, len(values), n)))


def _digits(rng: np.random.Generator, lo: int, hi: int, n: int) -> pa.Array:
    return pc.cast(pa.array(rng.integers(lo, hi, n)), pa.string())


def cn110_sample(n: int, *, seed: int = 0, start: str = "2022-01-01", days: int = 3 * 365,
                 centre: tuple[float, float] = (121.40, 31.12), span_deg: float = 0.08,
                 first_id: int = 0) -> pa.Table:
    """A cn110-shaped table of ``n`` rows (all strings, as the export has them).

    Times are written ``2024年3月2日 14时30分``; coordinates are GCJ-02 around ``centre``; 警情类别/警情细类 are the
    taxonomy's family and leaf labels; 报警人/报警电话 and some texts carry personal data in clear.
    """
    rng = np.random.default_rng(seed)
    tax = load_taxonomy()
    leaves = [c for c in tax.codes() if c != "other.unknown"]
    li = pa.array(rng.integers(0, len(leaves), n))
    fam_zh = pa.array([tax.families[tax.family_of(c)].zh for c in leaves], pa.string()).take(li)
    leaf_zh = pa.array([tax[c].zh for c in leaves], pa.string()).take(li)
    is_fraud = pc.starts_with(pa.array(leaves, pa.string()).take(li), "fraud.")
    secs = rng.integers(0, days * 86400, n)
    ts = pa.array(np.datetime64(start, "s") + secs.astype("timedelta64[s]")).cast(pa.timestamp("s"))

    def s(a: pa.Array) -> pa.Array:
        return pc.cast(a, pa.string())

    when = pc.binary_join_element_wise(s(pc.year(ts)), "年", s(pc.month(ts)), "月", s(pc.day(ts)), "日 ",
                                       s(pc.hour(ts)), "时", s(pc.minute(ts)), "分", "")
    two = pa.array(rng.random(n) < 0.6)
    names = pc.binary_join_element_wise(_pick(rng, _SURNAMES, n), _pick(rng, _GIVEN, n),
                                        pc.if_else(two, _pick(rng, _GIVEN, n), ""), "")
    phones = pc.binary_join_element_wise("1", _pick(rng, list("3456789"), n), _digits(rng, 10**8, 10**9, n), "")
    amounts = s(pa.array(np.round(rng.lognormal(7.5, 1.2, n)).astype(np.int64)))
    roads = _pick(rng, _ROADS, n)
    idcards = pc.binary_join_element_wise("3101", _digits(rng, 10**12, 10**13, n), "0X", "")
    fields = {"name": names, "road": roads, "amount": amounts, "phone": phones, "idcard": idcards}
    tpl = rng.integers(0, len(_TEMPLATES), n)
    texts = pa.nulls(n, pa.string())
    for k, t in enumerate(_TEMPLATES):  # loop over the templates, not the rows
        texts = pc.if_else(pa.array(tpl == k), _fill_template(t, fields), texts)
    lon = centre[0] + (rng.random(n) - 0.5) * span_deg
    lat = centre[1] + (rng.random(n) - 0.5) * span_deg
    ids = s(pa.array(np.arange(n, dtype=np.int64) + first_id + 10**11))
    return pa.table({
        "接警编号": pc.binary_join_element_wise("J", ids, ""),
        "报警时间": when,
        "警情类别": fam_zh,
        "警情细类": leaf_zh,
        "简要案情": texts,
        "案发地址": pc.binary_join_element_wise("上海市闵行区", roads, _digits(rng, 1, 2000, n), "号", ""),
        "经度": s(pa.array(np.round(lon, 6))),
        "纬度": s(pa.array(np.round(lat, 6))),
        "报警人": names,
        "报警电话": phones,
        "管辖单位": _pick(rng, _UNITS, n),
        "涉案金额": pc.if_else(is_fraud, amounts, pa.scalar(None, pa.string())),
    })


def write_csv(table: pa.Table, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write a table as CSV in ``encoding`` (``gbk``/``gb18030`` as Chinese systems do, ``utf-8-sig`` for Excel)."""
    p = Path(path)
    if encoding.replace("_", "-").lower() in {"utf-8", "utf8"}:
        pcsv.write_csv(table, p)
        return p
    import io

    buf = io.BytesIO()
    pcsv.write_csv(table, buf)
    p.write_bytes(buf.getvalue().decode("utf-8").encode(encoding))
    return p
