"""Build and archive a month's bulletin: ``<data_dir>/assessment/bulletins/<YYYY-MM>/`` holds the Word bulletin, the
Excel tables and a ``summary.json`` (totals, titles, rubric version, when and from what it was built)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from anju.assess.bulletin import write_bulletin
from anju.assess.monthly import MonthAssessment, assess_month, parse_month
from anju.assess.workbook import write_workbook
from anju.config import Settings
from anju.errors import AnjuError

__all__ = ["BulletinFiles", "archive_dir", "archived", "build_bulletin"]


@dataclass
class BulletinFiles:
    folder: Path
    docx: Path
    xlsx: Path
    summary: Path
    assessment: MonthAssessment


def archive_dir(settings: Settings) -> Path:
    """``<data_dir>/assessment/bulletins``."""
    return Path(settings.data_dir) / "assessment" / "bulletins"


def build_bulletin(settings: Settings, month: str, *, out: Path | None = None, issued: dt.date | None = None
                   ) -> BulletinFiles:
    """Assess ``month`` and write 《小区治安月通报》 (.docx), its tables (.xlsx) and a summary (.json)."""
    p = parse_month(month)
    code = f"{p.start:%Y-%m}"
    m = assess_month(settings, p)
    if not any(m.inputs_present.values()) and m.totals["preventable"] == 0 and m.totals["preventable_prev"] == 0:
        raise AnjuError(f"nothing to assess for {code}: no incidents in the lake for the month and no inputs "
                        "imported; import the month's data first (`anju ingest`, `anju assess import`)")
    folder = Path(out) if out is not None else archive_dir(settings) / code
    folder.mkdir(parents=True, exist_ok=True)
    docx = write_bulletin(m, folder / f"小区治安月通报-{code}.docx", issued=issued)
    xlsx = write_workbook(m, folder / f"小区治安考评-{code}.xlsx")
    sc = m.scores
    summary = {
        "month": code, "rubric": m.rubric.version, "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "issued": (issued or dt.date.today()).isoformat(), "totals": m.totals, "inputs_present": m.inputs_present,
        "titles": {t: sc.loc[sc["title"] == t, "area_id"].tolist() for t in ("zero_case", "control")},
        "commended": None if m.commendations is None else m.commendations["area_id"].tolist(),
        "files": {"docx": docx.name, "xlsx": xlsx.name},
    }
    sp = folder / "summary.json"
    sp.write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=float), encoding="utf-8")
    return BulletinFiles(folder, docx, xlsx, sp, m)


def archived(settings: Settings) -> list[dict[str, object]]:
    """Summaries of the archived bulletins, newest month first."""
    d = archive_dir(settings)
    out = []
    for f in sorted(d.glob("*/summary.json"), reverse=True) if d.exists() else []:
        try:
            out.append(json.loads(f.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return out
