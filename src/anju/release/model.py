"""The release object: every table, figure and boundary layer of one Safety Index release (平安指数发布).

A :class:`Release` is built once (by :mod:`anju.release.assemble`, from the analytics functions) and rendered many
times (HTML, PDF, XLSX, JSON) by renderers that compute no numbers. Tables hold the numbers; a :class:`Figure` only
says which table and which columns it draws, so a chart in the HTML, the PDF and a sheet of the Excel file always
show the same values. :meth:`Release.public` makes the residents' edition: only the sections that
:data:`EDITIONS` lists for it (internal review items such as the downgrading audit never), no record-level tables or
personal columns, and small counts (1 or 2) become ``"<3"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely

from anju.errors import ReleaseError

__all__ = [
    "EDITIONS",
    "FIGURE_KINDS",
    "SECTIONS",
    "SMALL_COUNT",
    "Column",
    "Figure",
    "GeoLayer",
    "Note",
    "Release",
    "ReleaseError",
    "ReleaseMeta",
    "Section",
    "Table",
    "format_money",
    "format_value",
]

Lang = Literal["zh", "en"]
ColumnKind = Literal[
    "id", "text", "count", "int", "float", "rate", "share", "pct", "pvalue", "bool", "index", "rank", "money", "z"
]
FigureKind = Literal["choropleth", "heat", "interval", "bar", "line", "matrix", "wordcloud", "diverging", "pie"]
FIGURE_KINDS: tuple[str, ...] = ("choropleth", "heat", "interval", "bar", "line", "matrix", "wordcloud", "diverging",
                                 "pie")
SMALL_COUNT = "<3"
"""How the public edition shows a count of 1 or 2."""

# Encoding keys of a figure that name columns of its table (a str or a list of str).
_COLUMN_ROLES = ("x", "y", "value", "label", "lower", "upper", "lon", "lat", "i", "j", "id", "series", "flag")


@dataclass(frozen=True)
class Section:
    """A chapter of the release, in display order."""

    key: str
    zh: str
    en: str

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


SECTIONS: tuple[Section, ...] = (
    Section("headline", "核心指标", "Headline figures"),
    Section("map", "社区平安指数", "Safety index by community"),
    Section("heat", "警情热力图", "Heat maps"),
    Section("rankings", "排行榜", "Rankings"),
    Section("categories", "警情构成", "Categories"),
    Section("time", "时间规律", "Time patterns"),
    Section("words", "词频分析", "Words in the calls"),
    Section("fraud", "诈骗手法", "Fraud techniques"),
    Section("supervision", "挂牌督导", "Supervised communities"),
    Section("audit", "降格审计", "Downgrading audit"),
    Section("method", "附录：方法与数据说明", "Appendix: methods and data"),
)
_SECTION_KEYS = {s.key for s in SECTIONS}

Edition = Literal["internal", "public"]
EDITIONS: dict[str, tuple[str, ...]] = {
    "internal": tuple(s.key for s in SECTIONS),
    "public": ("headline", "map", "heat", "rankings", "categories", "time", "words", "fraud", "supervision", "method"),
}
"""The sections each edition may show, in order. The public edition never carries internal review items (the
downgrading audit tells which calls may have been recorded under a lighter category); a section not listed is
dropped with its tables, figures, notes and menu entry."""


@dataclass(frozen=True)
class Column:
    """One column of a release table: its key, labels, kind (for formatting) and disclosure flags.

    Parameters
    ----------
    key : column name in :attr:`Table.data`.
    zh, en : header in each language.
    kind : how the value is shown (``count`` integers, ``share`` 0–1 shown as %, ``pct`` already in %, ``rate`` per
        1,000, ``pvalue``, ``index`` 0–100, ``rank``…).
    digits : decimals shown (default by kind).
    personal : the column names people (e.g. a supervising official); dropped from the public edition.
    small : a count that the public edition shows as ``"<3"`` when it is 1 or 2.
    guard : key of the count column this value is derived from; in the public edition the value is blanked where
        that count is small (a raw rate or change on 1–2 incidents would give the count away).
    detail : a supporting column (denominators, sub-scores…): in the HTML, Excel and JSON files, not in the PDF's
        printed tables, which stay narrow enough to read.
    """

    key: str
    zh: str
    en: str = ""
    kind: ColumnKind = "text"
    digits: int | None = None
    personal: bool = False
    small: bool = False
    guard: str | None = None
    detail: bool = False

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" or not self.en else self.en


@dataclass(frozen=True)
class Table:
    """A titled table of the release; ``data`` has exactly the columns listed in ``columns``, in order.

    ``display_rows`` bounds the rows shown in the HTML and the PDF (``None`` = all, ``0`` = the table is only in
    the Excel and JSON files, e.g. a heat-map grid); ``record_level`` tables (one row per incident) are left out of
    the public edition.
    """

    key: str
    zh: str
    en: str
    section: str
    columns: tuple[Column, ...]
    data: pd.DataFrame
    note_zh: str = ""
    note_en: str = ""
    display_rows: int | None = None
    record_level: bool = False
    cut: Literal["ends", "head"] = "ends"
    """How a table longer than its display bound is cut: ``ends`` keeps both ends (best and worst) with a marker
    row saying how many rows are left out in between; ``head`` keeps the first rows (lists sorted by importance,
    e.g. top terms)."""

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else (self.note_en or self.note_zh)

    def shown_rows(self, limit: int | None) -> tuple[list[int], list[int]]:
        """Row positions shown when at most ``limit`` rows fit: ``(before_gap, after_gap)``; the second list is
        empty when nothing is left out or the table is cut at its head."""
        n = len(self.data)
        if limit is None or n <= limit:
            return list(range(n)), []
        if self.cut == "head" or limit < 2:
            return list(range(limit)), []
        first = (limit + 1) // 2
        return list(range(first)), list(range(n - (limit - first), n))

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise ReleaseError(f"table {self.key!r} has no column {key!r}; it has {[c.key for c in self.columns]}")

    def records(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts: NumPy scalars become Python numbers, NaN/NA becomes ``None``."""
        cols = [c.key for c in self.columns]
        out: list[dict[str, Any]] = []
        for row in self.data[cols].itertuples(index=False, name=None):
            out.append({k: plain(v) for k, v in zip(cols, row, strict=True)})
        return out

    def values(self, key: str) -> list[Any]:
        """One column as plain Python values (``None`` for missing)."""
        return [plain(v) for v in self.data[key].tolist()]


@dataclass(frozen=True)
class Figure:
    """A chart: which table it draws and which columns play which role; renderers only draw it.

    ``enc`` maps roles to column keys (and a few drawing options). Roles by kind:

    - ``choropleth``: ``layer`` (a key of :attr:`Release.geo`), ``id``, ``value``, optional ``vmin``/``vmax``,
      ``palette`` (``"safety"``: high is good, green).
    - ``heat``: ``layer`` (base map), ``lon``, ``lat``, ``value``, ``i``, ``j`` (grid cell indices), ``cell_m``.
    - ``interval``: ``label``, ``value``, ``lower``, ``upper`` (point estimate with its interval, table order).
    - ``bar``: ``x`` (category labels), ``series`` (list of value columns), optional ``horizontal``, ``stack``.
    - ``line``: ``x``, ``series``.
    - ``matrix``: ``x``, ``y``, ``value`` (long format; axis order = first appearance).
    - ``wordcloud``: ``label``, ``value``.
    - ``diverging``: ``label``, ``value`` (signed, e.g. a z-score), optional ``flag`` (bool column: significant).
    - ``pie``: ``label``, ``value``.
    """

    key: str
    kind: FigureKind
    table: str
    section: str
    zh: str
    en: str
    enc: Mapping[str, Any] = field(default_factory=dict)
    note_zh: str = ""
    note_en: str = ""

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else (self.note_en or self.note_zh)

    def column_refs(self) -> list[str]:
        """Every column key the figure reads from its table."""
        refs: list[str] = []
        for role in _COLUMN_ROLES:
            v = self.enc.get(role)
            if isinstance(v, str):
                refs.append(v)
            elif isinstance(v, (list, tuple)):
                refs.extend(str(x) for x in v)
        return refs


@dataclass(frozen=True)
class Note:
    """A paragraph of text under a section (already written with its numbers; renderers show it as is)."""

    section: str
    zh: str
    en: str = ""

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" or not self.en else self.en


class GeoLayer:
    """A boundary layer drawn as the base map: ids, display names and WGS-84 geometries (no numbers).

    Display names are made unique (``name（id）`` on a clash) because ECharts joins map data by name.
    """

    def __init__(self, key: str, ids: Iterable[str], names: Iterable[str | None], geometries: Any) -> None:
        self.key = key
        self.ids = [str(i) for i in ids]
        raw = [str(n) if n not in (None, "") else i for n, i in zip(names, self.ids, strict=True)]
        counts = pd.Series(raw).value_counts()
        self.names = [f"{n}（{i}）" if counts[n] > 1 else n for n, i in zip(raw, self.ids, strict=True)]
        self.geometries = np.asarray(geometries, dtype=object)
        if len(self.geometries) != len(self.ids):
            raise ReleaseError(f"geo layer {key!r}: {len(self.ids)} ids but {len(self.geometries)} geometries")

    def __len__(self) -> int:
        return len(self.ids)

    def name_of(self) -> dict[str, str]:
        """Area id → display name."""
        return dict(zip(self.ids, self.names, strict=True))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        b = shapely.total_bounds(self.geometries)
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    def geojson(self, precision: float = 1e-5) -> dict[str, Any]:
        """A GeoJSON FeatureCollection with ``properties.name`` (display name) and ``properties.id``."""
        import json

        geoms = shapely.set_precision(self.geometries, precision)
        texts = shapely.to_geojson(geoms)
        feats = [
            {"type": "Feature", "id": i, "properties": {"name": n, "id": i},
             "geometry": json.loads(t) if t is not None else None}
            for i, n, t in zip(self.ids, self.names, texts, strict=True)
        ]
        return {"type": "FeatureCollection", "features": feats}


@dataclass(frozen=True)
class ReleaseMeta:
    """What the release is about: place, period, comparison, edition; shown on the cover and in release.json."""

    district: str
    period: str
    period_zh: str
    period_en: str
    start: str
    end: str
    compare: str | None = None
    compare_zh: str | None = None
    compare_en: str | None = None
    lang: Lang = "zh"
    public: bool = False
    generated_at: str = ""
    record_type_zh: str = "110 警情"
    record_type_en: str = "110 calls"
    """What one record of the source is (a 110 call; San Francisco's incident reports…), named on the page."""
    anju_version: str = ""
    night_window: str = "21:00–03:00"
    incidents: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def period_label(self, lang: str) -> str:
        return self.period_zh if lang == "zh" else self.period_en

    @property
    def edition(self) -> Edition:
        return "public" if self.public else "internal"

    def record_type(self, lang: str) -> str:
        return self.record_type_zh if lang == "zh" else self.record_type_en

    def compare_label(self, lang: str) -> str | None:
        return self.compare_zh if lang == "zh" else self.compare_en

    def title(self, lang: str) -> str:
        if lang == "zh":
            return f"{self.district}{self.period_zh}平安指数发布"
        return f"{self.district} Safety Index, {self.period_en}"


@dataclass(frozen=True)
class Release:
    """Everything one release shows. Build it with :func:`anju.release.assemble.assemble_release`.

    Examples
    --------
    >>> import pandas as pd
    >>> meta = ReleaseMeta(district="示例区", period="2025H2", period_zh="2025年下半年", period_en="2025 H2",
    ...                    start="2025-07-01", end="2026-01-01")
    >>> t = Table("shares", "警情构成", "Shares", "categories",
    ...           (Column("family", "类别"), Column("n", "警情数", "Calls", kind="count", small=True)),
    ...           pd.DataFrame({"family": ["纠纷", "求助"], "n": [120, 2]}))
    >>> r = Release(meta=meta, tables={"shares": t})
    >>> r.public().tables["shares"].values("n")
    [120, '<3']
    """

    meta: ReleaseMeta
    tables: Mapping[str, Table] = field(default_factory=dict)
    figures: tuple[Figure, ...] = ()
    geo: Mapping[str, GeoLayer] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()

    def __post_init__(self) -> None:
        self.validate()

    @property
    def lang(self) -> str:
        return self.meta.lang

    def table(self, key: str) -> Table:
        try:
            return self.tables[key]
        except KeyError:
            raise ReleaseError(f"release has no table {key!r}; it has {sorted(self.tables)}") from None

    def validate(self) -> None:
        """Check that every figure names an existing table, columns and geo layer, and tables match their data."""
        for key, t in self.tables.items():
            if key != t.key:
                raise ReleaseError(f"table stored under {key!r} is keyed {t.key!r}")
            if t.section not in _SECTION_KEYS:
                raise ReleaseError(f"table {key!r}: unknown section {t.section!r}; expected one of {sorted(_SECTION_KEYS)}")
            missing = [c.key for c in t.columns if c.key not in t.data.columns]
            if missing:
                raise ReleaseError(f"table {key!r}: data lacks columns {missing}")
        allowed = set(EDITIONS[self.meta.edition])
        used = {t.section for t in self.tables.values()} | {f.section for f in self.figures} | \
            {n.section for n in self.notes}
        stray = sorted(used - allowed)
        if stray:
            raise ReleaseError(f"the {self.meta.edition} edition may not show section(s) {stray}; it shows "
                               f"{list(EDITIONS[self.meta.edition])}")
        for f in self.figures:
            if f.kind not in FIGURE_KINDS:
                raise ReleaseError(f"figure {f.key!r}: unknown kind {f.kind!r}; expected one of {FIGURE_KINDS}")
            if f.section not in _SECTION_KEYS:
                raise ReleaseError(f"figure {f.key!r}: unknown section {f.section!r}")
            t = self.table(f.table)
            for ref in f.column_refs():
                t.column(ref)
            layer = f.enc.get("layer")
            if layer is not None and layer not in self.geo:
                raise ReleaseError(f"figure {f.key!r} draws geo layer {layer!r}, which the release lacks")

    def sections(self) -> list[Section]:
        """The sections this edition may show (:data:`EDITIONS`), in display order, titled for this release (the
        map section of a release by police district is not called "by community")."""
        allowed = set(EDITIONS[self.meta.edition])
        titles = self.meta.extra.get("section_titles", {}) if isinstance(self.meta.extra, Mapping) else {}
        return [Section(s.key, *titles[s.key]) if s.key in titles else s for s in SECTIONS if s.key in allowed]

    def tables_in(self, section: str) -> list[Table]:
        return [t for t in self.tables.values() if t.section == section]

    def figures_in(self, section: str) -> list[Figure]:
        return [f for f in self.figures if f.section == section]

    def notes_in(self, section: str) -> list[Note]:
        return [n for n in self.notes if n.section == section]

    def with_lang(self, lang: Lang) -> Release:
        """The same release labelled for another language (labels are stored in both)."""
        return dataclasses.replace(self, meta=dataclasses.replace(self.meta, lang=lang))

    def public(self) -> Release:
        """The residents' edition: only the sections :data:`EDITIONS` lists for it, no record-level tables, no
        personal columns, counts of 1–2 shown as ``"<3"``."""
        allowed = set(EDITIONS["public"])
        tables: dict[str, Table] = {}
        for key, t in self.tables.items():
            if t.record_level or t.section not in allowed:
                continue
            cols = tuple(c for c in t.columns if not c.personal)
            data = t.data[[c.key for c in cols]].copy()
            small_masks: dict[str, pd.Series] = {}
            for c in cols:
                if c.small:
                    num = pd.to_numeric(data[c.key], errors="coerce")
                    small_masks[c.key] = (num > 0) & (num < 3)
            for c in cols:
                if c.guard and c.guard in small_masks:
                    data[c.key] = data[c.key].astype(object).where(~small_masks[c.guard], None)
            for k, mask in small_masks.items():
                if mask.any():
                    data[k] = data[k].astype(object).where(~mask, SMALL_COUNT)
            tables[key] = dataclasses.replace(t, columns=cols, data=data)
        figures = tuple(
            f for f in self.figures
            if f.section in allowed and f.table in tables
            and all(r in tables[f.table].data.columns for r in f.column_refs())
        )
        notes = tuple(n for n in self.notes if n.section in allowed)
        return Release(meta=dataclasses.replace(self.meta, public=True), tables=tables, figures=figures,
                       geo=self.geo, notes=notes)


def plain(v: Any) -> Any:
    """A JSON-ready Python value: NumPy scalars → int/float/bool, NaN/NA/NaT → None, timestamps → ISO text."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


_DEFAULT_DIGITS = {"float": 2, "rate": 2, "share": 1, "pct": 1, "pvalue": 3, "index": 1, "money": 0, "z": 2}


def format_value(v: Any, col: Column, lang: str = "zh") -> str:
    """Text of a value for the HTML and PDF tables (the number itself is never changed, only shown)."""
    v = plain(v)
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    kind = col.kind
    if kind == "bool":
        return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
    if kind in ("count", "int", "rank"):
        return f"{round(float(v)):,}"
    digits = col.digits if col.digits is not None else _DEFAULT_DIGITS.get(kind, 2)
    if kind == "share":
        return f"{v * 100:.{digits}f}%"
    if kind == "pct":
        return f"{v:+.{digits}f}%"
    if kind == "pvalue":
        return "<0.001" if v < 0.001 else f"{v:.{digits}f}"
    if kind == "money":
        return format_money(float(v), lang)
    if isinstance(v, (int, float)):
        return f"{v:,.{digits}f}"
    return str(v)


def format_money(v: float, lang: str = "zh") -> str:
    """An amount in yuan as a reader says it: ``3,500 元``, ``12.6 万元``, ``1.35 亿元`` (English: ``yuan``,
    ``thousand``, ``million``).

    Examples
    --------
    >>> format_money(3500), format_money(126_000), format_money(135_000_000), format_money(126_000, "en")
    ('3,500 元', '12.6 万元', '1.35 亿元', '126 thousand yuan')
    """
    a = abs(v)
    if lang == "zh":
        if a >= 1e8:
            return f"{v / 1e8:,.2f} 亿元"
        if a >= 1e4:
            return f"{v / 1e4:,.1f} 万元"
        return f"{v:,.0f} 元"
    if a >= 1e6:
        return f"{v / 1e6:,.2f} million yuan"
    if a >= 1e4:
        return f"{v / 1e3:,.0f} thousand yuan"
    return f"{v:,.0f} yuan"
