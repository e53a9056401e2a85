"""One batch of source rows → lake rows + quarantine rows. Pure array work; no file is touched here.

The steps, all vectorised over the batch (pyarrow compute, NumPy, DuckDB):

1. time (:mod:`~anju.ingest.timeparse`) — ``missing_time``, ``bad_time``, ``impossible_date``;
2. record key (profile column, identifying fields + occurrence, or row hash) — ``missing_key``;
3. coordinates → WGS-84 (:mod:`~anju.ingest.enrich`) — ``bad_coords``, ``coords_out_of_bounds``;
4. metric x/y, H3, areas — ``outside_areas``;
5. duplicates within the file and against the lake (:class:`~anju.ingest.keys.KeyIndex`) — ``duplicate_key``;
6. category mapping (unknown → ``other.unknown``, counted), personal data hashed and masked (:mod:`~anju.ingest.pii`).
"""

from __future__ import annotations

import json
import zoneinfo
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anju.ingest.enrich import GeoContext, parse_numbers
from anju.ingest.keys import (
    KeyIndex,
    Occurrences,
    hash_keys,
    identity_fingerprints,
    identity_keys,
    normalize_key_text,
    record_keys,
    round_coords,
)
from anju.ingest.pii import Hasher, mask_text, name_forms, phone_forms
from anju.ingest.profile import Profile, ResolvedColumns
from anju.ingest.readers import SourceBatch
from anju.ingest.timeparse import ParsedTimes, parse_times
from anju.ingest.validate import Verdicts, time_problems
from anju.lake.duck import quiet_duckdb
from anju.lake.schema import AREA_LEVELS, INCIDENT_SCHEMA, QUARANTINE_SCHEMA
from anju.taxonomy import SourceMapping, Taxonomy

__all__ = ["BatchResult", "BatchTransformer"]

_NULL_STR = pa.scalar(None, pa.string())


@dataclass
class BatchResult:
    """What one batch produced."""

    incidents: pa.Table
    quarantine: pa.Table
    rows_read: int
    reasons: Counter[str] = field(default_factory=Counter)
    unknown_categories: Counter[str] = field(default_factory=Counter)
    unassigned: Counter[str] = field(default_factory=Counter)
    parsed: dict[str, Any] | None = None
    #: loaded rows whose value of a field was given but could not be read (kept as null): field → count
    unparsed: Counter[str] = field(default_factory=Counter)


@dataclass
class _Prepared:
    """A batch after stage 1 (see :meth:`BatchTransformer.prepare`)."""

    batch: SourceBatch
    v: Verdicts
    rk: pa.Array
    times: ParsedTimes
    lon: np.ndarray
    lat: np.ndarray
    geo: dict[str, Any]
    pii: Future[tuple[pa.Array, pa.Array, pa.Array, pa.Array]]
    caller_masked: pa.Array
    phone_masked: pa.Array


def _fmt_list(formats: list[str]) -> str:
    return " | ".join(formats)


class BatchTransformer:
    """Turns :class:`~anju.ingest.readers.SourceBatch` objects of one file into :class:`BatchResult` objects."""

    def __init__(
        self,
        *,
        profile: Profile,
        header: list[str],
        resolved: ResolvedColumns,
        mapping: SourceMapping,
        taxonomy: Taxonomy,
        geo: GeoContext,
        hasher: Hasher,
        keys: KeyIndex | None,
        import_id: str,
        source_file: str,
        now: datetime | None = None,
        keep_parsed: bool = False,
    ) -> None:
        self.profile = profile
        self.header = header
        self.resolved = resolved
        self.mapping = mapping
        self.geo = geo
        self.hasher = hasher
        self.keys = keys
        self.import_id = import_id
        self.source_file = source_file
        self.keep_parsed = keep_parsed
        self.key_columns = profile.key_columns(header, resolved)
        self._occurrences = Occurrences()  # identifying-field keys: occurrences of each value so far in the file
        self.family_of = {c: taxonomy.family_of(c) for c in taxonomy.codes()}
        self.now = now or datetime.now(zoneinfo.ZoneInfo(profile.time.timezone)).replace(tzinfo=None)
        self._con = quiet_duckdb()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anju-ingest-pii")
        self.min_date = datetime.combine(profile.time.min_date, datetime.min.time())
        self.max_future = timedelta(days=profile.time.max_future_days)
        pii_cols = {resolved.get("caller"), resolved.get("phone")} | set(profile.pii.extra_columns)
        self.pii_columns = {c for c in pii_cols if c}

    # ------------------------------------------------------------------ helpers
    def close(self) -> None:
        """Stop the background hashing thread and release the DuckDB connection."""
        self._pool.shutdown(wait=True)
        self._con.close()

    def _hash_pii(self, caller: pa.Array, phone: pa.Array, text: pa.Array, address: pa.Array,
                  caller_masked: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
        """HMACs of caller and phone, and the text and address with the caller's own name masked ("王小明家")
        (runs in the pool)."""
        n = len(caller)
        caller_hash = self.hasher.digest(caller) if self.resolved.get("caller") else pa.nulls(n, Hasher.TYPE)
        phone_hash = self.hasher.digest(phone) if self.resolved.get("phone") else pa.nulls(n, Hasher.TYPE)
        # the caller's own name first (its exact masked form), then the rules of anju.text.mask
        if self.resolved.get("caller") and self.resolved.get("text"):
            text = self.hasher.replace_each(text, caller, caller_masked)
        if self.resolved.get("caller") and self.resolved.get("address"):
            address = self.hasher.replace_each(address, caller, caller_masked)
        return caller_hash, phone_hash, mask_text(text), mask_text(address, names=False)

    def _identity_parts(self, t: pa.Table, raw_time: pa.Array, times: ParsedTimes) -> list[pa.Array]:
        """The identifying fields' values as compared in the key (see :func:`~anju.ingest.keys.identity_keys`):
        the time as parsed (any spelling of the same minute agrees), coordinates rounded to
        ``[key].coord_decimals``, every other text NFKC-normalised, trimmed and case-folded where the profile says."""
        key = self.profile.key
        parts = []
        for fld in key.fields:
            if fld == "time":
                parts.append(pc.coalesce(times.local.cast(pa.string()), normalize_key_text(raw_time)))
            elif fld in ("lon", "lat"):
                parts.append(round_coords(self._col(t, fld), key.coord_decimals))
            elif fld == "caller":
                parts.append(name_forms(self._col(t, fld))[0])
            elif fld == "phone":
                parts.append(phone_forms(self._col(t, fld))[0])
            else:
                parts.append(normalize_key_text(self._col(t, fld), casefold=key.folds(fld)))
        return parts

    def _raw_time(self, t: pa.Table) -> tuple[pa.Array, str]:
        """The time as given (a date column and a time-of-day column joined; a missing time leaves the date), and
        the name of its column(s) for messages."""
        raw_time = self._col(t, "time")
        time_name = str(self.resolved["time"])
        if self.resolved.get("time_of_day"):
            tod = self._col(t, "time_of_day")
            raw_time = pc.if_else(pc.is_valid(tod), pc.binary_join_element_wise(raw_time, tod, " "), raw_time)
            time_name += "+" + str(self.resolved["time_of_day"])
        return raw_time, time_name

    def identity_fingerprints(self, table: pa.Table) -> np.ndarray:
        """For identifying-field keys: each row's 64-bit fingerprint (uint64), by which its occurrence number is
        counted (:func:`~anju.ingest.keys.identity_fingerprints`); the Spark ingest numbers a whole file with it."""
        if any(c.num_chunks > 1 for c in table.columns):
            table = table.combine_chunks()
        raw_time, _name = self._raw_time(table)
        times = parse_times(raw_time, self.profile.time.formats, self.profile.time.timezone)
        return identity_fingerprints(self._identity_parts(table, raw_time, times), self.hasher)

    def _col(self, table: pa.Table, fld: str) -> pa.Array:
        name = self.resolved.get(fld)
        if name is None:
            return pa.nulls(table.num_rows, pa.string())
        col = table.column(name)
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()

    # ------------------------------------------------------------------ main
    def __call__(self, batch: SourceBatch) -> BatchResult:
        """Both stages at once (see :meth:`prepare` and :meth:`finish`)."""
        return self.finish(self.prepare(batch))

    def prepare(self, batch: SourceBatch) -> _Prepared:
        """Stage 1, independent of other batches (the pipeline runs it a batch ahead, in another thread): keys,
        times, coordinates, areas, masks; the HMACs start in the background."""
        # one contiguous copy of the batch; the parser's chunks are released with the reader's batch
        if any(c.num_chunks > 1 for c in batch.table.columns):
            batch = SourceBatch(batch.table.combine_chunks(), batch.row_numbers, batch.malformed,
                                batch.occurrences)
        t = batch.table
        n = t.num_rows
        v = Verdicts(n)
        prof = self.profile

        # 0. personal data first, hashed in a background thread (DuckDB, outside the interpreter lock) while the
        # checks below run; every row is masked, since rejected rows go to the quarantine masked too.
        caller_all, caller_masked_all = name_forms(self._col(t, "caller"))
        phone_all, phone_masked_all = phone_forms(self._col(t, "phone"))
        pii = self._pool.submit(self._hash_pii, caller_all, phone_all, self._col(t, "text"),
                                self._col(t, "address"), caller_masked_all)

        # 1. time (first: an identifying-field key uses the parsed time)
        raw_time, time_name = self._raw_time(t)
        times = parse_times(raw_time, prof.time.formats, prof.time.timezone)

        # 2. record key
        if prof.key.fields:
            occ = batch.occurrences if batch.occurrences is not None else self._occurrences
            rk = identity_keys(prof.source, self._identity_parts(t, raw_time, times), self.hasher, occ)
        else:
            if prof.key.hash:
                ids = hash_keys([t.column(c).combine_chunks() for c in self.key_columns], self._con)
            else:
                ids = self._col(t, "record_key")
            rk = record_keys(prof.source, ids, integer=prof.key.integer)
        key_name = "+".join(self.key_columns) if prof.key.hash or prof.key.fields \
            else str(self.resolved["record_key"])
        v.flag(rk.is_null().to_numpy(zero_copy_only=False), "missing_key",
               f"{key_name} 为空 / record id is empty")
        missing, bad, impossible = time_problems(raw_time, times.local, min_date=self.min_date,
                                                 max_future=self.max_future, now=self.now)
        v.flag(missing, "missing_time", f"{time_name} 为空 / time is empty")
        raw_list = raw_time  # for details
        v.flag(bad, "bad_time", lambda idx: [
            f"{time_name}={raw_list[int(i)].as_py()!r} 无法按格式解析 / cannot parse with "
            f"{_fmt_list(prof.time.formats)}" for i in idx])
        v.flag(impossible, "impossible_date", lambda idx: [
            f"{time_name}={raw_list[int(i)].as_py()!r} → {times.local[int(i)].as_py()}：早于 {prof.time.min_date} "
            f"或晚于当前时间 / before {prof.time.min_date} or in the future" for i in idx])

        # 3. coordinates
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        raw_a = raw_b = None
        if self.resolved.get("lon"):
            raw_a, raw_b = self._col(t, "lon"), self._col(t, "lat")
            a, bad_a = parse_numbers(raw_a)
            b, bad_b = parse_numbers(raw_b)
            lon, lat, impossible_xy = self.geo.to_wgs84(a, b)
            given = ~(np.isnan(a) & np.isnan(b)) | bad_a | bad_b
            bad_xy = bad_a | bad_b | (given & impossible_xy)
            lon_name, lat_name = self.resolved["lon"], self.resolved["lat"]
            ra, rb = raw_a, raw_b
            v.flag(bad_xy, "bad_coords", lambda idx: [
                f"{lon_name}={ra[int(i)].as_py()!r}, {lat_name}={rb[int(i)].as_py()!r}：坐标无效 / invalid "
                f"coordinates" for i in idx])
            lon = np.where(bad_xy, np.nan, lon)
            lat = np.where(bad_xy, np.nan, lat)
            oob = self.geo.outside_bounds(lon, lat)
            bounds = self.geo.bounds
            v.flag(oob, "coords_out_of_bounds", lambda idx: [
                f"({lon[int(i)]:.6f}, {lat[int(i)]:.6f}) 超出辖区范围 / outside the bounds "
                f"lon {bounds[0]:.4f}…{bounds[2]:.4f}, lat {bounds[1]:.4f}…{bounds[3]:.4f}"  # type: ignore[index]
                for i in idx])

        # 4. geography for rows still in the running
        live = v.ok
        lon_l = np.where(live, lon, np.nan)
        lat_l = np.where(live, lat, np.nan)
        geo = self.geo.enrich(lon_l, lat_l)
        v.flag(self.geo.unassigned(geo), "outside_areas", lambda idx: [
            f"({lon[int(i)]:.6f}, {lat[int(i)]:.6f}) 不在任何区域内且距最近区域超过 {self.geo.nearest_m:g} 米 / "
            f"outside every area and farther than {self.geo.nearest_m:g} m from the nearest" for i in idx])

        return _Prepared(batch, v, rk, times, lon, lat, geo, pii, caller_masked_all, phone_masked_all)

    def finish(self, prep: _Prepared) -> BatchResult:
        """Stage 2, in batch order: duplicate keys (first occurrence wins), then the lake and quarantine rows."""
        batch, v, rk, times, lon, lat, geo = prep.batch, prep.v, prep.rk, prep.times, prep.lon, prep.lat, prep.geo
        caller_masked_all, phone_masked_all, pii = prep.caller_masked, prep.phone_masked, prep.pii
        t = batch.table
        n = t.num_rows
        prof = self.profile

        # 5. duplicates (last: only rows that would otherwise load claim their key)
        if self.keys is not None:
            dup = self.keys.claim(rk, v.ok)
            v.flag(dup, "duplicate_key", lambda idx: [
                f"{rk[int(i)].as_py()} 已存在（湖中或本文件前面的行）/ key already in the lake or earlier in the file"
                for i in idx])

        ok = v.ok
        ok_np = np.flatnonzero(ok)
        n_ok = int(ok_np.size)
        # Columns are computed on every row when most rows load (then the good rows are cut out as zero-copy
        # slices), or on the good rows only when most are rejected.
        dense = n_ok * 2 >= n
        rows_np = np.arange(n) if dense else ok_np
        rows_idx = None if dense else pa.array(ok_np, pa.int64())
        loads = ok if dense else np.ones(n_ok, dtype=bool)  # which computed rows will be loaded
        m = n if dense else n_ok

        def base(a: pa.Array) -> pa.Array:
            return a if rows_idx is None else a.take(rows_idx)

        def nbase(a: np.ndarray) -> np.ndarray:
            return a if dense else a[ok_np]

        # 6. categories, personal data, the rest
        cat = base(pc.utf8_trim_whitespace(self._col(t, "category")))
        sub = base(pc.utf8_trim_whitespace(self._col(t, "subcategory"))) if self.resolved.get("subcategory") \
            else None
        codes_arr, family_arr, known = self._categories(cat, sub)
        unknown: Counter[str] = Counter()
        unk = np.flatnonzero(~known & loads)
        if unk.size:
            unk_idx = pa.array(unk, pa.int64())
            label = cat.take(unk_idx).fill_null("(空)")
            if sub is not None:
                s = sub.take(unk_idx)
                label = pc.if_else(pc.is_valid(s), pc.binary_join_element_wise(label, s, " | "), label)
            for item in pc.value_counts(label).to_pylist():
                unknown[item["values"]] = int(item["counts"])

        caller_hash, phone_hash, text_all, address_all = pii.result()
        text = base(text_all)
        local = base(times.local)
        h3 = nbase(geo["h3_9"])
        cols: dict[str, Any] = {
            "record_key": base(rk),
            "import_id": pa.repeat(pa.scalar(self.import_id, pa.string()), m),
            "source": pa.repeat(pa.scalar(prof.source, pa.string()), m),
            "source_row": pa.array(batch.row_numbers[rows_np], pa.int64()),
            "reported_at": local,
            "reported_at_utc": base(times.utc),
            "year": pc.year(local).cast(pa.int32()),
            "month": pc.month(local).cast(pa.int32()),
            "category": codes_arr,
            "family": family_arr,
            "category_known": pa.array(known, pa.bool_()),
            "source_category": cat,
            "source_subcategory": mask_text(sub, names=False) if sub is not None else pa.nulls(m, pa.string()),
            "lon": _float(nbase(lon)),
            "lat": _float(nbase(lat)),
            "x": _float(nbase(geo["x"])),
            "y": _float(nbase(geo["y"])),
            "h3_9": pa.array(h3, pa.int64(), mask=h3 < 0),
        }
        for lv in AREA_LEVELS:
            cols[f"{lv}_id"] = base(geo[f"{lv}_id"])
        cols["assign_method"] = base(geo["assign_method"])
        cols["address"] = base(address_all)
        cols["text"] = text
        cols["unit"] = base(mask_text(self._col(t, "unit"), names=False))  # every stored text column is masked
        unparsed: Counter[str] = Counter()
        if self.resolved.get("loss"):
            raw_loss = base(self._col(t, "loss"))
            cols["loss_yuan"] = _parse_loss(raw_loss)
            # a value given but not a number: kept as null, never silently — counted for the report
            given = pc.and_(pc.is_valid(raw_loss), pc.not_equal(pc.utf8_trim_whitespace(raw_loss), ""))
            lost = pc.sum(pc.and_(given, pc.is_null(cols["loss_yuan"])).cast(pa.int64())).as_py() or 0
            if lost:
                unparsed["loss"] = int(lost)
        else:
            cols["loss_yuan"] = pa.nulls(m, pa.float64())
        cols["time_precision"] = base(times.precision)
        cols["caller_hash"] = base(caller_hash)
        cols["phone_hash"] = base(phone_hash)
        cols["caller_masked"] = base(caller_masked_all)
        cols["phone_masked"] = base(phone_masked_all)
        incidents = pa.table([cols[f.name] for f in INCIDENT_SCHEMA], schema=INCIDENT_SCHEMA)
        if dense and n_ok < n:
            incidents = _select_rows(incidents, ok)

        unassigned: Counter[str] = Counter()
        levels = self.geo.levels
        if not levels:
            unassigned["no_areas"] = n_ok
        for lv in levels:
            unassigned[lv] = int(np.count_nonzero((nbase(geo[f"{lv}_idx"]) < 0) & loads))

        quarantine = self._quarantine(t, v, batch, caller_masked_all, phone_masked_all, text_all, address_all)
        parsed = None
        if self.keep_parsed:
            sub_all = pc.utf8_trim_whitespace(self._col(t, "subcategory")) if self.resolved.get("subcategory") \
                else None
            parsed = {"record_key": rk, "time": times.local, "lon": lon, "lat": lat,
                      "category": self.mapping.map(pc.utf8_trim_whitespace(self._col(t, "category")), sub_all)[0],
                      "caller": caller_masked_all, "phone": phone_masked_all, "text": text_all,
                      "address": address_all, "reason": v.reason,
                      "detail": v.detail, **{k: geo[k] for k in ("x", "y", "community_id", "assign_method")}}
        reasons = v.counts()
        for m in batch.malformed:
            reasons[m.reason] += 1
        return BatchResult(incidents, quarantine, n + len(batch.malformed), reasons, unknown, unassigned, parsed,
                           unparsed)

    def _categories(self, cat: pa.Array, sub: pa.Array | None) -> tuple[pa.Array, pa.Array, np.ndarray]:
        """``(codes, families, known)`` of each row: the mapping is applied to the distinct (category, subcategory)
        pairs only (a few hundred per batch), then spread back to the rows by position."""
        parts = [cat] if sub is None else [cat, sub]
        combo = np.zeros(len(cat), dtype=np.int64)
        uniques: list[pa.Array] = []
        for a in parts:
            enc = pc.dictionary_encode(a)
            k = len(enc.dictionary)
            idx = enc.indices.fill_null(k).to_numpy(zero_copy_only=False).astype(np.int64)
            combo = combo * (k + 1) + idx
            uniques.append(enc.dictionary)
        first, inverse = _first_and_inverse(combo)
        firsts = pa.array(first, pa.int64())
        codes_u, known_u = self.mapping.map(cat.take(firsts), sub.take(firsts) if sub is not None else None)
        codes = pa.array(codes_u, pa.string())
        families = _lookup(codes, self.family_of)
        inv = pa.array(inverse, pa.int64())
        return codes.take(inv), families.take(inv), known_u[inverse]

    # ------------------------------------------------------------------ quarantine rows
    def _quarantine(self, t: pa.Table, v: Verdicts, batch: SourceBatch, caller_masked: pa.Array,
                    phone_masked: pa.Array, text: pa.Array, address: pa.Array) -> pa.Table:
        bad = np.flatnonzero(~v.ok)
        idx = pa.array(bad, pa.int64())
        raws: list[str] = []
        if bad.size:
            sub = t.take(idx)
            masked_cols: dict[str, pa.Array] = {}
            for name in t.column_names:
                col = sub.column(name).combine_chunks()
                if name == self.resolved.get("caller"):
                    col = caller_masked.take(idx)
                elif name == self.resolved.get("phone"):
                    col = phone_masked.take(idx)
                elif name in self.pii_columns:
                    col = pc.if_else(pc.is_valid(col), "***", _NULL_STR)
                elif name == self.resolved.get("text"):
                    col = text.take(idx)
                elif name == self.resolved.get("address"):
                    col = address.take(idx)
                else:
                    col = mask_text(col)
                masked_cols[name] = col
            rows = pa.table(masked_cols).to_pylist()
            raws = [json.dumps(r, ensure_ascii=False) for r in rows]
        m = batch.malformed
        n = bad.size + len(m)
        return pa.table({
            "import_id": pa.array([self.import_id] * n, pa.string()),
            "source_file": pa.array([self.source_file] * n, pa.string()),
            "source_row": pa.array(np.concatenate([batch.row_numbers[bad], np.array([r.row for r in m], np.int64)]),
                                   pa.int64()),
            "reason": pa.array(v.reason[bad].tolist() + [r.reason for r in m], pa.string()),
            "detail": pa.array(v.detail[bad].tolist() + [r.detail for r in m], pa.string()),
            # a malformed line's raw text (cut short), with its personal numbers masked like any text
            "raw": pa.array(raws + (mask_text(pa.array([r.text for r in m], pa.string())).to_pylist() if m else []),
                            pa.string()),
        }, schema=QUARANTINE_SCHEMA)


def _select_rows(table: pa.Table, mask: np.ndarray) -> pa.Table:
    """Rows where ``mask`` is True: zero-copy slices of the runs of good rows (a copying filter if fragmented)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size > 2000:
        return table.filter(pa.array(mask))
    return pa.concat_tables([table.slice(int(a), int(b - a)) for a, b in zip(starts, ends, strict=True)]) \
        if starts.size else table.slice(0, 0)


def _first_and_inverse(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For integer codes: the row of the first occurrence of each distinct code and, per row, its code's number."""
    enc = pc.dictionary_encode(pa.array(codes, pa.int64()))
    inverse = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    first = np.full(len(enc.dictionary), codes.size, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(codes.size, dtype=np.int64))
    return first, inverse


def _float(a: np.ndarray) -> pa.Array:
    return pa.array(a, pa.float64(), mask=~np.isfinite(a))


def _lookup(codes: pa.Array, table: dict[str, str]) -> pa.Array:
    enc = pc.dictionary_encode(codes)
    mapped = pa.array([table.get(c) for c in enc.dictionary.to_pylist()], pa.string())
    return mapped.take(enc.indices)


def _parse_loss(values: pa.Array) -> pa.Array:
    """Loss amounts in yuan: '5000', '5,000元', '约5000元', '1.2万', '１２００', '五千元' → numbers; else null.

    Most calls have no loss: only the given values are parsed, then spread back to their rows.

    >>> _parse_loss(pa.array(["5,000元", "约5000元", "1.2万", "１２００", "五千元", "三万五", "若干", None])).to_pylist()
    [5000.0, 5000.0, 12000.0, 1200.0, 5000.0, 35000.0, None, None]
    """
    values = values.cast(pa.string())
    if values.null_count:
        given = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
        out = np.full(len(values), np.nan)
        if given.size:
            out[given] = _loss_values(values.take(pa.array(given, pa.int64())))
        return _float(out)
    return _float(_loss_values(values))


_FULL_DIGITS = {chr(0xFF10 + i): str(i) for i in range(10)} | {"．": ".", "，": ","}
_LOSS_NOISE = r"[元,，\s¥￥]|人民币|大约|约|左右|余|多|许|块钱|块|rmb|RMB"


def _loss_values(values: pa.Array) -> np.ndarray:
    """:func:`_parse_loss` of non-null strings, NaN where unparseable."""
    if pc.any(pc.match_substring_regex(values, "[０-９．]")).as_py():
        for a, b in _FULL_DIGITS.items():
            values = pc.replace_substring(values, a, b)
    s = pc.replace_substring_regex(values, _LOSS_NOISE, "")
    wan = pc.match_substring(s, "万").fill_null(False).to_numpy(zero_copy_only=False)
    f, _bad = parse_numbers(pc.replace_substring(s, "万", ""))
    out = np.where(wan, f * 10_000.0, f)
    rest = np.flatnonzero(np.isnan(out))
    if rest.size:  # Chinese numerals (五千, 三万五, 一万二千): rare, one by one
        texts = s.take(pa.array(rest)).to_pylist()
        out[rest] = [_chinese_amount(x) for x in texts]
    return out


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _chinese_amount(text: str | None) -> float:
    """``五千`` → 5000, ``三万五`` → 35000, ``一万二千三百`` → 12300; NaN when not a Chinese numeral amount."""
    if not text or any(c not in _CN_DIGITS and c not in _CN_UNITS and c not in "万亿" for c in text):
        return float("nan")
    total, section, digit = 0, 0, None
    last_unit = 1
    for c in text:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        elif c in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[c]
            last_unit, digit = _CN_UNITS[c], None
        else:  # 万 / 亿
            big = 10_000 if c == "万" else 100_000_000
            total += (section + (digit or 0)) * big
            section, digit, last_unit = 0, None, big
    if digit is not None:  # a trailing digit after a unit counts one step down: 三万五 = 35000, 一千五 = 1500
        section += digit * (last_unit // 10 if last_unit >= 10 else 1)
    return float(total + section)
