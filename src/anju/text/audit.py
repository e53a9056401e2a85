"""Downgrading audit: records whose text says something more serious than their code (CompStat's worst failure).

A call coded as a dispute (纠纷) or lost property (物品遗失) whose text says 被盗, 被抢 or 被打伤 may have been coded
down. :func:`flag_downgrades` marks such records; :func:`downgrade_audit` counts them per station and month, with
examples to review. Both are pure functions over a table with the lake columns ``record_key``, ``station_id``,
``reported_at``, ``category``, ``family``, ``text``: an Ibis table gives back an Ibis expression (runs on DuckDB
or Spark), a pandas DataFrame gives back a DataFrame.

Rules (``data/downgrade_rules.toml``, documented in docs/text.md)
-----------------------------------------------------------------
* Each rule has cue phrases (regular expressions valid in RE2 and Python) and the taxonomy leaf they indicate
  (``被打伤`` → ``assault.injury``, ``被抢`` → ``robbery.robbery``, ``被盗`` → ``theft.other``…).
* A cue preceded by a negation within a few characters of the same clause (``未被盗``, ``没有被打伤``,
  ``以为被偷``) does not count: negated cues are removed from the text before the cues are searched.
* When several rules match, the most severe indicated leaf wins (severity from the taxonomy).
* A record is **flagged** when the indicated leaf is of another family and more severe than the coded leaf, or of
  the same family and at least ``same_family_gap`` (default 2) more severe (coded 殴打他人 3.0, text says 砍伤 →
  故意伤害 5.0). Records coded ``theft.battery`` whose text says 被盗 are not flagged (same family, gap 0.5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from anju.config import read_toml, validate_config
from anju.errors import ConfigError, TaxonomyError
from anju.taxonomy import Taxonomy

__all__ = ["AuditRules", "downgrade_audit", "flag_downgrades", "load_audit_rules"]

REQUIRED = ("record_key", "station_id", "reported_at", "category", "family", "text")
_BREAK = "，。,;；！!？?\n"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    indicates: str
    cues: list[str]

    @field_validator("cues")
    @classmethod
    def _valid(cls, cues: list[str]) -> list[str]:
        if not cues:
            raise ValueError("a rule needs at least one cue")
        for c in cues:
            if re.search(r"\(\?[=!<]|\\[1-9]", c):
                raise ValueError(f"cue {c!r} uses a look-around or back-reference, which RE2 (DuckDB) lacks")
            try:
                re.compile(c)
            except re.error as exc:
                raise ValueError(f"cue {c!r} is not a valid regular expression: {exc}") from exc
        return cues


class _Meta(BaseModel):
    model_config = ConfigDict(extra="allow")
    negations: list[str] = []
    negation_window: int = 4
    same_family_gap: float = 2.0


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meta: _Meta = _Meta()
    rule: list[_Rule]


@dataclass(frozen=True)
class AuditRules:
    """Validated audit rules, resolved against a taxonomy (severity and family of each indicated leaf)."""

    rules: tuple[tuple[str, str, str, float, str], ...]  # (name, pattern, indicates, severity, family), severe first
    negation: str
    window: int
    same_family_gap: float
    severity: dict[str, float]
    families: dict[str, str]
    source: str


def load_audit_rules(path: str | Path | None = None, *, taxonomy: Taxonomy,
                     data_dir: str | Path | None = None) -> AuditRules:
    """Rules from ``path``, else ``<data_dir>/text/downgrade_rules.toml``, else the shipped file."""
    if path is None and data_dir is not None and (Path(data_dir) / "text" / "downgrade_rules.toml").exists():
        path = Path(data_dir) / "text" / "downgrade_rules.toml"
    p = Path(path) if path is not None else Path(str(resources.files("anju.text") / "data" /
                                                     "downgrade_rules.toml"))
    if not p.exists():
        raise ConfigError("audit rules file not found", path=p)
    raw = read_toml(p)
    parsed = validate_config(_RulesFile, raw, path=p)
    tax = taxonomy
    resolved = []
    seen: set[str] = set()
    for r in parsed.rule:
        if r.name in seen:
            raise ConfigError(f"audit rule name {r.name!r} is used twice; give every rule its own name", path=p,
                              key=f"rule {r.name!r}.name")
        seen.add(r.name)
        if r.indicates not in tax:
            raise TaxonomyError(f"audit rule {r.name!r} indicates {r.indicates!r}, which the taxonomy lacks; fix "
                                f"the rule or the taxonomy", path=p, key=f"rule {r.name!r}.indicates")
        cat = tax[r.indicates]
        resolved.append((r.name, "(?:" + "|".join(r.cues) + ")", r.indicates, cat.severity, cat.family))
    resolved.sort(key=lambda x: -x[3])
    neg = "(?:" + "|".join(map(re.escape, parsed.meta.negations)) + ")" if parsed.meta.negations else ""
    return AuditRules(tuple(resolved), neg, parsed.meta.negation_window, parsed.meta.same_family_gap,
                      {c.code: c.severity for c in tax.categories.values()},
                      {c.code: c.family for c in tax.categories.values()}, str(p))


def _as_ibis(table: Any) -> tuple[ir.Table, bool]:
    if isinstance(table, pd.DataFrame):
        missing = [c for c in REQUIRED if c not in table.columns]
        if missing:
            raise ConfigError(f"the audit needs columns {list(REQUIRED)}; missing {missing}", key="columns")
        return ibis.memtable(table[list(REQUIRED)]), True
    if isinstance(table, ir.Table):
        missing = [c for c in REQUIRED if c not in table.columns]
        if missing:
            raise ConfigError(f"the audit needs columns {list(REQUIRED)}; missing {missing}", key="columns")
        return table, False
    raise ConfigError(f"the audit takes an Ibis table or a pandas DataFrame; got {type(table).__name__}")


def _flag_expr(t: ir.Table, rules: AuditRules) -> ir.Table:
    text = t.text.fill_null("")
    # one flat CASE, most severe rule first, so the most severe matching rule wins (ties: the rule listed first);
    # flat rather than nested: Spark cannot compile a deeply nested CASE and falls back to slow interpretation
    branches = []
    flags = []
    for name, pattern, code, _sev, _fam in rules.rules:
        clean = text
        if rules.negation:
            clean = text.re_replace(f"{rules.negation}[^{_BREAK}]{{0,{rules.window}}}{pattern}", "")
        match = clean.re_search(pattern)
        branches.append((match, ibis.literal(name)))
        flags.append((match, _flags(t, code, rules)))
    rule_name: ir.Value = ibis.cases(*branches, else_=ibis.null(str)) if branches else ibis.null(str)
    # one combined search first: most texts match no rule, and DuckDB evaluates a CASE branch only for the rows that
    # reach it, so the per-rule searches and negation removals run on the few candidates (the same result: removing
    # negated mentions can only lose matches, never make one)
    candidate = text.re_search("|".join(f"(?:{pattern})" for _n, pattern, *_ in rules.rules))
    t = t.mutate(rule=candidate.ifelse(rule_name, ibis.null(str)))
    # the code a rule indicates, looked up from its name (names are unique: load_audit_rules checks it)
    t = t.mutate(indicated=t.rule.substitute({name: code for name, _p, code, *_ in rules.rules},
                                             else_=ibis.null(str)))
    t = t.mutate(
        coded_severity=t.category.substitute(rules.severity, else_=ibis.null("float64")).cast("float64"),
        indicated_severity=t.indicated.substitute(rules.severity, else_=ibis.null("float64")).cast("float64"),
        indicated_family=t.indicated.substitute(rules.families, else_=ibis.null(str)),
    )
    # ``flagged`` is its own flat CASE over the rules' matches (what the rule columns above say, decided per rule
    # from the taxonomy's severities), never an expression of ``indicated``/``indicated_severity``: Spark pushes a
    # filter on ``flagged`` below the projection that defines it and inlines every reference, and through the three
    # lookups of ``rule`` that made ~25,000 regexes for the 7 shipped rules (generated code over 64 KB, interpreted: minutes);
    # this way a filter on it holds each rule's regex once
    flagged = ibis.cases(*flags, else_=False) if flags else ibis.literal(False)
    return t.mutate(flagged=candidate.ifelse(flagged, False).fill_null(False),
                    month=t.reported_at.truncate("M").cast("date"))


def _flags(t: ir.Table, code: str, rules: AuditRules) -> ir.BooleanValue:
    """Whether a record is flagged when the rule indicating ``code`` is the one that matches its text: the leaf is
    of another family and more severe than the coded one, or of the same family and at least ``same_family_gap``
    more severe (categories without a severity are never flagged)."""
    sev, fam = rules.severity.get(code), rules.families.get(code)
    if sev is None or fam is None:
        return ibis.literal(False)
    lighter = sorted(c for c, v in rules.severity.items() if sev > v)
    much_lighter = sorted(c for c, v in rules.severity.items() if sev - v >= rules.same_family_gap)
    other = (t.family != fam) & t.category.isin(lighter) if lighter else ibis.literal(False)
    same = (t.family == fam) & t.category.isin(much_lighter) if much_lighter else ibis.literal(False)
    return (other | same).fill_null(False)


def flag_downgrades(incidents: Any, *, rules: AuditRules, only_flagged: bool = True) -> Any:
    """Records whose text indicates a more serious category than their code.

    Returns the input's ``record_key``, ``station_id``, ``reported_at``, ``month`` (first day), ``category``,
    ``family``, ``text`` plus ``indicated`` (leaf), ``indicated_family``, ``rule``, ``coded_severity``,
    ``indicated_severity`` and ``flagged``; only flagged rows unless ``only_flagged=False``. Same kind as the input
    (Ibis expression or pandas DataFrame).
    """
    t, was_pandas = _as_ibis(incidents)
    # a record the source left uncategorised was not recorded under a lighter category: never a candidate
    t = t.filter(t.category != "other.unknown")
    f = _flag_expr(t, rules)
    if only_flagged:
        f = f.filter(f.flagged)
    f = f.select("record_key", "station_id", "reported_at", "month", "category", "family", "text", "indicated",
                 "indicated_family", "rule", "coded_severity", "indicated_severity", "flagged")
    f = f.order_by(["station_id", "month", "reported_at", "record_key"])
    return f.to_pandas() if was_pandas else f


def downgrade_audit(incidents: Any, *, rules: AuditRules, examples: int = 3, snippet: int = 60) -> Any:
    """Per station and month: records, flagged records, their share and indicated families, with examples.

    Returns ``station_id``, ``month`` (first day of the month), ``records``, ``flagged``, ``flagged_share``, one
    count column per indicated family (``flagged_<family>``, e.g. ``flagged_theft``), and ``examples``: up to
    ``examples`` flagged records as ``record_key｜coded→indicated｜text…`` lines (earliest first), for review.
    Sorted by ``flagged`` descending, then station and month.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "record_key": ["a", "b", "c"], "station_id": ["S1", "S1", "S1"],
    ...     "reported_at": pd.to_datetime(["2024-03-01 10:00", "2024-03-02 11:00", "2024-03-03 12:00"]),
    ...     "category": ["dispute.other", "help.lost_property", "dispute.other"],
    ...     "family": ["dispute", "help", "dispute"],
    ...     "text": ["双方争吵，报警人称被打伤", "手机遗失", "未被打伤，双方争吵"]})
    >>> from anju.taxonomy import load_taxonomy
    >>> rules = load_audit_rules(taxonomy=load_taxonomy())
    >>> downgrade_audit(df, rules=rules)[["station_id", "records", "flagged", "flagged_assault"]].values.tolist()
    [['S1', 3, 1, 1]]
    """
    t, was_pandas = _as_ibis(incidents)
    # a record the source left uncategorised was not recorded under a lighter category: never a candidate
    t = t.filter(t.category != "other.unknown")
    f = _flag_expr(t, rules)
    fams = sorted({fam for *_, fam in rules.rules})
    # the examples in the same pass: flagged rows first in each station-month, so their row numbers are their ranks
    # among the flagged. Not a filter on ``flagged`` plus a join: Spark pushes such a filter below the projection
    # that computes the rule, inlining the rule's regular expressions into every reference to it (thousands of
    # regexes, generated code over 64 KB, minutes of interpretation for a demo district)
    w = ibis.window(group_by=[f.station_id, f.month], order_by=[ibis.desc(f.flagged), f.reported_at, f.record_key])
    r = f.mutate(rn=ibis.row_number().over(w))
    line = ibis.literal("").concat(
        r.record_key.cast("string"), "｜", r.category, "→", r.indicated, "｜",
        r.text.fill_null("").substr(0, snippet))
    r = r.mutate(line=line)
    aggs: dict[str, Any] = {"records": r.count(), "flagged": r.flagged.cast("int64").sum()}
    for fam in fams:
        aggs[f"flagged_{fam}"] = (r.flagged & (r.indicated_family == fam)).cast("int64").sum()
    for i in range(max(examples, 0)):
        aggs[f"_ex{i}"] = r.line.max(where=r.flagged & (r.rn == i))
    out = r.group_by(["station_id", "month"]).aggregate(**aggs)
    out = out.mutate(flagged_share=(out.flagged / out.records).cast("float64"))
    # one column per example rank, joined in rank order: the same text on every engine (Spark has no ordered
    # group_concat; an unordered one would list the examples in any order)
    joined: Any = ibis.literal("")
    for i in range(max(examples, 0)):
        col = out[f"_ex{i}"]
        joined = col if i == 0 else joined.concat(ibis.literal("\n").concat(col).fill_null(""))
    out = out.mutate(examples=joined)
    cols = ["station_id", "month", "records", "flagged", "flagged_share", *[f"flagged_{x}" for x in fams],
            "examples"]
    out = out.select(*[out[c] for c in cols])
    out = out.order_by([ibis.desc("flagged"), "station_id", "month"])
    if not was_pandas:
        return out
    res = out.to_pandas()
    res["examples"] = res["examples"].fillna("")
    return res
