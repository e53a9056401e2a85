"""Write the demo district to a folder: GeoJSON layers, the GBK cn110 CSV, ``truth.json`` and ``demo.json``.

The CSV is written month by month (bounded memory) through pyarrow's CSV writer and encoded to GBK on the fly,
hashing as it goes. ``demo.json`` records the parameters and the CSV's hash so a second run with the same seed and
scale is a no-op.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from blake3 import blake3

from anju.demo import model as M
from anju.demo.calls import CN110_COLUMNS, DIRTY_KINDS, Columns, generate_month, repeat_callers, to_columns
from anju.demo.geography import District, district_for, write_layers
from anju.demo.truth import GENERATOR_VERSION, THIEF_RANKING_LEAVES, default_end_year, truth_from
from anju.errors import AnjuError
from anju.taxonomy import load_mapping, load_taxonomy

__all__ = ["CSV_NAME", "QUARANTINED_DIRT", "DemoFiles", "generate_files", "read_manifest"]

CSV_NAME = "calls.csv"
MANIFEST_NAME = "demo.json"
TRUTH_NAME = "truth.json"
ENCODE_ROWS = 100_000  # rows per CSV text buffer (UTF-8 → GBK)
QUARANTINED_DIRT = ("missing_time", "bad_time", "impossible_date", "coords_out_of_bounds", "duplicate_key",
                    "missing_key")


@dataclass
class DemoFiles:
    """Where the generated demo lives and what it holds."""

    out_dir: Path
    csv: Path
    layers: dict[str, Path]
    truth_path: Path
    manifest: dict[str, Any]
    reused: bool = False
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The ``demo.json`` of a folder, or None."""
    p = Path(out_dir) / MANIFEST_NAME
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _params(seed: int, scale: float, end_year: int, years: int) -> dict[str, Any]:
    return {"generator_version": GENERATOR_VERSION, "seed": seed, "scale": scale, "end_year": end_year,
            "years": years}


def generate_files(out_dir: Path, *, seed: int = 42, scale: float = 1.0, end_year: int | None = None,
                   years: int = 3, on_start: Callable[[int], None] | None = None,
                   on_rows: Callable[[int], None] | None = None, force: bool = False) -> DemoFiles:
    """Generate the demo district into ``out_dir`` (re-using it when ``demo.json`` shows the same parameters).

    ``on_start(expected_rows)`` and ``on_rows(n)`` drive a progress bar.
    """
    if scale <= 0:
        raise AnjuError(f"--scale must be > 0 (got {scale}); use e.g. 0.02 for a quick run or 7.5 for 10M rows")
    if not 1 <= years <= 20:
        raise AnjuError(f"--years must be between 1 and 20 (got {years})")
    end = default_end_year() if end_year is None else end_year
    out_dir = Path(out_dir)
    params = _params(seed, scale, end, years)
    old = read_manifest(out_dir)
    csv_path = out_dir / CSV_NAME
    if (not force and old is not None and old.get("params") == params and csv_path.exists()
            and csv_path.stat().st_size == old.get("csv_bytes")
            and all((out_dir / f).exists() for f in old.get("layers", {}).values())):
        truth = json.loads((out_dir / TRUTH_NAME).read_text(encoding="utf-8"))
        return DemoFiles(out_dir, csv_path, {k: out_dir / v for k, v in old["layers"].items()},
                         out_dir / TRUTH_NAME, old, reused=True, truth=truth)

    out_dir.mkdir(parents=True, exist_ok=True)
    d = district_for(seed)
    plan = M.build_plan(d, end_year=end, years=years)
    layers = write_layers(d, out_dir)
    truth = truth_from(d, plan, seed=seed, scale=scale)
    if on_start:
        on_start(round(truth["expected_rows"]))
    realized, digest, nbytes, rows = _write_csv(d, plan, csv_path, seed=seed, scale=scale, on_rows=on_rows)
    truth["realized"] = realized
    _write_json(out_dir / TRUTH_NAME, truth)
    manifest = {"params": params, "csv": CSV_NAME, "csv_blake3": digest, "csv_bytes": nbytes, "rows": rows,
                "encoding": "gbk", "profile": "cn110",
                "layers": {k: p.name for k, p in layers.items()}, "truth": TRUTH_NAME}
    _write_json(out_dir / MANIFEST_NAME, manifest)
    return DemoFiles(out_dir, csv_path, layers, out_dir / TRUTH_NAME, manifest, reused=False, truth=truth)


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=_default), encoding="utf-8")
    os.replace(tmp, path)


def _default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


class _Tally:
    """Counts in the generated rows as ingest should load them (quarantined dirt excluded)."""

    def __init__(self, d: District, plan: M.Plan) -> None:
        self.d, self.plan = d, plan
        nc = d.n_communities
        ny = len(plan.years)
        self.tax = load_taxonomy()
        self.mapping = load_mapping("cn110", taxonomy=self.tax)
        self.rows = 0
        self.dirt = np.zeros(len(DIRTY_KINDS), dtype=np.int64)
        self.unknown_categories: dict[str, int] = {}
        self.detail: dict[str, int] = {}
        self.codes: list[str] = list(plan.leaves)
        self.code_index = {c: i for i, c in enumerate(self.codes)}
        self.family_year: dict[str, dict[str, int]] = {}
        self.theft = np.zeros((nc, ny), dtype=np.int64)
        self.theft_half = np.zeros((nc, 2 * ny), dtype=np.int64)
        self.thief_half = np.zeros((nc, 2 * ny), dtype=np.int64)
        self.fraud_half = np.zeros((nc, 2 * ny), dtype=np.int64)
        self.fraud_counts: dict[str, int] = {}
        self.fraud_losses: dict[str, list[np.ndarray]] = {}
        self.hour = {k: np.zeros(24, dtype=np.int64) for k in ("all", "dispute", "dispute.drunk", "traffic", "theft")}
        self.drunk_zone_comm = 0
        self.drunk_total = 0

    def add(self, cols: Columns) -> None:
        ch = cols.chunk
        n = len(ch)
        self.rows += n
        self.dirt += np.bincount(cols.dirt, minlength=len(DIRTY_KINDS))
        for k, v in cols.detail.items():
            self.detail[k] = self.detail.get(k, 0) + v
        loaded = ~np.isin(cols.dirt, [DIRTY_KINDS.index(k) for k in QUARANTINED_DIRT])
        # codes as ingest maps them: the generated leaf, except the rows whose category names were dirtied
        ci = ch.leaf.astype(np.int64)
        odd = np.flatnonzero(np.isin(cols.dirt, [DIRTY_KINDS.index("unknown_subcategory"),
                                                 DIRTY_KINDS.index("unknown_category")]))
        if len(odd):
            mapped, known = self.mapping.map(pa.array(cols.data["警情类别"][odd]),
                                             pa.array(cols.data["警情细类"][odd]))
            for j, code in enumerate(mapped):
                if code not in self.code_index:
                    self.code_index[code] = len(self.codes)
                    self.codes.append(code)
                ci[odd[j]] = self.code_index[code]
                if not known[j] and loaded[odd[j]]:
                    cat = str(cols.data["警情类别"][odd[j]])
                    self.unknown_categories[cat] = self.unknown_categories.get(cat, 0) + 1
        codes_arr = np.array(self.codes, dtype=object)
        fam_arr = np.array([c.split(".")[0] for c in self.codes], dtype=object)

        def is_fam(name: str) -> np.ndarray:
            return np.asarray(fam_arr == name)[ci]

        def is_code(*names: str) -> np.ndarray:
            return np.isin(codes_arr, names)[ci]

        yi = ch.year - self.plan.years[0]
        half = 2 * yi + (ch.month - 1) // 6
        has_comm = loaded & (cols.dirt != DIRTY_KINDS.index("missing_coords"))
        fy = self.family_year.setdefault(str(ch.year), {})
        fam_counts = np.bincount(ci[loaded], minlength=len(self.codes))
        for idx in np.flatnonzero(fam_counts):
            fname = str(fam_arr[idx])
            fy[fname] = fy.get(fname, 0) + int(fam_counts[idx])
        nc = self.d.n_communities
        theft = has_comm & is_fam("theft")
        self.theft[:, yi] += np.bincount(ch.comm[theft], minlength=nc)
        self.theft_half[:, half] += np.bincount(ch.comm[theft], minlength=nc)
        thief = has_comm & is_code(*THIEF_RANKING_LEAVES)
        self.thief_half[:, half] += np.bincount(ch.comm[thief], minlength=nc)
        fraud = has_comm & is_fam("fraud")
        self.fraud_half[:, half] += np.bincount(ch.comm[fraud], minlength=nc)
        fl = loaded & is_fam("fraud")
        for k in np.unique(ci[fl]):
            code = str(codes_arr[k])
            sel = fl & (ci == k)
            self.fraud_counts[code] = self.fraud_counts.get(code, 0) + int(sel.sum())
            v = ch.loss[sel]
            self.fraud_losses.setdefault(code, []).append(v[~np.isnan(v)])
        hours = ch.hour
        theft_all = is_fam("theft")
        self.hour["all"] += np.bincount(hours[loaded], minlength=24)
        self.hour["dispute"] += np.bincount(hours[loaded & is_fam("dispute")], minlength=24)
        drunk = loaded & is_code("dispute.drunk")
        self.hour["dispute.drunk"] += np.bincount(hours[drunk], minlength=24)
        self.hour["traffic"] += np.bincount(hours[loaded & is_fam("traffic")], minlength=24)
        self.hour["theft"] += np.bincount(hours[loaded & theft_all], minlength=24)
        self.drunk_total += int(drunk.sum())
        self.drunk_zone_comm += int((drunk & (ch.loc_kind == 2)).sum())

    def summary(self) -> dict[str, Any]:
        ids = np.array(self.d.communities.ids)
        hh = self.d.communities.attrs["households"].astype(float)
        plan = self.plan
        ny = len(plan.years)
        out: dict[str, Any] = {"rows": self.rows}
        out["dirty_rows"] = {k: int(self.dirt[i]) for i, k in enumerate(DIRTY_KINDS) if k != "clean"}
        out["dirty_detail"] = self.detail
        out["expected_quarantine"] = {k: out["dirty_rows"][k] for k in QUARANTINED_DIRT}
        dd = out["dirty_rows"]
        # how anju's own ingest reports them: impossible dates fail the format (bad_time); swapped or (0, 0)
        # coordinates are not valid lon/lat (bad_coords); coordinates in another city are out of bounds
        out["expected_quarantine_anju"] = {
            "missing_time": dd["missing_time"], "bad_time": dd["bad_time"] + dd["impossible_date"],
            "bad_coords": self.detail.get("coords_swapped", 0) + self.detail.get("coords_zero", 0),
            "coords_out_of_bounds": self.detail.get("coords_far", 0),
            "duplicate_key": dd["duplicate_key"], "missing_key": dd["missing_key"]}
        out["expected_loaded"] = self.rows - sum(out["expected_quarantine"].values())
        out["unknown_categories"] = self.unknown_categories
        out["loaded_by_year_family"] = self.family_year
        out["dispute_share_by_year"] = {y: v.get("dispute", 0) / max(sum(v.values()), 1)
                                        for y, v in self.family_year.items()}
        out["theft_by_community_year"] = {str(y): {ids[i]: int(self.theft[i, k]) for i in range(len(ids))}
                                          for k, y in enumerate(plan.years)}
        if ny >= 2:
            prev = self.theft[:, ny - 2]
            order = np.argsort(-prev, kind="stable")
            out["top10_theft_base_year"] = ids[order[:10]].tolist()
            out["theft_base_year_rank11_count"] = int(prev[order[10]])
            sup = plan.supervised
            rel = self.theft_half[:, 2 * ny - 1]
            cmp_ = self.theft_half[:, 2 * ny - 3]
            out["supervised_change_release_vs_comparison"] = float(rel[sup].sum() / max(cmp_[sup].sum(), 1) - 1)
            out["supervised_change_year"] = float(self.theft[sup, ny - 1].sum() / max(self.theft[sup, ny - 2].sum(),
                                                                                       1) - 1)
            last = self.theft[:, ny - 1]
            top_last = set(ids[np.argsort(-last, kind="stable")[:10]].tolist())
            out["supervised_left_top10"] = sorted(set(ids[sup].tolist()) - top_last)
        rate = self.thief_half[:, 2 * ny - 1] / hh * 1000 * 2
        order = np.argsort(-rate, kind="stable")
        out["thief_ranking_release_top10"] = [[ids[i], float(rate[i])] for i in order[:10]]
        out["fraud_counts"] = self.fraud_counts
        tot = sum(self.fraud_counts.values())
        out["fraud_shares"] = {k: v / tot for k, v in self.fraud_counts.items()} if tot else {}
        losses = {k: np.concatenate(v) for k, v in self.fraud_losses.items()}
        out["fraud_loss"] = {k: {"n": len(v), "sum": float(v.sum()), "median": float(np.median(v)) if len(v) else None,
                                 "mean": float(v.mean()) if len(v) else None} for k, v in losses.items()}
        out["hour_counts"] = {k: v.tolist() for k, v in self.hour.items()}
        out["drunk_dispute_zone_share"] = self.drunk_zone_comm / max(self.drunk_total, 1)
        return out


def _write_csv(d: District, plan: M.Plan, path: Path, *, seed: int, scale: float,
               on_rows: Callable[[int], None] | None) -> tuple[dict[str, Any], str, int, int]:
    tax = load_taxonomy()
    callers = repeat_callers(d, seed)
    tally = _Tally(d, plan)
    h = blake3(max_threads=1)  # the import identifies files by BLAKE3 (anju.files.file_blake3)
    nbytes = 0
    rows = 0
    tmp = path.with_suffix(".csv.partial")
    with tmp.open("wb") as fh:
        for mi in range(len(plan.months)):
            chunk = generate_month(d, plan, mi, seed=seed, scale=scale)
            cols = to_columns(chunk, d, plan, tax, seed=seed, callers=callers)
            tally.add(cols)
            table = pa.table({name: pa.array(cols.data[name], pa.string()) for name in CN110_COLUMNS})
            for off in range(0, max(table.num_rows, 1), ENCODE_ROWS):  # bounded text buffers
                buf = io.BytesIO()
                pacsv.write_csv(table.slice(off, ENCODE_ROWS), buf, write_options=pacsv.WriteOptions(
                    include_header=mi == 0 and off == 0, quoting_style="needed"))
                data = buf.getvalue().decode("utf-8").encode("gbk")
                fh.write(data)
                h.update(data)
                nbytes += len(data)
            rows += len(chunk)
            if on_rows:
                on_rows(len(chunk))
    os.replace(tmp, path)
    return tally.summary(), str(h.hexdigest()), nbytes, rows
