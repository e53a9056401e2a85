"""What the web pages read from the lake: the numbers of the Safety Index release, cached per data change.

The dashboard must show the numbers of the release, so it reads them from the very :class:`~anju.release.Release`
object that ``anju release`` renders (:func:`anju.services.release.release_model`), not from a second
computation. Assembling takes seconds, so the object is cached, keyed on the lake's manifest, the area layers and
the deployment's configuration files (an override of the index weights changes the key):
it is built at most once per data change (and language), whatever the number of requests. This module is the only
place the web app touches the lake, so it can be rewired onto the service layer in one go.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from anju.config import Settings
from anju.errors import DataNotFoundError
from anju.release.model import Release, Table

__all__ = ["CommunityNumbers", "LakeView", "NoData"]

TOP_PROBLEMS = 10
"""How many of the lowest-index communities the overview lists as problem communities."""


class NoData(DataNotFoundError):
    """The data directory has no incidents (or no period to show) yet."""


@dataclass
class CommunityNumbers:
    """One community's numbers from the cached release plus its monthly incident counts."""

    code: str
    name: str
    index_row: dict[str, Any] | None
    rankings: list[dict[str, Any]] = field(default_factory=list)
    monthly: list[dict[str, Any]] = field(default_factory=list)


class LakeView:
    """The release-derived numbers of one data directory, computed at most once per data change.

    ``builds`` counts release assemblies (the benchmark and tests read it to show the cache works).
    """

    def __init__(self, settings: Settings, *, persist: bool = True) -> None:
        self.settings = settings
        self.persist = persist
        self.builds = 0
        self._lock = threading.RLock()  # builds call each other (names → release)
        self._stamp: tuple[Any, ...] | None = None
        self._key: str | None = None
        self._cache: dict[tuple[str, str], Any] = {}

    # ------------------------------------------------------------------ cache key
    def data_key(self) -> str | None:
        """A digest of the lake manifest and the area layers' metadata; ``None`` when the lake is empty."""
        paths = self.settings.paths
        from anju.deployment import config_files

        files = [paths.manifest, paths.areas / "_meta.json", *config_files(self.settings.data_dir).values()]
        stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else None for f in files)
        if stamp == self._stamp:
            return self._key
        if stamp[0] is None:
            key = None
        else:
            h = hashlib.blake2b(digest_size=16)
            for f in files:
                if f.exists():
                    h.update(f.read_bytes())
            key = h.hexdigest()
        with self._lock:
            if key != self._key:
                self._cache.clear()
            self._stamp, self._key = stamp, key
        return key

    def _cached(self, name: str, build: Any) -> Any:
        key = self.data_key()
        if key is None:
            raise NoData(f"the data directory {self.settings.data_dir} has no incidents yet; import a 110 export "
                         "(导入) or build the demo with `anju demo`")
        ck = (key, name)
        if ck in self._cache:
            return self._cache[ck]
        with self._lock:  # one build per key even when many requests arrive together
            if ck not in self._cache:
                self._cache[ck] = build()
            return self._cache[ck]

    def memo(self, name: str, build: Any) -> Any:
        """``build()`` cached under ``name`` until the lake or the area layers change (``name`` must say everything
        else the result depends on, e.g. a digest of the ops records it reads)."""
        return self._cached(name, build)

    # ------------------------------------------------------------------ the release
    def release(self, lang: str = "zh") -> Release:
        """The release of the latest half-year in the lake, labelled in ``lang`` (built once per data change)."""
        lang = "en" if lang == "en" else "zh"

        def build() -> Release:
            from anju.deployment import load_deployment
            from anju.services.lake import open_lake
            from anju.services.release import release_model

            stored = self._load(f"release-{lang}")
            if stored is not None:
                return stored  # type: ignore[no-any-return]
            self.builds += 1
            dep = load_deployment(self.settings)
            with open_lake(dep) as lake:
                rel = release_model(dep, lake, "latest", lang=lang)  # type: ignore[arg-type]
            self._store(f"release-{lang}", rel)
            return rel

        return self._cached(f"release:{lang}", build)  # type: ignore[no-any-return]

    def warm(self, lang: str = "zh") -> None:
        """Prepare everything the pages read (release, its rows, per-community numbers, monthly counts), so the
        first visitors do not wait behind the one-off work; no data yet is fine."""
        try:
            codes = list(self.community_names())
            if codes:
                self.community(codes[0], lang)
            self.index_rows(lang)
            self.headline(lang)
            self.trend(lang)
            for t in self.ranking_tables(lang):
                self.records(t.key, lang)
        except NoData:
            return

    # ------------------------------------------------------------------ on-disk copy (survives restarts)
    def _cache_file(self, name: str) -> Any:
        return self.settings.data_dir / "cache" / "web" / f"{name}-{self._key}.pickle"

    def _load(self, name: str) -> Any:
        """The stored object of this data key, if a previous process built it (the data directory is trusted
        like the lake itself; the key is a digest of the manifest, so a stale file is never read)."""
        import pickle

        if not self.persist or self._key is None:
            return None
        f = self._cache_file(name)
        if not f.exists():
            return None
        try:
            with f.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # a torn or outdated file is rebuilt, never trusted
            return None

    def _store(self, name: str, obj: Any) -> None:
        import os
        import pickle

        if not self.persist or self._key is None:
            return
        f = self._cache_file(name)
        f.parent.mkdir(parents=True, exist_ok=True)
        for old in f.parent.glob(f"{name}-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, f)

    def geojson(self) -> bytes:
        """The community boundary layer of the release as GeoJSON bytes (display names joined by ECharts)."""
        def build() -> bytes:
            rel = self.release("zh")
            layer = rel.geo.get("community") or next(iter(rel.geo.values()), None)
            if layer is None:
                return b'{"type":"FeatureCollection","features":[]}'
            return json.dumps(layer.geojson(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

        return self._cached("geojson", build)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ pieces the pages show
    def records(self, table: str, lang: str) -> list[dict[str, Any]]:
        """The rows of a release table as JSON-ready dicts (converted once per data change; treat as read-only)."""
        lang = "en" if lang == "en" else "zh"
        return self._cached(f"records:{lang}:{table}",  # type: ignore[no-any-return]
                            lambda: _records(self.release(lang).tables.get(table)))

    def headline(self, lang: str) -> list[dict[str, Any]]:
        return self.records("headline", lang)

    def trend(self, lang: str) -> list[dict[str, Any]]:
        return self.records("trend", lang)

    def index_rows(self, lang: str, allowed: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Rows of the community safety index table (release order), limited to ``allowed`` codes if given."""
        return _filter(self.records("index_community", lang), allowed)

    def problem_communities(self, lang: str, allowed: Iterable[str] | None = None,
                            n: int = TOP_PROBLEMS) -> list[dict[str, Any]]:
        """The ``n`` lowest-index communities (the release's index, ascending)."""
        rows = [r for r in self.index_rows(lang, allowed) if r.get("index") is not None]
        return sorted(rows, key=lambda r: (r["index"], str(r["area_id"])))[:n]

    def ranking_tables(self, lang: str) -> list[Table]:
        return [t for k, t in self.release(lang).tables.items() if k.startswith("ranking_")]

    def ranking(self, key: str, lang: str, allowed: Iterable[str] | None = None) -> tuple[Table, list[dict[str, Any]]]:
        """One ranking table of the release and its rows within ``allowed``."""
        tables = {t.key: t for t in self.ranking_tables(lang)}
        if key not in tables:
            raise DataNotFoundError(f"no ranking {key!r}; the release has {sorted(tables)}")
        t = tables[key]
        return t, _filter(self.records(key, lang), allowed)

    def community_names(self) -> dict[str, str]:
        """Community code → display name (from the release's boundary layer or index table)."""
        def build() -> dict[str, str]:
            rel = self.release("zh")
            layer = rel.geo.get("community")
            if layer is not None:
                return dict(zip(layer.ids, layer.names, strict=True))
            return {str(r["area_id"]): str(r.get("name") or r["area_id"]) for r in self.index_rows("zh")}

        return self._cached("names", build)  # type: ignore[no-any-return]

    def monthly_counts(self) -> pd.DataFrame:
        """Incidents per community and month over the lake's whole span (one query, cached)."""
        def build() -> pd.DataFrame:
            from anju.analytics import monthly
            from anju.deployment import load_deployment
            from anju.services.lake import open_lake

            dep = load_deployment(self.settings)
            with open_lake(dep) as lake:
                t = lake.incidents()
                span = t.aggregate(a=t.reported_at.min(), b=t.reported_at.max()).to_pandas().iloc[0]
                start, end = pd.Timestamp(span["a"]).strftime("%Y-%m"), pd.Timestamp(span["b"]).strftime("%Y-%m")
                df = monthly(t, start, end, level="community", taxonomy=dep.taxonomy)
            df["month"] = pd.to_datetime(df["month"]).dt.strftime("%Y-%m")
            return df

        return self._cached("monthly", build)  # type: ignore[no-any-return]

    def default_base_period(self) -> str:
        """The year before the release period's year (the usual base of a supervision list: last year's count)."""
        return str(int(self.release("zh").meta.period[:4]) - 1)

    def candidates(self, base_period: str, n: int = 10) -> list[dict[str, Any]]:
        """The supervision candidate list (top-``n`` communities by theft in ``base_period``), cached per data
        change; the same call as ``anju supervise candidates``."""
        def build() -> list[dict[str, Any]]:
            from anju.supervision.service import candidates

            def run(incidents: Any, dep: Any, lake: Any) -> pd.DataFrame:
                return candidates(incidents, base_period, n=n, areas=lake.areas("community").to_pandas(),
                                  taxonomy=dep.taxonomy)

            df = self.with_lake(run)
            return [{"rank": int(r["rank_base"]), "area_id": str(r["area_id"]), "name": str(r.get("name") or ""),
                     "count": int(r["count_base"])} for _, r in df.iterrows()]

        return self._cached(f"candidates:{base_period}:{n}", build)  # type: ignore[no-any-return]

    def with_lake(self, fn: Any) -> Any:
        """``fn(incidents, deployment, lake)`` on an open lake: for the few writes that need the lake's figures
        (a supervision case's risk profile at opening and review), so the web touches the lake only here."""
        from anju.deployment import load_deployment
        from anju.services.lake import open_lake

        dep = load_deployment(self.settings)
        with open_lake(dep) as lake:
            return fn(lake.incidents(), dep, lake)

    def community(self, code: str, lang: str) -> CommunityNumbers:
        """One community's index row, ranking rows and monthly counts; unknown codes raise DataNotFoundError."""
        names = self.community_names()
        if code not in names:
            raise DataNotFoundError(f"no community {code!r} in the area layer")
        lang = "en" if lang == "en" else "zh"
        by_code = self._cached(f"by_code:{lang}", lambda: self._by_code(lang))
        monthly = self._cached("monthly_by_code", self._monthly_by_code)
        idx, ranks = by_code.get(code, (None, []))
        return CommunityNumbers(code=code, name=names[code], index_row=idx, rankings=list(ranks),
                                monthly=list(monthly.get(code, [])))

    def _by_code(self, lang: str) -> dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
        """Community code → (its index row, its rows in every ranking), for the community pages."""
        out: dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]]]] = {}
        for r in self.records("index_community", lang):
            out[str(r["area_id"])] = (r, [])
        for t in self.ranking_tables(lang):
            for r in self.records(t.key, lang):
                entry = out.setdefault(str(r["area_id"]), (None, []))
                entry[1].append({"ranking": t.key, "title": t.title(lang), "of": len(t.data), **r})
        return out

    def _monthly_by_code(self) -> dict[str, list[dict[str, Any]]]:
        m = self.monthly_counts()
        out: dict[str, list[dict[str, Any]]] = {}
        for code, month, n in zip(m["area_id"], m["month"], m["count"], strict=True):
            out.setdefault(str(code), []).append({"month": month, "count": int(n)})
        return out


def _records(t: Table | None) -> list[dict[str, Any]]:
    return t.records() if t is not None else []


def _filter(rows: list[dict[str, Any]], allowed: Iterable[str] | None) -> list[dict[str, Any]]:
    if allowed is None:
        return rows
    keep = set(allowed)
    return [r for r in rows if str(r.get("area_id")) in keep]
