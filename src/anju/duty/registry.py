"""Resident-registry quality (一标三实): stale records, zombie records, undeclared occupancy and suspected group
rentals, each with its evidence, from the registry and monthly utility use matched to standard addresses.

Rules (defaults in :class:`RegistryRules`; sources in docs/duty-operations.md):

* **stale** (长期未核验): ``last_verified`` older than ``stale_months`` (12) on the check date.
* **zombie** (僵尸户): persons registered, a power account open for ≥ 1 year and < 20 kWh of power in the last 12
  months — Hangzhou's vacancy rule (数据知识产权登记 of the power-address match).
* **undeclared occupancy** (有人无登记): nobody registered, yet the home is lived in: at least ``occupied_months`` (6)
  of the last 12 months with ≥ ``occupied_kwh`` (30) kWh *and* ≥ ``occupied_water_m3`` (1) m³.
* **suspected group rental** (疑似群租): the median month's water use implies at least ``group_factor`` (3) times the
  registered household and at least ``group_min_extra`` (4) more people, at ``water_m3_per_person`` (3 m³ a month,
  about 100 litres a day); power must be at least ``group_power_factor`` (2) times the expected
  ``60 + 40 × persons`` kWh, so a leaking pipe alone is not a group rental (electricity alone confuses shops and large
  families, so both are required).

Names and ID numbers never appear here: the analysis works on household ids and counts; the ops database holds the
persons, masked in lists and audited on view.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from anju.errors import ConfigError

__all__ = ["FLAGS", "RegistryRules", "match_utilities", "registry_flags", "yearly_usage"]

FLAGS = {
    "stale": ("长期未核验", "not verified for a long time"),
    "zombie": ("僵尸户(登记有人、全年几乎无用电)", "zombie record (registered, almost no power in a year)"),
    "undeclared": ("有人居住无人登记", "occupied but nobody registered"),
    "group_rental": ("疑似群租", "suspected group rental"),
}


class RegistryRules(BaseModel):
    """Thresholds of the registry checks (see the module docstring)."""

    stale_months: int = Field(default=12, ge=1)
    zombie_kwh_year: float = Field(default=20.0, ge=0)
    zombie_account_months: int = Field(default=12, ge=1)
    occupied_months: int = Field(default=6, ge=1, le=12)
    occupied_kwh: float = Field(default=30.0, ge=0)
    occupied_water_m3: float = Field(default=1.0, ge=0)
    water_m3_per_person: float = Field(default=3.0, gt=0)
    group_factor: float = Field(default=3.0, gt=1)
    group_min_extra: float = Field(default=4.0, ge=0)
    group_power_factor: float = Field(default=2.0, gt=0)


def _norm_code(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.upper().str.replace(r"\s+", "", regex=True)


def match_utilities(utility: pd.DataFrame, addresses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match monthly utility rows to standard addresses by ``address_code``; every row matched or rejected.

    Returns ``(matched, unmatched)``: matched rows carry the address's columns; unmatched rows keep their source row
    number (``row``) and a ``reason`` (missing code, unknown code, bad month, bad or negative amount).
    """
    need = ["address_code", "month", "water_m3", "power_kwh"]
    missing = [c for c in need if c not in utility.columns]
    if missing:
        raise ConfigError(f"utility data needs the columns {need}; missing {missing}.", key="utility")
    u = utility.reset_index(drop=True).copy()
    if "row" not in u.columns:
        u["row"] = np.arange(1, len(u) + 1)
    u["address_code"] = _norm_code(u["address_code"])
    codes = set(_norm_code(addresses["address_code"]).dropna())
    month = pd.to_datetime(u["month"].astype("string"), format="%Y-%m", errors="coerce")
    amounts = {c: pd.to_numeric(u[c], errors="coerce") for c in ("water_m3", "power_kwh", "gas_m3") if c in u}
    reason = pd.Series(pd.NA, index=u.index, dtype="string")
    reason[u["address_code"].isna() | (u["address_code"] == "")] = "缺少地址编码 / missing address code"
    reason[reason.isna() & ~u["address_code"].isin(codes)] = "地址编码不在标准地址库 / address code not in the standard address list"
    reason[reason.isna() & month.isna()] = "月份无效(应为 YYYY-MM)/ invalid month (expected YYYY-MM)"
    for c, v in amounts.items():
        reason[reason.isna() & (v.isna() | (v < 0))] = f"{c} 缺失或为负 / {c} missing or negative"
    bad = reason.notna()
    ok = u[~bad].assign(month=month[~bad].dt.strftime("%Y-%m"), **{c: v[~bad] for c, v in amounts.items()})
    a = addresses.assign(address_code=_norm_code(addresses["address_code"]))
    matched = ok.merge(a, on="address_code", how="left", suffixes=("", "_addr"))
    unmatched = u[bad].assign(reason=reason[bad])
    return matched.reset_index(drop=True), unmatched.reset_index(drop=True)


def yearly_usage(matched: pd.DataFrame, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """Per address over the 12 full months before ``as_of``: kWh and m³ totals, medians, occupied months, months."""
    end = pd.Timestamp(as_of).to_period("M")
    months = [str(end - i) for i in range(1, 13)]
    m = matched[matched["month"].isin(months)]
    g = m.groupby("address_code")
    out = pd.DataFrame({
        "kwh_year": g["power_kwh"].sum(), "water_year": g["water_m3"].sum(),
        "kwh_median": g["power_kwh"].median(), "water_median": g["water_m3"].median(),
        "months": g["month"].nunique(),
    })
    return out.reset_index()


def registry_flags(households: pd.DataFrame, matched: pd.DataFrame, *, as_of: str | pd.Timestamp,
                   rules: RegistryRules | None = None, lang: str = "zh") -> pd.DataFrame:
    """The registry worklist: one row per household and flag with its evidence.

    ``households``: household_id, address_code, community_id, registered (persons), last_verified, and optionally
    power_account_opened. ``matched``: the matched utility rows of :func:`match_utilities`.
    Returns household_id, address_code, community_id, flag, label, evidence, and the numbers behind the evidence.
    """
    rules = rules or RegistryRules()
    need = ["household_id", "address_code", "community_id", "registered", "last_verified"]
    missing = [c for c in need if c not in households.columns]
    if missing:
        raise ConfigError(f"registry households need the columns {need}; missing {missing}.", key="households")
    day = pd.Timestamp(as_of).normalize()
    h = households.assign(address_code=_norm_code(households["address_code"]))
    use = yearly_usage(matched, day)
    end = day.to_period("M")
    months = [str(end - i) for i in range(1, 13)]
    m = matched[matched["month"].isin(months)]
    occ = ((m["power_kwh"] >= rules.occupied_kwh) & (m["water_m3"] >= rules.occupied_water_m3))
    occ_months = m.assign(o=occ).groupby("address_code")["o"].sum().rename("occupied_months")
    first_month = matched.groupby("address_code")["month"].min().rename("first_month")
    h = h.merge(use, on="address_code", how="left").merge(occ_months, on="address_code", how="left")
    h = h.merge(first_month, on="address_code", how="left")
    h["occupied_months"] = h["occupied_months"].fillna(0).astype(int)
    reg = pd.to_numeric(h["registered"]).fillna(0).astype(int)
    zh = lang == "zh"
    rows: list[pd.DataFrame] = []

    verified = pd.to_datetime(h["last_verified"], errors="coerce")
    age = (day - verified).dt.days / 30.4375
    stale = verified.isna() | (age > rules.stale_months)
    ev = np.where(verified.isna(), "从未核验" if zh else "never verified",
                  [(f"最后核验 {v:%Y-%m-%d},已 {a:.0f} 个月" if zh else f"last verified {v:%Y-%m-%d}, {a:.0f} months ago")
                   if pd.notna(v) else "" for v, a in zip(verified, age, strict=True)])
    rows.append(h[stale].assign(flag="stale", evidence=ev[stale.to_numpy()]))

    if "power_account_opened" in h.columns:
        opened = pd.to_datetime(h["power_account_opened"], errors="coerce")
    else:
        opened = pd.to_datetime(h["first_month"], format="%Y-%m", errors="coerce")
    account_ok = opened.notna() & (opened <= day - pd.DateOffset(months=rules.zombie_account_months))
    zombie = (reg > 0) & account_ok & (h["months"].fillna(0) >= 12) & (h["kwh_year"] < rules.zombie_kwh_year)
    rows.append(h[zombie].assign(flag="zombie", evidence=[
        (f"登记 {r} 人;近12个月用电 {k:.0f} kWh(< {rules.zombie_kwh_year:.0f} kWh),用水 {w:.1f} m³" if zh else
         f"{r} registered; {k:.0f} kWh in the last 12 months (< {rules.zombie_kwh_year:.0f}), water {w:.1f} m³")
        for r, k, w in zip(reg[zombie], h.loc[zombie, "kwh_year"], h.loc[zombie, "water_year"], strict=True)]))

    undeclared = (reg == 0) & (h["occupied_months"] >= rules.occupied_months)
    rows.append(h[undeclared].assign(flag="undeclared", evidence=[
        (f"无人登记;近12个月有 {o} 个月有人居住用量(月中位用电 {k:.0f} kWh、用水 {w:.1f} m³)" if zh else
         f"nobody registered; {o} of 12 months with occupied-home use (median {k:.0f} kWh, {w:.1f} m³)")
        for o, k, w in zip(h.loc[undeclared, "occupied_months"], h.loc[undeclared, "kwh_median"],
                           h.loc[undeclared, "water_median"], strict=True)]))

    implied = h["water_median"] / rules.water_m3_per_person
    expected_kwh = 60.0 + 40.0 * reg
    group = ((reg > 0) & (implied >= rules.group_factor * reg) & (implied >= reg + rules.group_min_extra)
             & (h["kwh_median"] >= rules.group_power_factor * expected_kwh))
    rows.append(h[group].assign(flag="group_rental", implied_persons=implied[group], evidence=[
        (f"登记 {r} 人;月中位用水 {w:.1f} m³ 约合 {i:.0f} 人用量,月中位用电 {k:.0f} kWh(预期约 {e:.0f})" if zh else
         f"{r} registered; median water {w:.1f} m³/month ≈ {i:.0f} persons, power {k:.0f} kWh (expected ≈ {e:.0f})")
        for r, w, i, k, e in zip(reg[group], h.loc[group, "water_median"], implied[group],
                                 h.loc[group, "kwh_median"], expected_kwh[group], strict=True)]))
    out = pd.concat(rows, ignore_index=True)
    out.insert(out.columns.get_loc("flag") + 1 if "flag" in out else 0, "label",
               [FLAGS[f][0 if zh else 1] for f in out["flag"]])
    cols = ["household_id", "address_code", "community_id", "flag", "label", "evidence", "registered",
            "last_verified", "kwh_year", "water_year", "kwh_median", "water_median", "occupied_months"]
    extra = [c for c in ("grid_id", "station_id", "implied_persons") if c in out.columns]
    return out[cols + extra].sort_values(["community_id", "flag", "household_id"], kind="stable").reset_index(drop=True)
