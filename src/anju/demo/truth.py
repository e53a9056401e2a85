"""The planted truth of the demo district, for tests and analytics checks.

:func:`truth` recomputes, without drawing a call, everything the generator plants (which communities are
supervised, hot, fraud-prone, near the night-life zone; the fraud mix and losses; the rhythms; the dirty-row rates).
The generator writes the same dict plus a ``realized`` section (counts in the generated CSV as ingest should load
them) to ``truth.json`` beside the CSV.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import shapely

from anju.demo import model as M
from anju.demo import texts as T
from anju.demo.geography import District, district_for

__all__ = ["GENERATOR_VERSION", "default_end_year", "truth", "truth_from"]

GENERATOR_VERSION = "1"
THIEF_RANKING_LEAVES = ("theft.burglary", "theft.nonmotor", "theft.parcel")


def default_end_year(today: dt.date | None = None) -> int:
    """The last full calendar year (the demo's default end): 2025 during 2026."""
    return (today or dt.date.today()).year - 1


def truth(seed: int = 42, scale: float = 1.0, *, end_year: int | None = None, years: int = 3) -> dict[str, Any]:
    """Everything planted in the demo district for a seed, as a JSON-able dict (see docs/demo-district.md).

    Examples
    --------
    >>> t = truth(42, end_year=2025)
    >>> t["periods"]["release"], len(t["supervised"]["community_ids"]), len(t["hot"]["community_ids"])
    ('2025H2', 10, 5)
    """
    end = default_end_year() if end_year is None else end_year
    d = district_for(seed)
    plan = M.build_plan(d, end_year=end, years=years)
    return truth_from(d, plan, seed=seed, scale=scale)


def _months(plan: M.Plan, year: int, half: int | None = None) -> list[int]:
    return [i for i, (y, m) in enumerate(plan.months) if y == year and (half is None or (m - 1) // 6 + 1 == half)]


def truth_from(d: District, plan: M.Plan, *, seed: int, scale: float) -> dict[str, Any]:
    """The truth dict for an already built district and plan."""
    c = d.communities
    ids = np.array(c.ids)
    hh = c.attrs["households"].astype(float)
    pop = c.attrs["population"].astype(float)
    end = plan.years[-1]
    start = plan.years[0]
    theft_codes = [x for x in plan.leaves if x.startswith("theft.")]
    release = _months(plan, end, 2)
    comparison = _months(plan, end - 1, 2) if len(plan.years) >= 2 else []

    # thieves' ranking (最受小偷欢迎小区) in the release and comparison periods
    rel_rate = plan.community_expected(list(THIEF_RANKING_LEAVES), release) / hh * 1000
    order = np.argsort(-rel_rate, kind="stable")
    hot_ids = sorted(ids[plan.hot].tolist())
    top5 = sorted(ids[order[:5]].tolist())

    out: dict[str, Any] = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "years": plan.years,
        "periods": {"release": f"{end}H2", "comparison": f"{end - 1}H2", "supervision_base": str(end - 1),
                    "first": f"{start}-01-01", "last": f"{end}-12-31"},
        "district": {"id": d.layers["district"].ids[0], "name": d.layers["district"].names[0],
                     "layers": {k: len(v) for k, v in d.layers.items()}},
        "expected_rows": float(plan.lam.sum() * scale),
        "expected_rows_by_year": {str(y): float(plan.lam[_months(plan, y)].sum() * scale) for y in plan.years},
    }

    fam_of = np.array([x.split(".")[0] for x in plan.leaves])
    fam_year = {}
    for y in plan.years:
        tot = plan.lam[_months(plan, y)].sum(axis=(0, 2))
        fam_year[str(y)] = {f: float(tot[fam_of == f].sum() / tot.sum()) for f in M.FAMILY_SHARE}
    out["family_share_by_year"] = fam_year
    out["dispute_share_by_year"] = {y: v["dispute"] for y, v in fam_year.items()}
    out["leaf_mix"] = M.LEAF_MIX

    # supervision
    sup = plan.supervised
    if len(sup):
        base = plan.community_expected(theft_codes, _months(plan, end - 1))
        last = plan.community_expected(theft_codes, _months(plan, end))
        h_rel = plan.community_expected(theft_codes, release)
        h_cmp = plan.community_expected(theft_codes, comparison)
        others = np.setdiff1d(np.arange(len(ids)), sup)
        eff_last = np.full(len(ids), 1.0)
        eff_last[sup] = float(np.mean([M.SUPERVISION_MULTIPLIER[min(m - 1, len(M.SUPERVISION_MULTIPLIER) - 1)]
                                       for m in range(1, 13)]))
        shock_last = plan.theft_year_shock[:, -1]
        out["supervised"] = {
            "community_ids": sorted(ids[sup].tolist()),
            "names": [c.names[i] for i in sorted(sup, key=lambda i: c.ids[i])],
            "rule": f"top {M.N_SUPERVISED} communities by expected theft calls in {end - 1}",
            "start": f"{end}-01",
            "monthly_multiplier": list(M.SUPERVISION_MULTIPLIER),
            "true_effect": float(M.SUPERVISION_MULTIPLIER[-1]),
            "theft_year_cv": M.THEFT_YEAR_CV,
            "spike_community_ids": sorted(ids[plan.spikes].tolist()),
            "spike_multiplier": M.SPIKE_MULTIPLIER,
            "listed_on_a_spike": sorted(ids[np.intersect1d(plan.spikes, sup)].tolist()),
            # what the listed set would have recorded in the last year without supervision: the persistent level
            # (transient shocks at their mean, 1) × the district trend, against the base year as planted
            "expected_change_without_intervention_year": float(
                (last[sup] / eff_last[sup] / shock_last[sup]).sum() / base[sup].sum() - 1),
            "expected_theft_base_year": {ids[i]: float(base[i] * scale) for i in sup},
            "expected_change_year": float(last[sup].sum() / base[sup].sum() - 1),
            "expected_change_release_vs_comparison": float(h_rel[sup].sum() / h_cmp[sup].sum() - 1),
            "expected_change_others_release_vs_comparison": float(h_rel[others].sum() / h_cmp[others].sum() - 1),
            "separation": f"every other community's expected {end - 1} theft ≤ {M.SUPERVISED_GAP} × the 10th's",
        }
    else:
        out["supervised"] = {"community_ids": [], "names": [], "rule": "needs at least 2 years"}

    cmp_rate = (plan.community_expected(list(THIEF_RANKING_LEAVES), comparison) / hh * 1000
                if comparison else rel_rate)
    out["hot"] = {
        "community_ids": hot_ids,
        "names": [c.names[i] for i in sorted(plan.hot, key=lambda i: c.ids[i])],
        "ranking_leaves": list(THIEF_RANKING_LEAVES),
        "ranking_top5_release": top5,
        "expected_rate_per_1000_households_release": {ids[i]: float(rel_rate[i] * 2) for i in order[:10]},
        "expected_rate_per_1000_households_comparison": {ids[i]: float(cmp_rate[i] * 2) for i in order[:10]},
        "min_ratio_to_others": M.HOT_MIN_RATIO,
        "note": "rates are annualised (half-year expectation × 2); hot = planted high-risk small communities",
    }
    fr = plan.community_expected([x for x in plan.leaves if x.startswith("fraud.")], release) / pop * 1000
    forder = np.argsort(-fr, kind="stable")
    out["fraud_hot"] = {"community_ids": sorted(ids[plan.fraud_hot].tolist()),
                        "ranking_top3_release": sorted(ids[forder[:3]].tolist()),
                        "rule": "elderly share 0.45–0.55 and rate ≥ 1.4 × any other (fraud calls per 1,000 residents)"}
    out["theft_risk_model"] = {
        "formula": "rate per household ∝ exp(2.0·(floating_share−0.35) + 1.5·(cameras_broken/cameras−0.25) "
                   "− 1.8·(fee_collection_rate−0.75) − 0.3·has_owners_committee + u), u ~ N(0, 0.15²)",
        "coefficients": M.RISK_COEF,
        "centre": M.RISK_CENTRE,
        "noise_sd": M.RISK_NOISE_SD,
        "leaves": [x for x in theft_codes if M.LOCATION[x][0] == "theft_risk"],
        "relative_rate": {ids[i]: float(plan.theft_rate[i]) for i in range(len(ids))},
        "adjusted_community_ids": sorted(ids[plan.adjusted].tolist()),
        "adjusted_note": "theft scaled down to keep the supervised set separated (not log-linear)",
    }

    # night-life zone
    zone = d.zone
    inter = shapely.area(shapely.intersection(c.geoms, zone))
    zshare = np.bincount(d.zp_comm, minlength=len(ids)) / len(d.zp_comm)
    drunk = M.hour_profile("drunk")
    night = [21, 22, 23, 0, 1, 2]
    out["nightlife"] = {
        "zone_names": d.zone_names,
        "community_ids": sorted(ids[inter > 1.0].tolist()),
        "main_community_ids": sorted(ids[zshare >= 0.10].tolist()),
        "zone_share_of_drunk_disputes": M.LOCATION["dispute.drunk"][2],
        "drunk_dispute_peak_hours": sorted(np.argsort(-drunk)[:2].tolist()),
        "drunk_dispute_hour_profile": drunk.round(5).tolist(),
        "night_window": "21:00-03:00",
        "drunk_dispute_night_share": float(drunk[night].sum()),
    }
    out["rhythms"] = {name: {"hour": M.hour_profile(name).round(5).tolist(),
                             "weekday": M.weekday_profile(name).round(4).tolist()} for name in M.PROFILE_NAMES}
    out["leaf_profile"] = {x: M.leaf_profile(x) for x in plan.leaves}
    out["season"] = {x: M.season(x).round(4).tolist() for x in plan.leaves}
    out["family_trend"] = M.FAMILY_TREND

    # fraud techniques and losses
    loss = {}
    for code, (median, sigma, p) in M.FRAUD_LOSS.items():
        mean = median * float(np.exp(sigma**2 / 2))
        loss[code] = {"median": median, "sigma": sigma, "p_loss": p, "mean": mean,
                      "expected_loss_per_call": p * mean}
    share = M.LEAF_MIX["fraud"]
    out["fraud"] = {
        "proportions": share,
        "loss": loss,
        "costliest_by_mean": max(loss, key=lambda k: loss[k]["mean"]),
        "costliest_by_median": max(loss, key=lambda k: loss[k]["median"]),
        "costliest_by_total": max(loss, key=lambda k: share[k] * loss[k]["expected_loss_per_call"]),
        "most_common": max(share, key=lambda k: share[k]),
    }
    out["words"] = {"rising": list(T.RISING_TERMS), "falling": list(T.FALLING_TERMS),
                    "compare": f"{end}H2 vs {end - 1}H2", "text_noise": T.TEXT_NOISE}
    out["dirty_rates"] = M.DIRTY_RATES
    out["communities"] = [
        {"id": c.ids[i], "name": c.names[i], "street_id": c.parent_ids[i], "kind": str(c.attrs["kind"][i]),
         "households": int(hh[i]), "population": int(pop[i]),
         "station_id": d.layers["station"].ids[int(d.comm_station[i])]}
        for i in range(len(ids))
    ]
    return out
