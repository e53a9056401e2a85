"""Draw the demo district's 110 calls, one month at a time, and turn them into cn110 export columns.

A month is one independent random stream (``default_rng([seed, 3, year, month])``), so months can be generated in
any order and memory stays bounded by the largest month. For each month: Poisson counts per leaf × location from the
:class:`~anju.demo.model.Plan`, a (day, hour) per call from the leaf's weekday and hour profiles, a point (a building
of the community with ≤ 15 m jitter, a road point or a night-life-zone point), a loss amount, a caller and a text.
Rows are sorted by time and numbered per day (接警编号). Finally a documented share of rows is made dirty.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np

from anju.demo import model as M
from anju.demo import names as N
from anju.demo.geography import District, metric_to_wgs84
from anju.demo.texts import SD, TextContext, render_addresses, render_texts
from anju.taxonomy import Taxonomy

__all__ = ["CN110_COLUMNS", "DIRTY_KINDS", "Chunk", "generate_month", "to_columns"]

CN110_COLUMNS = ("接警编号", "报警时间", "警情类别", "警情细类", "简要案情", "案发地址", "经度", "纬度", "报警人",
                 "报警电话", "管辖单位", "涉案金额")
DIRTY_KINDS = ("clean", *M.DIRTY_RATES)
ROOM_LEAVES = {"theft.burglary", "assault.domestic", "dispute.neighbour", "dispute.family", "dispute.tenancy",
               "noise.residential", "help.water_leak", "help.locked_out", "help.medical", "help.suicide", "fire.fire",
               "fire.gas", "public_order.high_throw", "public_order.gambling"}
REPEAT_CALLER_LEAVES = {"dispute.neighbour", "noise.residential", "dispute.property", "dispute.family"}
REPEAT_CALLER_SHARE = 0.06
REPEAT_CALLERS_PER_COMMUNITY = 5
ANONYMOUS_SHARE = 0.03
JITTER_M = 15.0
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
                   "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183", "186", "187", "188",
                   "189", "191", "199")


@dataclass
class Chunk:
    """One month of calls (sorted by time) before they become text columns."""

    year: int
    month: int
    minute: np.ndarray  # minutes since the month's start
    leaf: np.ndarray  # index into plan.leaves
    loc_kind: np.ndarray  # 0 building, 1 road, 2 night-life zone
    pidx: np.ndarray  # index into that pool
    comm: np.ndarray  # community index of the point
    x: np.ndarray  # metric
    y: np.ndarray
    loss: np.ndarray  # yuan, NaN = none

    def __len__(self) -> int:
        return len(self.leaf)

    @property
    def day(self) -> np.ndarray:
        return self.minute // 1440

    @property
    def hour(self) -> np.ndarray:
        return (self.minute // 60) % 24


def month_rng(seed: int, year: int, month: int, stream: int = 3) -> np.random.Generator:
    return np.random.default_rng([seed, stream, year, month])


def _round_amounts(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Amounts as victims report them: two significant digits, whole hundreds, whole yuan or with fen."""
    style = rng.choice(4, size=len(v), p=[0.45, 0.30, 0.20, 0.05])
    out = np.round(v)
    mag = 10.0 ** (np.floor(np.log10(np.maximum(v, 1.0))) - 1)
    two = np.round(v / mag) * mag
    out = np.where(style == 0, two, out)
    out = np.where(style == 1, np.maximum(np.round(v / 100) * 100, 100), out)
    out = np.where(style == 3, np.round(v * 2) / 2 + np.where(rng.random(len(v)) < 0.5, 0.0, 0.8), out)
    return np.maximum(out, 1.0)


def generate_month(d: District, plan: M.Plan, month_index: int, *, seed: int, scale: float) -> Chunk:
    """Draw one month of calls (see the module docstring)."""
    year, month = plan.months[month_index]
    rng = month_rng(seed, year, month)
    lam = plan.lam[month_index] * scale
    counts = rng.poisson(lam)
    n_leaf, n_loc = counts.shape
    flat = counts.ravel()
    leaf = np.repeat(np.repeat(np.arange(n_leaf), n_loc), flat)
    loc = np.repeat(np.tile(np.arange(n_loc), n_leaf), flat)
    n = len(leaf)
    nc = d.n_communities

    # time: (day, hour) from the leaf's weekday × hour profile, minute uniform
    days = calendar.monthrange(year, month)[1]
    dow = (np.arange(days) + calendar.weekday(year, month, 1)) % 7
    prof_of_leaf = np.array([M.PROFILE_NAMES.index(M.leaf_profile(c)) for c in plan.leaves])
    prof = prof_of_leaf[leaf]
    slot = np.empty(n, dtype=np.int64)
    for p, name in enumerate(M.PROFILE_NAMES):
        sel = np.flatnonzero(prof == p)
        if not len(sel):
            continue
        joint = np.outer(M.weekday_profile(name)[dow], M.hour_profile(name)).ravel()
        slot[sel] = rng.choice(days * 24, size=len(sel), p=joint / joint.sum())
    minute = slot * 60 + rng.integers(0, 60, n)

    # place
    loc_kind = np.where(loc < nc, 0, np.where(loc == nc, 1, 2))
    pidx = np.empty(n, dtype=np.int64)
    comm = np.empty(n, dtype=np.int64)
    b = loc_kind == 0
    c = loc[b]
    nb = d.b_start[c + 1] - d.b_start[c]
    pidx[b] = d.b_start[c] + (rng.random(int(b.sum())) * nb).astype(np.int64)
    comm[b] = c
    r = loc_kind == 1
    pidx[r] = rng.integers(0, len(d.rp_x), int(r.sum()))
    comm[r] = d.rp_comm[pidx[r]]
    z = loc_kind == 2
    pidx[z] = rng.integers(0, len(d.zp_x), int(z.sum()))
    comm[z] = d.zp_comm[pidx[z]]
    x = np.empty(n)
    y = np.empty(n)
    rad = JITTER_M * np.sqrt(rng.random(int(b.sum())))
    ang = rng.uniform(0, 2 * np.pi, int(b.sum()))
    x[b] = d.b_x[pidx[b]] + rad * np.cos(ang)
    y[b] = d.b_y[pidx[b]] + rad * np.sin(ang)
    x[r], y[r] = d.rp_x[pidx[r]], d.rp_y[pidx[r]]
    x[z], y[z] = d.zp_x[pidx[z]], d.zp_y[pidx[z]]

    # loss
    loss = np.full(n, np.nan)
    for code, (median, sigma, p_loss) in M.LOSS.items():
        sel = np.flatnonzero(leaf == plan.leaf_index(code))
        if not len(sel):
            continue
        has = sel[rng.random(len(sel)) < p_loss]
        v = median * np.exp(sigma * rng.standard_normal(len(has)))
        loss[has] = _round_amounts(v, rng)

    order = np.argsort(minute, kind="stable")
    return Chunk(year, month, minute[order], leaf[order], loc_kind[order], pidx[order], comm[order], x[order],
                 y[order], loss[order])


def _names(n: int, rng: np.random.Generator) -> np.ndarray:
    w = np.asarray(N.SURNAME_WEIGHTS)
    sur = np.array(N.SURNAMES, dtype=SD)[rng.choice(len(N.SURNAMES), size=n, p=w / w.sum())]
    chars = np.array(N.GIVEN_CHARS, dtype=SD)
    g1 = chars[rng.integers(len(chars), size=n)]
    g2 = np.where(rng.random(n) < 0.65, chars[rng.integers(len(chars), size=n)], "").astype(SD)
    return np.strings.add(np.strings.add(sur, g1), g2)


def _phones(n: int, rng: np.random.Generator) -> np.ndarray:
    pre = np.array(MOBILE_PREFIXES, dtype=np.int64)[rng.integers(len(MOBILE_PREFIXES), size=n)]
    return (pre * 100_000_000 + rng.integers(0, 100_000_000, n)).astype(SD)


def repeat_callers(d: District, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each community's frequent callers (names, phones), shape (communities, REPEAT_CALLERS_PER_COMMUNITY)."""
    rng = np.random.default_rng([seed, 4])
    k = d.n_communities * REPEAT_CALLERS_PER_COMMUNITY
    return (_names(k, rng).reshape(d.n_communities, -1), _phones(k, rng).reshape(d.n_communities, -1))


def _fmt_coord(v: np.ndarray) -> np.ndarray:
    """Degrees with 6 decimals as strings ("" for NaN), via integer arithmetic (np.char.mod is slow)."""
    nan = np.isnan(v)
    micro = np.round(np.abs(np.nan_to_num(v)) * 1e6).astype(np.int64)
    whole = (micro // 1_000_000).astype(SD)
    frac = np.strings.zfill((micro % 1_000_000).astype(SD), 6)
    out = np.strings.add(np.strings.add(whole, "."), frac)
    neg = (v < 0) & ~nan
    out[neg] = np.strings.add("-", out[neg])
    out[nan] = ""
    return out


def _fmt_loss(v: np.ndarray) -> np.ndarray:
    out = np.full(len(v), "", dtype=SD)
    has = ~np.isnan(v)
    whole = has & (np.abs(v - np.round(v)) < 1e-9)
    out[whole] = np.round(v[whole]).astype(np.int64).astype(SD)
    frac = has & ~whole
    if frac.any():
        out[frac] = np.char.mod("%.2f", v[frac]).astype(SD)
    return out


@dataclass
class Columns:
    """The cn110 columns of one month (StringDType arrays), plus each row's dirt kind and true leaf/community."""

    data: dict[str, np.ndarray]
    dirt: np.ndarray  # index into DIRTY_KINDS
    chunk: Chunk
    detail: dict[str, int]  # sub-styles of dirt (e.g. coords_swapped / coords_zero / coords_far)


def to_columns(chunk: Chunk, d: District, plan: M.Plan, tax: Taxonomy, *, seed: int,
               callers: tuple[np.ndarray, np.ndarray]) -> Columns:
    """Turn a month of calls into the 12 cn110 columns, then dirty a documented share of rows."""
    from anju.geo.coords import convert

    rng = month_rng(seed, chunk.year, chunk.month, stream=5)
    n = len(chunk)
    y, m = chunk.year, chunk.month
    days = calendar.monthrange(y, m)[1]
    day_str = np.array([f"{y}年{m}月{k}日 " for k in range(1, days + 1)], dtype=SD)
    hm_str = np.array([f"{h}时{mi:02d}分" for h in range(24) for mi in range(60)], dtype=SD)
    day = chunk.day
    time_col = np.strings.add(day_str[day], hm_str[chunk.minute % 1440])
    # 接警编号: J + district code + yyyymmdd + per-day sequence
    first = np.searchsorted(day, np.arange(days))
    seq = np.arange(n) - first[day] + 1
    id_num = ((y * 10000 + m * 100 + 1 + day) * 1_000_000 + seq).astype(np.int64)
    ids = np.strings.add(f"J{N.DISTRICT_CODE}", id_num.astype(SD))

    fam_zh = np.array([tax.families[c.split(".")[0]].zh for c in plan.leaves], dtype=SD)
    leaf_zh = np.array([tax[c].zh for c in plan.leaves], dtype=SD)
    lon, lat = metric_to_wgs84(chunk.x, chunk.y)
    glon, glat = convert(lon, lat, "wgs84", "gcj02")

    names = _names(n, rng)
    phones = _phones(n, rng)
    rc_leaf = np.isin(np.array(plan.leaves)[chunk.leaf], list(REPEAT_CALLER_LEAVES))
    rep = np.flatnonzero(rc_leaf & (chunk.loc_kind == 0) & (rng.random(n) < REPEAT_CALLER_SHARE))
    if len(rep):
        k = rng.integers(0, REPEAT_CALLERS_PER_COMMUNITY, len(rep))
        names[rep] = callers[0][chunk.comm[rep], k]
        phones[rep] = callers[1][chunk.comm[rep], k]
    names[rng.random(n) < ANONYMOUS_SHARE] = ""

    ctx = TextContext(leaf=chunk.leaf, leaves=plan.leaves, hour=chunk.hour, loc_kind=chunk.loc_kind,
                      pidx=chunk.pidx, comm=chunk.comm, loss=chunk.loss, year_index=y - plan.years[0])
    texts = render_texts(ctx, d, rng, phones)
    room_leaves = np.array([c in ROOM_LEAVES for c in plan.leaves])
    addresses = render_addresses(ctx, d, rng, room_leaves)
    units = np.array(d.layers["station"].attrs["unit"], dtype=SD)[d.comm_station[chunk.comm]]

    data = {
        "接警编号": ids, "报警时间": time_col, "警情类别": fam_zh[chunk.leaf], "警情细类": leaf_zh[chunk.leaf],
        "简要案情": texts, "案发地址": addresses, "经度": _fmt_coord(glon), "纬度": _fmt_coord(glat),
        "报警人": names, "报警电话": phones, "管辖单位": units, "涉案金额": _fmt_loss(chunk.loss),
    }
    dirt, detail = _dirty(data, chunk, rng)
    return Columns(data, dirt, chunk, detail)


_UNKNOWN_SUB = ("电诈未遂", "纠纷调解回访", "其他治安类", "非警务求助", "重复报警", "待核实警情")
_UNKNOWN_CAT = (("待核实", "不详"), ("其它类", "待分类"), ("综合", "其他事项"))


def _dirty(data: dict[str, np.ndarray], chunk: Chunk, rng: np.random.Generator
           ) -> tuple[np.ndarray, dict[str, int]]:
    """Make disjoint random sets of rows dirty in place; return each row's dirt kind (0 = clean) and sub-counts."""
    n = len(chunk)
    kinds = list(M.DIRTY_RATES)
    counts = [int(rng.binomial(n, M.DIRTY_RATES[k])) for k in kinds]
    perm = rng.permutation(n)
    dirt = np.zeros(n, dtype=np.int8)
    pos = 0
    for ki, cnt in enumerate(counts):
        dirt[perm[pos:pos + cnt]] = ki + 1
        pos += cnt
    y, m = chunk.year, chunk.month

    def rows(kind: str) -> np.ndarray:
        return np.flatnonzero(dirt == DIRTY_KINDS.index(kind))

    detail: dict[str, int] = {}
    r = rows("missing_time")
    data["报警时间"][r] = ""
    r = rows("bad_time")
    if len(r):
        opts = np.array(["不详", f"{y}年{m}月份", f"{y}年{m}月{1 + int(rng.integers(28))}日 下午", "########",
                         f"{m}/{y}"], dtype=SD)
        data["报警时间"][r] = opts[rng.integers(len(opts), size=len(r))]
    r = rows("impossible_date")
    if len(r):
        opts = np.array([f"{y}年2月30日 ", f"{y}年13月{1 + int(rng.integers(28))}日 ", f"{y}年{m}月32日 ",
                         f"{y}年4月31日 ", f"{y}年0月{1 + int(rng.integers(28))}日 "], dtype=SD)
        hm = np.strings.add(np.strings.add(chunk.hour[r].astype(SD), "时"),
                            np.strings.add(np.strings.zfill((chunk.minute[r] % 60).astype(SD), 2), "分"))
        data["报警时间"][r] = np.strings.add(opts[rng.integers(len(opts), size=len(r))], hm)
    r = rows("coords_out_of_bounds")
    if len(r):
        style = rng.integers(0, 3, len(r))
        lon, lat = data["经度"][r].copy(), data["纬度"][r].copy()
        far_lon = _fmt_coord(116.30 + rng.random(len(r)) * 0.2)
        far_lat = _fmt_coord(39.80 + rng.random(len(r)) * 0.2)
        data["经度"][r] = np.where(style == 0, lat, np.where(style == 1, "0", far_lon)).astype(SD)
        data["纬度"][r] = np.where(style == 0, lon, np.where(style == 1, "0", far_lat)).astype(SD)
        for k, name in enumerate(("coords_swapped", "coords_zero", "coords_far")):
            detail[name] = int((style == k).sum())
    r = rows("missing_coords")
    data["经度"][r] = ""
    data["纬度"][r] = ""
    r = rows("duplicate_key")
    if len(r):
        clean = np.flatnonzero(dirt == 0)
        p = np.searchsorted(clean, r)
        ok = p > 0
        src = clean[(rng.random(len(r)) * np.maximum(p, 1)).astype(np.int64)]
        data["接警编号"][r[ok]] = data["接警编号"][src[ok]]
        dirt[r[~ok]] = 0  # no earlier clean row to copy from: leave it clean
    r = rows("missing_key")
    data["接警编号"][r] = ""
    r = rows("unknown_subcategory")
    if len(r):
        data["警情细类"][r] = np.array(_UNKNOWN_SUB, dtype=SD)[rng.integers(len(_UNKNOWN_SUB), size=len(r))]
    r = rows("unknown_category")
    if len(r):
        pick = rng.integers(len(_UNKNOWN_CAT), size=len(r))
        data["警情类别"][r] = np.array([a for a, _ in _UNKNOWN_CAT], dtype=SD)[pick]
        data["警情细类"][r] = np.array([b for _, b in _UNKNOWN_CAT], dtype=SD)[pick]
    return dirt, detail
