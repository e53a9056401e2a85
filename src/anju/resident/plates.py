"""QR door plates (一标三实 standard addresses): unguessable codes, QR images, printable PDF sheets, Excel import.

A plate is a standard address — community, building (栋/号), unit (单元), door (室) — with a location and a *plate
code*: 16 characters of Crockford base-32 from 80 random bits (``secrets``), so a code cannot be guessed or
enumerated; a revoked code simply stops opening the public page. The QR code on the plate holds the URL of the
public page for that code (``<base_url>/p/<code>``). QR images come from segno; sheets are A4 HTML rendered to PDF by
WeasyPrint with the CJK font the release uses.

The Excel/CSV import accounts for every row: each one is either accepted or rejected with its row number and the
reason; an address already registered (same community, building, unit and door) is reported as ``existing`` so
importing the same file twice adds nothing.
"""

from __future__ import annotations

import html
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import segno

from anju.errors import AnjuError

__all__ = [
    "CODE_ALPHABET",
    "PlateImport",
    "PlateRow",
    "is_plate_code",
    "new_plate_code",
    "plate_label",
    "plate_sheet_html",
    "plate_sheet_pdf",
    "plate_url",
    "qr_svg",
    "random_code",
    "read_plate_file",
]

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base-32: no I, L, O, U
CODE_LENGTH = 16
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def random_code(length: int) -> str:
    """``length`` Crockford base-32 characters (5 random bits each) from one read of the system's random source.

    Same distribution as ``secrets.choice`` per character (32 is a power of two, so no bias), but one ``getrandom``
    call instead of one or more per character: receipts are made on the public endpoint's hot path.
    """
    n = int.from_bytes(secrets.token_bytes((5 * length + 7) // 8), "big")
    return "".join(CODE_ALPHABET[(n >> (5 * i)) & 31] for i in range(length))


def new_plate_code() -> str:
    """A fresh plate code (80 random bits)."""
    return random_code(CODE_LENGTH)


def is_plate_code(code: str) -> bool:
    """Whether ``code`` has the shape of a plate code (cheap check before any database look-up)."""
    return bool(_CODE_RE.match(code or ""))


def plate_url(base_url: str, code: str) -> str:
    """The public page a plate opens."""
    return f"{base_url.rstrip('/')}/p/{code}"


def qr_svg(url: str, *, scale: int = 4) -> str:
    """An SVG QR code (error correction M, UTF-8) for ``url``, as inline markup."""
    qr = segno.make(url, error="m", micro=False)
    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True, dark="#000", light="#fff")
    return buf.getvalue().decode("utf-8")


@dataclass(frozen=True)
class PlateRow:
    """One standard address to put a plate on."""

    community_code: str
    building: str
    unit: str
    door: str
    lon: float | None = None
    lat: float | None = None
    community_name: str = ""
    road: str = ""


def plate_label(p: PlateRow) -> str:
    """The address printed on the plate: 社区 楼栋 单元 室."""
    parts = [p.community_name or p.community_code, p.building]
    if p.unit:
        parts.append(f"{p.unit}单元" if p.unit.isdigit() else p.unit)
    if p.door:
        parts.append(f"{p.door}室" if p.door.isdigit() else p.door)
    return " ".join(x for x in parts if x)


_SHEET_CSS = """
@page { size: A4; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 0; }
.grid { display: flex; flex-wrap: wrap; }
.plate { width: 90mm; height: 62mm; box-sizing: border-box; margin: 0 0 4mm 0; border: 1.2mm solid #1d4f91;
         border-radius: 3mm; padding: 3mm; display: flex; page-break-inside: avoid; }
.plate:nth-child(odd) { margin-right: 6mm; }
.qr svg { width: 40mm; height: 40mm; }
.txt { padding-left: 3mm; font-size: 10pt; }
.title { font-size: 13pt; font-weight: bold; color: #1d4f91; }
.addr { font-size: 12pt; margin: 2mm 0; }
.code { font-family: monospace; font-size: 7pt; color: #555; }
.hint { font-size: 8pt; color: #333; }
"""


def plate_sheet_html(plates: Sequence[tuple[PlateRow, str]], base_url: str, *, title: str = "安居码") -> str:
    """A4 sheets of plates (8 per page) as HTML: each with its QR code, address and code. ``plates`` pairs an
    address with its code. Every text is escaped."""
    cells = []
    for row, code in plates:
        url = plate_url(base_url, code)
        cells.append(
            f'<div class="plate"><div class="qr">{qr_svg(url)}</div><div class="txt">'
            f'<div class="title">{html.escape(title)}</div>'
            f'<div class="addr">{html.escape(plate_label(row))}</div>'
            '<div class="hint">扫码报警求助、纠纷投诉、寻人寻物<br>紧急情况请直接拨打 110</div>'
            f'<div class="code">{html.escape(code)}</div></div></div>')
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>门牌二维码</title>'
            f'<style>{_SHEET_CSS}</style></head><body><div class="grid">{"".join(cells)}</div></body></html>')


def plate_sheet_pdf(plates: Sequence[tuple[PlateRow, str]], base_url: str, *, title: str = "安居码") -> bytes:
    """The sheets of :func:`plate_sheet_html` as PDF bytes (WeasyPrint)."""
    if not plates:
        raise AnjuError("no plates to print: select at least one active plate")
    from weasyprint import HTML

    pdf = HTML(string=plate_sheet_html(plates, base_url, title=title)).write_pdf()
    assert pdf is not None
    return bytes(pdf)


# ------------------------------------------------------------------------------------------------ import
_COLUMNS = {
    "community_code": ("社区编码", "community_code", "社区代码"),
    "building": ("楼栋", "building", "楼号", "幢"),
    "unit": ("单元", "unit"),
    "door": ("门牌", "室", "door", "房号"),
    "lon": ("经度", "lon", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
}


@dataclass
class PlateImport:
    """The outcome of reading a plate file: every data row is in exactly one list."""

    accepted: list[tuple[int, PlateRow]]
    rejected: list[tuple[int, str]]  # (row number as in the spreadsheet, reason)
    existing: list[int]

    @property
    def rows(self) -> int:
        return len(self.accepted) + len(self.rejected) + len(self.existing)


def _column(df: pd.DataFrame, names: Iterable[str]) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def read_plate_file(path: str | Path, *, communities: dict[str, str],
                    existing: set[tuple[str, str, str, str]] = frozenset()) -> PlateImport:  # type: ignore[assignment]
    """Read plates from an Excel or CSV file (columns 社区编码, 楼栋, 单元, 门牌, 经度, 纬度 or their English names).

    ``communities`` maps the valid community codes to names; ``existing`` holds the addresses already registered.
    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    from anju.text.corpora import read_table

    df = read_table(path).fillna("")
    cols = {k: _column(df, v) for k, v in _COLUMNS.items()}
    missing = [_COLUMNS[k][0] for k in ("community_code", "building") if cols[k] is None]
    if missing:
        raise AnjuError(f"{path}: missing column(s) {missing}; expected 社区编码, 楼栋, 单元, 门牌, 经度, 纬度 "
                        f"(got {list(df.columns)})")
    out = PlateImport([], [], [])
    seen: set[tuple[str, str, str, str]] = set()
    for i, rec in enumerate(df.to_dict("records")):
        rowno = i + 2

        def get(k: str, rec: dict[str, object] = rec) -> str:
            c = cols[k]
            return str(rec[c]).strip() if c is not None else ""

        code, building, unit, door = get("community_code"), get("building"), get("unit"), get("door")
        if not code:
            out.rejected.append((rowno, "社区编码为空 / community code is empty"))
            continue
        if code not in communities:
            out.rejected.append((rowno, f"未知社区编码 {code!r} / unknown community code"))
            continue
        if not building:
            out.rejected.append((rowno, "楼栋为空 / building is empty"))
            continue
        if any(len(x) > 40 for x in (building, unit, door)):
            out.rejected.append((rowno, "楼栋/单元/门牌超过 40 字 / building, unit or door longer than 40 characters"))
            continue
        lon = lat = None
        if get("lon") or get("lat"):
            try:
                lon, lat = float(get("lon")), float(get("lat"))
            except ValueError:
                out.rejected.append((rowno, f"经纬度不是数字 ({get('lon')!r}, {get('lat')!r}) / "
                                            "coordinates are not numbers"))
                continue
            if not (73 <= lon <= 136 and 3 <= lat <= 54):
                out.rejected.append((rowno, f"经纬度不在中国范围内 ({lon}, {lat}) / coordinates outside China"))
                continue
        key = (code, building, unit, door)
        if key in existing:
            out.existing.append(rowno)
            continue
        if key in seen:
            out.rejected.append((rowno, "与本文件前面的行重复 / repeats an earlier row of this file"))
            continue
        seen.add(key)
        out.accepted.append((rowno, PlateRow(code, building, unit, door, lon, lat, communities[code])))
    return out
