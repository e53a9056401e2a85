"""What the demo district plants: call mix, rhythms, trends, risk models, supervision and fraud losses.

Every constant here is documented in docs/demo-district.md; :func:`build_plan` turns them and a
:class:`~anju.demo.geography.District` into the expected number of calls per month × leaf × location, which the
call generator samples (Poisson) and :func:`anju.demo.truth.truth` reports. Nothing here draws a single call.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np

from anju.demo.geography import District

__all__ = [
    "BASE_CALLS_PER_YEAR",
    "FAMILY_SHARE",
    "FAMILY_TREND",
    "FRAUD_LOSS",
    "LEAF_MIX",
    "LOSS",
    "RISK_COEF",
    "SUPERVISION_MULTIPLIER",
    "THEFT_YEAR_CV",
    "Plan",
    "build_plan",
]

BASE_CALLS_PER_YEAR = 460_000  # first year, scale 1
N_SUPERVISED = 10

# ---- call mix: family shares of the first year, leaf shares within each family ------------------------------
FAMILY_SHARE: dict[str, float] = {
    "dispute": 0.500, "traffic": 0.110, "theft": 0.100, "help": 0.090, "noise": 0.050, "fraud": 0.050,
    "public_order": 0.040, "assault": 0.025, "other": 0.023, "fire": 0.010, "robbery": 0.002,
}
LEAF_MIX: dict[str, dict[str, float]] = {
    "theft": {"theft.burglary": 0.12, "theft.nonmotor": 0.30, "theft.battery": 0.12, "theft.parcel": 0.14,
              "theft.from_vehicle": 0.06, "theft.vehicle": 0.02, "theft.pickpocket": 0.08, "theft.shop": 0.08,
              "theft.other": 0.08},
    "robbery": {"robbery.robbery": 0.35, "robbery.snatch": 0.65},
    # planted fraud technique proportions (constant over the years)
    "fraud": {"fraud.rebate": 0.28, "fraud.fake_service": 0.16, "fraud.fake_loan": 0.12, "fraud.fake_shopping": 0.10,
              "fraud.investment": 0.08, "fraud.fake_authority": 0.06, "fraud.game": 0.06, "fraud.romance": 0.05,
              "fraud.fake_acquaintance": 0.05, "fraud.other": 0.04},
    "assault": {"assault.beating": 0.70, "assault.injury": 0.12, "assault.domestic": 0.18},
    "dispute": {"dispute.neighbour": 0.20, "dispute.family": 0.18, "dispute.consumer": 0.14, "dispute.property": 0.10,
                "dispute.traffic": 0.10, "dispute.drunk": 0.08, "dispute.labour": 0.08, "dispute.tenancy": 0.07,
                "dispute.other": 0.05},
    "public_order": {"public_order.suspicious": 0.45, "public_order.gambling": 0.15, "public_order.provocation": 0.15,
                     "public_order.high_throw": 0.15, "public_order.prostitution": 0.06, "public_order.drugs": 0.04},
    "traffic": {"traffic.accident": 0.50, "traffic.parking": 0.35, "traffic.congestion": 0.12,
                "traffic.drunk_driving": 0.03},
    "fire": {"fire.fire": 0.55, "fire.gas": 0.45},
    "help": {"help.lost_property": 0.25, "help.locked_out": 0.20, "help.medical": 0.15, "help.water_leak": 0.14,
             "help.missing_person": 0.12, "help.rescue": 0.10, "help.suicide": 0.04},
    "noise": {"noise.residential": 0.55, "noise.construction": 0.25, "noise.business": 0.20},
    "other": {"other.consult": 0.55, "other.harassing": 0.25, "other.false_alarm": 0.20},
}
LEAVES: tuple[str, ...] = tuple(code for fam in LEAF_MIX.values() for code in fam)

# ---- trends: multiplier per year after the first (family level); theft also falls in supervised communities --
FAMILY_TREND: dict[str, float] = {"theft": 0.93, "fraud": 1.15, "dispute": 0.98, "noise": 1.03, "help": 1.02}

# supervised communities (挂牌督导): the true effect, a theft multiplier by month since supervision began (January
# of the last year); one value = the same every month
SUPERVISION_MULTIPLIER = (0.75,)  # −25 % from the first month

# regression to the mean: transient community × year variation of community-located theft (not persistent), so the top N
# of a year are partly the unlucky ones and fall the next year by themselves
THEFT_YEAR_CV = 0.20  # gamma multiplier, mean 1, coefficient of variation 0.20, independent per community and year
N_SPIKES = 4  # one-off base-year spikes (a theft series that was cleared up) in mid-ranked communities
SPIKE_MULTIPLIER = 2.2
SPIKE_RANKS = (10, 30)  # drawn among the communities ranked 11th–30th by persistent theft

# ---- where calls happen: weight kind per leaf and the share on main roads / in the night-life zone -----------
# weight kinds: theft_risk, commercial, population, households, rental, fee, fraud, nightlife, floating,
# construction, old, elderly
LOCATION: dict[str, tuple[str, float, float]] = {  # leaf -> (community weight kind, road share, zone share)
    "theft.burglary": ("theft_risk", 0, 0), "theft.nonmotor": ("theft_risk", 0, 0),
    "theft.battery": ("theft_risk", 0, 0), "theft.parcel": ("theft_risk", 0, 0),
    "theft.from_vehicle": ("theft_risk", 0, 0), "theft.vehicle": ("theft_risk", 0, 0),
    "theft.other": ("theft_risk", 0, 0), "theft.pickpocket": ("commercial", 0, 0.15),
    "theft.shop": ("commercial", 0, 0),
    "robbery.robbery": ("floating", 0.3, 0), "robbery.snatch": ("floating", 0.3, 0),
    **{code: ("fraud", 0.0, 0.0) for code in LEAF_MIX["fraud"]},
    "assault.beating": ("floating", 0.05, 0.15), "assault.injury": ("floating", 0, 0.15),
    "assault.domestic": ("population", 0, 0),
    "dispute.neighbour": ("population", 0, 0), "dispute.family": ("population", 0, 0),
    "dispute.drunk": ("nightlife", 0, 0.55), "dispute.consumer": ("commercial", 0, 0.05),
    "dispute.property": ("fee", 0, 0), "dispute.labour": ("commercial", 0, 0), "dispute.tenancy": ("rental", 0, 0),
    "dispute.traffic": ("population", 0.7, 0), "dispute.other": ("population", 0, 0),
    "public_order.suspicious": ("households", 0, 0), "public_order.gambling": ("floating", 0, 0),
    "public_order.provocation": ("floating", 0, 0.3), "public_order.high_throw": ("households", 0, 0),
    "public_order.prostitution": ("nightlife", 0, 0.4), "public_order.drugs": ("nightlife", 0, 0.3),
    "traffic.accident": ("population", 0.75, 0), "traffic.parking": ("population", 0.3, 0),
    "traffic.congestion": ("commercial", 0.9, 0), "traffic.drunk_driving": ("population", 0.8, 0.2),
    "fire.fire": ("old", 0, 0), "fire.gas": ("old", 0, 0),
    "help.lost_property": ("commercial", 0, 0.05), "help.locked_out": ("households", 0, 0),
    "help.medical": ("elderly", 0, 0), "help.water_leak": ("households", 0, 0),
    "help.missing_person": ("elderly", 0, 0), "help.rescue": ("population", 0, 0),
    "help.suicide": ("population", 0, 0),
    "noise.residential": ("population", 0, 0), "noise.construction": ("construction", 0, 0),
    "noise.business": ("commercial", 0, 0.25),
    "other.consult": ("population", 0, 0), "other.harassing": ("population", 0, 0),
    "other.false_alarm": ("population", 0, 0),
}

# ---- the theft risk model (log-linear): rate per household ∝ exp(lp) ---------------------------------------------
RISK_COEF = {"floating_share": 2.0, "broken_share": 1.5, "fee_collection_rate": -1.8, "has_owners_committee": -0.3}
RISK_CENTRE = {"floating_share": 0.35, "broken_share": 0.25, "fee_collection_rate": 0.75, "has_owners_committee": 0.0}
RISK_NOISE_SD = 0.15
HOT_MIN_RATIO = 1.5  # every planted hot community's rate ≥ 1.5 × the highest other community's rate
SUPERVISED_GAP = 0.85  # non-supervised communities' expected theft count ≤ 0.85 × the 10th supervised one
HOT_COUNT_CAP = 0.75  # a hot community's expected theft count stays ≤ 0.75 × the 10th supervised one
FRAUD_COEF_ELDERLY = 3.0
FRAUD_NOISE_SD = 0.15
FRAUD_HOT_MIN_RATIO = 1.4

# ---- rhythms ---------------------------------------------------------------------------------------------------
_H = {
    "dispute": [3, 2, 1.5, 1, .8, .8, 1.2, 2.5, 4, 5, 5.5, 6, 6, 6, 6, 6.2, 6.5, 7, 8, 8.5, 8.5, 7.5, 6, 4.5],
    "drunk": [9, 6, 3.5, 2, 1, .5, .3, .3, .3, .3, .4, .6, 1, 1, .8, .8, 1, 1.5, 2.5, 4, 6, 10, 15, 15],
    "theft": [1.5, 1.2, 1, .8, .7, .8, 1.5, 3, 4, 4.5, 5, 5, 5.2, 5.8, 6.5, 7, 7, 6.8, 6, 5, 4, 3.2, 2.5, 2],
    "burglary": [1, .8, .8, .8, .8, 1, 2, 4, 4.5, 4, 3.5, 3.5, 3.5, 3.8, 4, 4.5, 5.5, 7, 7.5, 6, 4, 2.5, 1.8, 1.2],
    "battery": [1.5, 1.5, 1.5, 1.2, 1, 1.2, 4, 7, 7, 5, 3.5, 3, 3, 3, 3, 3, 3, 3.2, 3.5, 3.5, 3, 2.5, 2, 1.8],
    "fraud": [.5, .3, .2, .2, .2, .3, .8, 2, 4.5, 6.5, 7, 6.5, 5, 5.5, 6.5, 7, 6.8, 6, 5, 4.5, 4, 3, 2, 1],
    "traffic": [1.5, 1, .8, .6, .6, 1.2, 3.5, 8, 9, 6, 4.5, 4.5, 4.5, 4.5, 4.8, 5.5, 6.5, 8.5, 9, 6.5, 4.5, 3.5, 2.8, 2],
    "drunk_driving": [8, 6, 4, 2, 1, .5, .3, .3, .3, .3, .3, .5, 1, 1, .5, .5, .5, 1, 2, 3, 5, 8, 10, 10],
    "help": [2, 1.5, 1.2, 1, 1, 1.5, 2.5, 4, 5.5, 6, 6, 6, 5.5, 5.5, 5.5, 5.8, 6, 6, 6, 6, 5.5, 4.5, 3.5, 2.5],
    "medical": [2, 1.5, 1.5, 1.5, 1.5, 2.5, 4, 6, 6.5, 6, 5.5, 5, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4, 3.5, 3, 2.5],
    "noise": [3, 1.5, .8, .5, .4, .5, 1.5, 3, 4, 4, 3.5, 3.5, 4, 3.5, 3, 3, 3, 3.5, 4.5, 6, 8, 9, 8, 5],
    "construction": [2, 1.5, 1, .8, .8, 2, 5, 6, 5, 4, 3.5, 3.5, 5.5, 4, 3, 3, 3, 3, 3.5, 4.5, 5, 5, 4, 3],
    "business": [6, 4, 2, 1, .5, .3, .3, .5, 1, 1.5, 2, 2, 2, 2, 2, 2, 2.5, 3, 4.5, 6.5, 8, 9, 9, 8],
    "fire": [1.5, 1.2, 1, 1, 1, 1.2, 2, 3, 3.5, 4, 4.5, 6, 6.5, 5, 4.5, 4.5, 5, 6.5, 7, 6, 5, 4, 3, 2],
    "public_order": [5, 4, 3, 2, 1.5, 1, 1, 1.5, 2, 2.5, 3, 3, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 6.5, 6],
    "assault": [6, 5, 3.5, 2, 1.2, .8, .8, 1.2, 2, 2.5, 3, 3.5, 3.5, 3.5, 3.5, 3.8, 4, 4.5, 5.5, 6.5, 7, 8, 8.5, 7.5],
    "robbery": [3, 3, 2.5, 2, 1.5, 1, 1, 1.5, 2, 2.5, 3, 3, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 5.5, 5, 4.5, 4],
    "other": [2, 1.5, 1, 1, 1, 1.2, 2, 3.5, 5, 6, 6, 6, 5.5, 5.5, 5.5, 5.5, 5.5, 5.5, 5, 5, 4.5, 4, 3.5, 2.5],
}
_W = {  # Monday .. Sunday
    "flat": [1, 1, 1, 1, 1, 1, 1],
    "dispute": [.95, .95, .95, .97, 1.03, 1.08, 1.07],
    "drunk": [.7, .7, .8, .9, 1.4, 1.6, .9],
    "traffic": [1.1, 1.05, 1.05, 1.05, 1.1, .85, .8],
    "fraud": [1.1, 1.1, 1.05, 1.05, 1.05, .85, .8],
    "noise": [.9, .9, .9, .9, 1, 1.2, 1.2],
    "construction": [1.1, 1.1, 1.1, 1.1, 1.1, .8, .7],
    "nightlife": [.8, .8, .85, .9, 1.25, 1.4, 1],
}
# time profile name -> (hour profile, weekday profile)
PROFILES: dict[str, tuple[str, str]] = {
    "dispute": ("dispute", "dispute"), "drunk": ("drunk", "drunk"), "theft": ("theft", "flat"),
    "burglary": ("burglary", "flat"), "battery": ("battery", "flat"), "fraud": ("fraud", "fraud"),
    "traffic": ("traffic", "traffic"), "drunk_driving": ("drunk_driving", "drunk"), "help": ("help", "flat"),
    "medical": ("medical", "flat"), "noise": ("noise", "noise"), "construction": ("construction", "construction"),
    "business": ("business", "nightlife"), "fire": ("fire", "flat"), "public_order": ("public_order", "nightlife"),
    "assault": ("assault", "nightlife"), "robbery": ("robbery", "flat"), "other": ("other", "flat"),
}
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)
LEAF_PROFILE: dict[str, str] = {
    "dispute.drunk": "drunk", "theft.burglary": "burglary", "theft.battery": "battery",
    "traffic.drunk_driving": "drunk_driving", "help.medical": "medical", "noise.construction": "construction",
    "noise.business": "business", "dispute.labour": "other", "traffic.parking": "other",
}
_S = {  # January .. December
    "theft": [.85, .80, .90, .95, 1.0, 1.08, 1.15, 1.18, 1.10, 1.0, .98, 1.01],
    "fraud": [1.0, .95, .95, .95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.10, 1.0],
    "dispute": [.95, .85, .95, 1.0, 1.03, 1.05, 1.12, 1.12, 1.02, 1.0, .95, .96],
    "traffic": [1.05, .85, 1.0, 1.0, 1.0, 1.0, .95, .95, 1.02, 1.05, 1.05, 1.08],
    "noise": [.8, .8, .9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, .9, .8, .8],
    "fire": [1.4, 1.5, 1.1, .9, .8, .8, .85, .85, .8, .9, 1.0, 1.35],
    "help": [1.0, 1.05, 1, 1, 1, 1, 1.05, 1.05, 1, 1, .95, .95],
    "flat": [1.0] * 12,
    "summer_night": [.8, .8, .9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, .9, .8, .8],
}
LEAF_SEASON = {"dispute.drunk": "summer_night", "noise.business": "summer_night", "traffic.drunk_driving": "fire"}

# ---- losses (涉案金额, yuan): log-normal (median, sigma) and the share of calls reporting a loss ------------
FRAUD_LOSS: dict[str, tuple[float, float, float]] = {
    "fraud.rebate": (8000, 1.1, 0.92), "fraud.fake_service": (6000, 1.0, 0.88), "fraud.fake_loan": (4000, 0.9, 0.90),
    "fraud.fake_shopping": (800, 1.0, 0.95), "fraud.investment": (60000, 1.2, 0.90),
    "fraud.fake_authority": (40000, 1.1, 0.80), "fraud.game": (1500, 1.0, 0.95), "fraud.romance": (50000, 1.2, 0.90),
    "fraud.fake_acquaintance": (15000, 0.9, 0.85), "fraud.other": (3000, 1.2, 0.85),
}
LOSS: dict[str, tuple[float, float, float]] = {
    **FRAUD_LOSS,
    "theft.burglary": (3000, 1.1, 0.70), "theft.nonmotor": (2200, 0.4, 0.95), "theft.battery": (700, 0.4, 0.95),
    "theft.parcel": (200, 0.8, 0.90), "theft.from_vehicle": (1500, 1.0, 0.80), "theft.vehicle": (60000, 0.6, 1.0),
    "theft.pickpocket": (2500, 0.8, 0.90), "theft.shop": (500, 1.0, 0.90), "theft.other": (800, 1.0, 0.80),
    "robbery.robbery": (1500, 1.0, 0.85), "robbery.snatch": (3000, 0.8, 0.90),
}

# ---- dirty rows: share of all rows (disjoint sets) ---------------------------------------------------------------
DIRTY_RATES: dict[str, float] = {
    "missing_time": 0.0004,  # 报警时间 empty
    "bad_time": 0.0003,  # 报警时间 garbled ("不详", "2024年3月份" …)
    "impossible_date": 0.0002,  # 2月30日, 13月…
    "coords_out_of_bounds": 0.0005,  # swapped, (0, 0) or another city
    "missing_coords": 0.0010,  # 经度/纬度 empty (loaded, unassigned)
    "duplicate_key": 0.0003,  # 接警编号 repeated from an earlier row
    "missing_key": 0.0001,  # 接警编号 empty
    "unknown_subcategory": 0.0005,  # 警情细类 not in the mapping; 警情类别 known (→ the family's fallback leaf)
    "unknown_category": 0.0002,  # both unknown (→ other.unknown, counted as unknown)
}


def hour_profile(name: str) -> np.ndarray:
    """Normalised 24-hour profile of a time profile."""
    h = np.asarray(_H[PROFILES[name][0]], dtype=float)
    return h / h.sum()


def weekday_profile(name: str) -> np.ndarray:
    """Mean-1 weekday weights (Monday first) of a time profile."""
    w = np.asarray(_W[PROFILES[name][1]], dtype=float)
    return w / w.mean()


def leaf_profile(code: str) -> str:
    return LEAF_PROFILE.get(code, code.split(".")[0])


def season(code: str) -> np.ndarray:
    """Mean-1 month multipliers of a leaf."""
    key = LEAF_SEASON.get(code, code.split(".")[0])
    s = np.asarray(_S.get(key, _S["flat"]), dtype=float)
    return s / s.mean()


@dataclass
class Plan:
    """Expected calls at scale 1: ``lam[month, leaf, location]``; locations are the communities, then road, zone."""

    months: list[tuple[int, int]]
    years: list[int]
    leaves: tuple[str, ...]
    lam: np.ndarray
    road_comm_share: np.ndarray  # share of road points per community
    zone_comm_share: np.ndarray
    theft_rate: np.ndarray  # relative theft risk per household (exp(lp)), mean-1 over households
    theft_lp: np.ndarray
    fraud_rate: np.ndarray  # relative fraud rate per resident
    supervised: np.ndarray  # community indices
    adjusted: np.ndarray  # communities whose theft was scaled down by the separation rules (not log-linear)
    supervision_start: tuple[int, int] | None
    hot: np.ndarray
    fraud_hot: np.ndarray
    theft_year_shock: np.ndarray  # community × year multiplier of community-located theft (1 for hot communities)
    spikes: np.ndarray  # communities with a one-off base-year spike (included in theft_year_shock)

    @property
    def n_locations(self) -> int:
        return self.lam.shape[2]

    def leaf_index(self, code: str) -> int:
        return self.leaves.index(code)

    def community_expected(self, codes: list[str], months: list[int] | None = None) -> np.ndarray:
        """Expected calls per community (scale 1) for leaves ``codes`` over month indices, counting road and zone
        calls in the community their point lies in."""
        li = [self.leaf_index(c) for c in codes]
        mi = list(range(len(self.months))) if months is None else months
        sub = self.lam[np.ix_(mi, li)].sum(axis=(0, 1))
        nc = len(self.road_comm_share)
        return sub[:nc] + sub[nc] * self.road_comm_share + sub[nc + 1] * self.zone_comm_share


def _weights(d: District, plan_rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Community weight vectors by kind (unnormalised) and the theft/fraud rate vectors."""
    a = d.communities.attrs
    hh = a["households"].astype(float)
    pop = a["population"].astype(float)
    floating = a["floating_share"]
    broken = a["cameras_broken"] / np.maximum(a["cameras"], 1)
    nc = len(hh)
    lp = (RISK_COEF["floating_share"] * (floating - RISK_CENTRE["floating_share"])
          + RISK_COEF["broken_share"] * (broken - RISK_CENTRE["broken_share"])
          + RISK_COEF["fee_collection_rate"] * (a["fee_collection_rate"] - RISK_CENTRE["fee_collection_rate"])
          + RISK_COEF["has_owners_committee"] * a["has_owners_committee"].astype(float)
          + plan_rng.normal(0, RISK_NOISE_SD, nc))
    others = np.setdiff1d(np.arange(nc), d.hot)
    need = np.log(HOT_MIN_RATIO) + lp[others].max() - lp[d.hot]
    lp[d.hot] += np.maximum(need, 0.0)
    flp = FRAUD_COEF_ELDERLY * (a["elderly_share"] - 0.2) + plan_rng.normal(0, FRAUD_NOISE_SD, nc)
    others_f = np.setdiff1d(np.arange(nc), d.fraud_hot)
    need_f = np.log(FRAUD_HOT_MIN_RATIO) + flp[others_f].max() - flp[d.fraud_hot]
    flp[d.fraud_hot] += np.maximum(need_f, 0.0)
    zone_c = d.zone.centroid
    import shapely

    dist_zone = shapely.distance(d.communities.geoms, zone_c)
    kind = a["kind"]
    old = np.isin(kind, ["老旧小区", "村居"])
    construction = np.exp(plan_rng.normal(0, 0.8, nc)) * hh
    w = {
        "theft_risk": hh * np.exp(lp),
        "commercial": a["shops"].astype(float) + 1.0,
        "population": pop,
        "households": hh,
        "rental": pop * a["rental_rate"],
        "fee": hh * (1.25 - a["fee_collection_rate"]),
        "fraud": pop * np.exp(flp),
        "nightlife": pop * np.exp(-dist_zone / 1500.0),
        "floating": pop * (0.3 + floating),
        "construction": construction,
        "old": hh * np.where(old, 1.5, 1.0),
        "elderly": pop * a["elderly_share"],
    }
    theft_rate = np.exp(lp) / np.average(np.exp(lp), weights=hh)
    fraud_rate = np.exp(flp) / np.average(np.exp(flp), weights=pop)
    return w, theft_rate, fraud_rate, lp


def month_list(start_year: int, end_year: int) -> list[tuple[int, int]]:
    return [(y, m) for y in range(start_year, end_year + 1) for m in range(1, 13)]


def build_plan(d: District, *, end_year: int, years: int = 3) -> Plan:
    """Expected calls per month × leaf × location at scale 1 for ``years`` full years ending with ``end_year``.

    Regression to the mean: community-located theft of every non-hot community gets a transient gamma multiplier
    per year (:data:`THEFT_YEAR_CV`) and :data:`N_SPIKES` mid-ranked communities a one-off base-year spike.
    Supervision (when ``years >= 2``): the 10 communities with the most expected theft calls in the year before the
    last (shocks included, so partly the unlucky ones) are supervised from January of the last year; their
    community-located theft is multiplied by :data:`SUPERVISION_MULTIPLIER` (the true effect).
    """
    rng = np.random.default_rng([d.seed, 2])
    w, theft_rate, fraud_rate, lp = _weights(d, rng)
    nc = d.n_communities
    start_year = end_year - years + 1
    months = month_list(start_year, end_year)
    leaves = LEAVES
    n_loc = nc + 2
    road_share = np.bincount(d.rp_comm, minlength=nc) / len(d.rp_comm)
    zone_share = np.bincount(d.zp_comm, minlength=nc) / len(d.zp_comm)

    # annual expected calls per leaf and location (first year)
    base = np.zeros((len(leaves), n_loc))
    for li, code in enumerate(leaves):
        fam = code.split(".")[0]
        total = BASE_CALLS_PER_YEAR * FAMILY_SHARE[fam] * LEAF_MIX[fam][code]
        kind, p_road, p_zone = LOCATION[code]
        wc = w[kind] / w[kind].sum()
        base[li, :nc] = total * max(0.0, 1.0 - p_road - p_zone) * wc
        base[li, nc] = total * p_road
        base[li, nc + 1] = total * p_zone

    lam = np.zeros((len(months), len(leaves), n_loc))
    for mi, (y, m) in enumerate(months):
        k = y - start_year
        days = calendar.monthrange(y, m)[1]
        for li, code in enumerate(leaves):
            fam = code.split(".")[0]
            trend = FAMILY_TREND.get(fam, 1.0) ** k
            lam[mi, li] = base[li] * trend * season(code)[m - 1] * days / 365.0

    theft_codes = [c for c in leaves if c.startswith("theft.")]
    theft_li = [leaves.index(c) for c in theft_codes]
    thief_li = [leaves.index(c) for c in ("theft.burglary", "theft.nonmotor", "theft.parcel")]
    hot = np.asarray(d.hot)
    not_hot = np.setdiff1d(np.arange(nc), hot)
    hh = d.communities.attrs["households"].astype(float)
    supervised = np.array([], dtype=int)
    adjusted: set[int] = set()
    base_year = end_year - 1 if years >= 2 else end_year
    prev = [i for i, (y, _) in enumerate(months) if y == base_year]
    by_year = [[i for i, (y, _) in enumerate(months) if y == yy] for yy in range(start_year, end_year + 1)]

    # transient community × year shocks of residential theft (regression to the mean), from their own stream so
    # every other planted draw is unchanged; hot communities keep theirs at 1 (their ranking is planted exactly)
    srng = np.random.default_rng([d.seed, 2, 7])
    shape = 1 / THEFT_YEAR_CV**2
    shock = srng.gamma(shape, 1 / shape, size=(nc, years))
    shock[hot] = 1.0
    spikes = np.array([], dtype=int)
    if years >= 2:
        persistent = lam[np.ix_(prev, theft_li)].sum(axis=(0, 1))[:nc]
        ranked = [int(c) for c in np.argsort(-persistent, kind="stable") if c not in set(hot.tolist())]
        pool = ranked[SPIKE_RANKS[0]:SPIKE_RANKS[1]]
        spikes = np.sort(srng.choice(pool, size=min(N_SPIKES, len(pool)), replace=False))
        shock[spikes, years - 2] *= SPIKE_MULTIPLIER
    for k, year_months in enumerate(by_year):
        lam[np.ix_(np.asarray(year_months), np.asarray(theft_li), np.arange(nc))] *= shock[:, k][None, None, :]

    def comm_expected(li: list[int], mi: list[int] | None = None) -> np.ndarray:
        sub = lam[np.ix_(prev if mi is None else mi, li)].sum(axis=(0, 1))
        return sub[:nc] + sub[nc] * road_share + sub[nc + 1] * zone_share

    def own(li: list[int], c: int, mi: list[int]) -> float:
        return float(lam[np.ix_(np.asarray(mi), np.asarray(li), np.array([c]))].sum())

    def scale_to(c: int, li: list[int], current: float, target: float, mi: list[int] | None = None) -> None:
        """Scale c's community-located theft so its expected count over ``li`` (months ``mi``, default the base
        year) becomes ``target``."""
        mine = own(li, c, prev if mi is None else mi)
        factor = max(0.0, (target - (current - mine)) / mine) if mine > 0 else 1.0
        lam[:, theft_li, c] *= factor
        adjusted.add(int(c))

    # Separation rules, iterated to a fixed point (each step only scales theft down):
    # (1) hot communities stay below HOT_COUNT_CAP × the 10th non-hot count (so they are never supervised);
    # (2) every other community's thieves' rate ≤ the lowest hot rate / HOT_MIN_RATIO;
    # (3) no non-supervised community comes within SUPERVISED_GAP of the 10th supervised one.
    for _ in range(20):
        changed = False
        counts = comm_expected(theft_li)
        order = [int(c) for c in np.argsort(-counts, kind="stable") if c in set(not_hot.tolist())]
        tenth = counts[order[N_SUPERVISED - 1]]
        for c in hot:
            if counts[c] > HOT_COUNT_CAP * tenth * (1 + 1e-9):
                scale_to(int(c), theft_li, counts[c], HOT_COUNT_CAP * tenth)
                changed = True
        # (rates vary by year with the transient shocks: the cap holds in every year)
        rates = np.array([comm_expected(thief_li, mi) / hh for mi in by_year])  # year × community
        caps = rates[:, hot].min(axis=1) / HOT_MIN_RATIO
        for c in not_hot:
            worst = int(np.argmax(rates[:, c] / caps))
            if rates[worst, c] > caps[worst] * (1 + 1e-9):
                scale_to(int(c), thief_li, rates[worst, c] * hh[c], caps[worst] * hh[c], by_year[worst])
                changed = True
        if years >= 2:
            counts = comm_expected(theft_li)
            order = [int(c) for c in np.argsort(-counts, kind="stable") if c in set(not_hot.tolist())]
            supervised = np.sort(np.array(order[:N_SUPERVISED]))
            limit = SUPERVISED_GAP * counts[supervised].min()
            for c in np.setdiff1d(np.arange(nc), supervised):
                if counts[c] > limit * (1 + 1e-9):
                    scale_to(int(c), theft_li, counts[c], limit)
                    changed = True
        if not changed:
            break
    start: tuple[int, int] | None = None
    if years >= 2:
        start = (end_year, 1)
        for mi, (y, m) in enumerate(months):
            if y == end_year:
                mult = SUPERVISION_MULTIPLIER[min(m - 1, len(SUPERVISION_MULTIPLIER) - 1)]
                lam[np.ix_(np.array([mi]), np.asarray(theft_li), supervised)] *= mult
    return Plan(months=months, years=list(range(start_year, end_year + 1)), leaves=leaves, lam=lam,
                road_comm_share=road_share, zone_comm_share=zone_share, theft_rate=theft_rate, theft_lp=lp,
                fraud_rate=fraud_rate, supervised=supervised, adjusted=np.array(sorted(adjusted), dtype=int),
                supervision_start=start, hot=hot,
                fraud_hot=np.asarray(d.fraud_hot), theft_year_shock=shock, spikes=spikes)
