"""Labelled corpora for training and evaluation, and the fixed held-out split.

* :func:`load_teddy_messages` — the 2020 Teddy Cup (泰迪杯) problem-C citizen messages with their department
  (一级分类, 7 labels): ``full/附件2_rawtext_subset_A.csv`` (1,842 rows) plus ``sample/附件2.xlsx`` (495 rows),
  whitespace cleaned, duplicates (113 messages are in both) dropped.
* :func:`load_cail_charges` — CAIL2018 case facts whose *only* charge is one of 盗窃 / 诈骗 / 故意伤害 (theft,
  fraud, intentional injury), read from the GB18030 ``data_train.json``.
* :func:`load_labelled_file` — a deployment's own CSV/XLSX with a text and a label column.
* :func:`fixed_split` — the stratified held-out split, fixed by content hash (see below).
* :func:`data_hash` — SHA-256 of a labelled corpus, stored with every model.

The fixed split
---------------
Each text is hashed (SHA-256 of its normalised form). Within each label, texts are ordered by hash and the first
``round(test_size × n_label)`` (at least one when a label has two or more texts) go to the test set. The split
therefore does not depend on file order, random seeds or library versions, and a text keeps its side when other
texts are added — unlike ``train_test_split(random_state=…)``, whose split changes as soon as a row is added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from anju.errors import DataNotFoundError, EncodingError, IngestError
from anju.text.normalize import normalize

__all__ = [
    "CAIL_CHARGES",
    "LABEL_COLUMNS",
    "TEXT_COLUMNS",
    "data_hash",
    "fixed_split",
    "load_cail_charges",
    "load_labelled_file",
    "load_teddy_messages",
    "read_table",
]

#: CAIL2018 charge → anju family code, for the theft / fraud / assault evaluation.
CAIL_CHARGES: dict[str, str] = {"盗窃": "theft", "诈骗": "fraud", "故意伤害": "assault"}

TEXT_COLUMNS = ("text", "简要案情", "案情", "留言详情", "内容", "content", "fact", "文本", "message")
LABEL_COLUMNS = ("label", "category", "类别", "标签", "一级分类", "department", "部门", "task_label", "警情细类")


def _clean(texts: Sequence[str]) -> list[str]:
    return normalize(texts)


def load_teddy_messages(root: str | Path) -> pd.DataFrame:
    """Teddy Cup 2020 C citizen messages with department labels: columns ``text``, ``label``, ``source``.

    ``root`` is the ``teddy-cup-2020-c-gov-messages`` folder (with ``full/`` and ``sample/``).
    """
    root = Path(root)
    a_path = root / "full" / "附件2_rawtext_subset_A.csv"
    s_path = root / "sample" / "附件2.xlsx"
    frames = []
    if a_path.exists():
        a = pd.read_csv(a_path, header=None, names=["label", "text"], encoding="utf-8-sig", dtype=str)
        frames.append(pd.DataFrame({"text": a["text"].fillna(""), "label": a["label"], "source": "full/附件2_A"}))
    if s_path.exists():
        s = pd.read_excel(s_path, engine="calamine", dtype=str)
        text = s["留言主题"].fillna("").str.strip() + s["留言详情"].fillna("").str.strip()
        frames.append(pd.DataFrame({"text": text, "label": s["一级分类"], "source": "sample/附件2"}))
    if not frames:
        raise DataNotFoundError(f"no Teddy Cup message files under {root}: expected {a_path.name} in full/ or "
                                f"{s_path.name} in sample/; pass the teddy-cup-2020-c-gov-messages folder")
    df = pd.concat(frames, ignore_index=True)
    df["text"] = _clean(df["text"].tolist())
    df["label"] = df["label"].astype(str).str.strip()
    df = df[df["text"].str.len() > 0].drop_duplicates("text", keep="first").reset_index(drop=True)
    return df[["text", "label", "source"]]


def _read_text_file(path: Path) -> tuple[str, str]:
    """Text of a file and the encoding that decoded it: UTF-8 if valid, else GB18030 (a superset of GBK)."""
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc), enc.replace("-sig", "")
        except UnicodeDecodeError:
            continue
    raise EncodingError(f"{path} is neither UTF-8 nor GB18030; re-save it as UTF-8",
                        zh=f"{path} 既不是 UTF-8 也不是 GB18030 编码；请另存为 UTF-8")


def load_cail_charges(path: str | Path, charges: dict[str, str] | None = None) -> pd.DataFrame:
    """CAIL2018 facts whose only charge is one of ``charges`` (default 盗窃/诈骗/故意伤害).

    ``path`` is ``data_train.json`` (JSON Lines, GB18030 in the original release — decoded as UTF-8 when valid,
    else GB18030) or the ``cail2018-small`` folder (then ``data_train.json`` in it). Cases with several charges
    (e.g. 盗窃 + 诈骗) and other fraud charges (合同诈骗, 信用卡诈骗…) are excluded, so each label is unambiguous.

    Returns columns ``text`` (the fact), ``label`` (the anju family code: theft/fraud/assault), ``charge`` (the
    Chinese charge); ``.attrs["encoding"]`` is the encoding used.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "data_train.json"
    if not p.exists():
        raise DataNotFoundError(f"CAIL2018 file {p} not found; pass data_train.json or the cail2018-small folder",
                                zh=f"找不到 CAIL2018 文件 {p}；请给出 data_train.json 或 cail2018-small 目录")
    charges = charges or CAIL_CHARGES
    content, enc = _read_text_file(p)
    texts, labels, names = [], [], []
    for no, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{p}: line {no} is not JSON ({exc})") from exc
        acc = rec.get("meta", {}).get("accusation", [])
        if len(acc) == 1 and acc[0] in charges:
            texts.append(rec.get("fact", ""))
            labels.append(charges[acc[0]])
            names.append(acc[0])
    df = pd.DataFrame({"text": _clean(texts), "label": labels, "charge": names})
    df = df[df["text"].str.len() > 0].drop_duplicates("text").reset_index(drop=True)
    df.attrs["encoding"] = enc
    return df


def read_table(path: str | Path, *, keep_blank_lines: bool = False) -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030, detected), Excel or Parquet file as text cells; an empty cell stays missing (None).

    With ``keep_blank_lines`` an empty line of a CSV is a row of empty cells (pandas skips such lines by default,
    so a one-column file of texts would lose its empty texts without a trace): every line is then a row.

    A file that cannot be read as a table (empty, a CSV renamed ``.xlsx``, an unterminated quote…) is an
    :class:`~anju.errors.IngestError` naming the file and the fix, never a parser traceback.
    """
    import io

    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"file {p} not found", zh=f"文件 {p} 不存在；请检查路径")
    if p.is_dir():
        raise IngestError(f"{p} is a directory; pass a CSV, XLSX or Parquet file",
                          zh=f"{p} 是一个目录；请给出 CSV、XLSX 或 Parquet 文件")
    suffix = p.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".xls", ".csv", ".txt", ".tsv", ".parquet"):
        raise IngestError(f"{p}: unsupported file type {suffix!r}; use .csv, .xlsx or .parquet",
                          zh=f"{p}：不支持的文件类型 {suffix!r}；请使用 .csv、.xlsx 或 .parquet")
    if p.stat().st_size == 0:
        raise IngestError(f"{p} is empty (0 bytes); export the table again", zh=f"{p} 是空文件（0 字节）；请重新导出该表")
    from anju.files import reading_table

    with reading_table(p):
        if suffix in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(p, engine="calamine", dtype=str)
        elif suffix == ".parquet":
            df = pd.read_parquet(p)
            df = df.astype(object).where(df.notna(), None)
            df = df.apply(lambda col: col.map(lambda v: v if v is None else str(v)))
        else:
            content, _ = _read_text_file(p)
            df = pd.read_csv(io.StringIO(content), dtype=str, sep="\t" if suffix == ".tsv" else ",",
                             skip_blank_lines=not keep_blank_lines)
    if len(df.columns) == 0:
        raise IngestError(f"{p} has no columns; export the table again with its header",
                          zh=f"{p} 没有任何列；请带表头重新导出")
    return df.astype(object).where(df.notna(), None)


def _pick(columns: Sequence[str], wanted: Sequence[str], given: str | None, what: str, path: Path) -> str:
    if given is not None:
        if given not in columns:
            raise IngestError(f"{path}: no column {given!r} for the {what}; columns are {list(columns)}; "
                              f"pass one of them with --{what}-column",
                              zh=f"{path}：没有列 {given!r}；现有列为 {list(columns)}；请用 --{what}-column 指定其一")
        return given
    for w in wanted:
        if w in columns:
            return w
    raise IngestError(f"{path}: cannot find the {what} column (tried {list(wanted)}); columns are "
                      f"{list(columns)}; name it with --{what}-column",
                      zh=f"{path}：找不到{'文本' if what == 'text' else '标签'}列（已尝试 {list(wanted)}）；现有列为 "
                         f"{list(columns)}；请用 --{what}-column 指定")


def load_labelled_file(path: str | Path, *, text_column: str | None = None,
                       label_column: str | None = None) -> pd.DataFrame:
    """A labelled CSV/XLSX as ``text``, ``label`` (normalised, empty texts and duplicates dropped)."""
    p = Path(path)
    df = read_table(p)
    tc = _pick(list(df.columns), TEXT_COLUMNS, text_column, "text", p)
    lc = _pick(list(df.columns), LABEL_COLUMNS, label_column, "label", p)
    out = pd.DataFrame({"text": _clean(df[tc].fillna("").tolist()), "label": df[lc].fillna("").str.strip()})
    out = out[(out["text"].str.len() > 0) & (out["label"].str.len() > 0)]
    return out.drop_duplicates("text").reset_index(drop=True)


def _text_hash(texts: Sequence[str]) -> list[str]:
    return [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]


def fixed_split(texts: Sequence[str], labels: Sequence[str], test_size: float = 0.2) -> np.ndarray:
    """Boolean array, True for the held-out test rows: stratified, fixed by content hash (module docstring).

    >>> m = fixed_split([f"t{i}" for i in range(10)], ["a"] * 5 + ["b"] * 5, test_size=0.4)
    >>> int(m[:5].sum()), int(m[5:].sum())
    (2, 2)
    """
    if not 0 < test_size < 1:
        raise IngestError(f"test_size must be between 0 and 1; got {test_size!r}")
    hashes = np.array(_text_hash(list(texts)), dtype=object)
    labels_a = np.asarray(list(labels), dtype=object)
    test = np.zeros(len(hashes), dtype=bool)
    for lab in sorted(set(labels_a.tolist())):
        idx = np.flatnonzero(labels_a == lab)
        if len(idx) < 2:
            continue
        k = max(1, round(test_size * len(idx)))
        order = idx[np.argsort(hashes[idx], kind="stable")]
        test[order[:k]] = True
    return test


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 over the sorted (text, label) pairs: the identity of a training corpus, independent of row order."""
    h = hashlib.sha256()
    for t, lab in sorted(zip(texts, labels, strict=True)):
        h.update(t.encode("utf-8"))
        h.update(b"\x1f")
        h.update(str(lab).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()
