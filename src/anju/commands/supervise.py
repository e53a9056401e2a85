"""CLI verbs ``anju supervise``: the register of supervised communities (挂牌督导)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from anju.commands._common import console, deployment_from, settings_from
from anju.commands.options import valid_out_dir
from anju.config import Settings
from anju.errors import AnjuError


def _session(settings: Settings) -> Any:
    from anju.ops.db import open_session

    return open_session(settings)


def _date(text: str | None, what: str) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise AnjuError(f"{what} must be a date YYYY-MM-DD; got {text!r}") from None


def register(app: typer.Typer) -> None:
    """Add ``anju supervise …`` to the root app."""
    g = typer.Typer(help="挂牌督导：候选、列管、评估、措施、结案、报告 / supervision of listed communities.",
                    no_args_is_help=True)

    @g.command("candidates")
    def candidates_cmd(ctx: typer.Context,
                       base: Annotated[str, typer.Option("--base", help="排名时期，如 2024 / base period.")],
                       n: Annotated[int, typer.Option("--top", help="名单长度 / list length.")] = 10) -> None:
        """候选名单：基期发案最多的 N 个小区 / the top-N candidates."""
        from anju.services.lake import open_lake
        from anju.supervision.service import candidates

        dep = deployment_from(ctx)
        with open_lake(dep) as lk:
            df = candidates(lk.incidents(), base, n=n, areas=lk.areas("community").to_pandas(), taxonomy=dep.taxonomy)
        for _, r in df.iterrows():
            console.print(f"{int(r['rank_base']):3d}  {r['area_id']}  {r.get('name', '')}  {int(r['count_base'])}",
                          highlight=False)

    @g.command("open")
    def open_cmd(ctx: typer.Context,
                 community: Annotated[str, typer.Argument(help="小区编码 / community code.")],
                 official: Annotated[str, typer.Option("--official", help="督导领导 / supervising official.")],
                 base: Annotated[str, typer.Option("--base", help="列管依据的时期 / base period.")],
                 goal: Annotated[float, typer.Option("--goal", help="目标同比变化，如 -0.3 / goal change.")] = -0.3,
                 opened: Annotated[str | None, typer.Option("--opened", help="列管日期 YYYY-MM-DD.")] = None,
                 police: Annotated[str | None, typer.Option("--police", help="责任社区民警 / responsible community officer.")] = None,
                 rank: Annotated[int | None, typer.Option("--rank", help="候选名单中的名次（手工列入则不填）/ rank in the candidate list (empty when listed by hand).")] = None,
                 ) -> None:
        """列管一个小区并固化列管时风险画像 / open a case."""
        from anju.services.lake import open_lake
        from anju.supervision.service import open_case

        dep = deployment_from(ctx)
        settings = dep.settings
        with open_lake(dep) as lk, _session(settings) as s:
            case = open_case(s, lk.incidents(), actor=None, community_code=community, official=official,
                             opened_on=_date(opened, "--opened"), base_period=base, goal_change=goal,
                             community_police=police, source="candidate" if rank else "manual", rank=rank,
                             night=dep.night)
            s.commit()
            console.print(f"已列管 / opened case #{case.id}: {case.community.name}", highlight=False)

    @g.command("list")
    def list_cmd(ctx: typer.Context) -> None:
        """督导台账 / the register."""
        from sqlalchemy import select

        from anju.ops.models import SupervisionCase
        from anju.supervision.report import STATUS_ZH

        with _session(settings_from(ctx)) as s:
            for c in s.scalars(select(SupervisionCase).order_by(SupervisionCase.id)):
                last = next((x.progress for x in reversed(c.snapshots) if x.progress), None)
                ch = "—" if not last or last["change"] is None else f"{last['change'] * 100:+.1f}%"
                console.print(f"#{c.id:<3d} {c.community.code} {c.community.name:8s} {c.official:6s} "
                              f"{STATUS_ZH[c.status]:8s} 目标 {c.goal_change * 100:+.0f}%  最近同比 {ch}",
                              highlight=False)

    @g.command("review")
    def review_cmd(ctx: typer.Context, case_id: Annotated[int, typer.Argument()],
                   as_of: Annotated[str | None, typer.Option("--as-of", help="评估日期 YYYY-MM-DD（不含当日）.")] = None
                   ) -> None:
        """评估进展（同比、排名）并更新风险画像 / review a case."""
        from anju.services.lake import open_lake
        from anju.supervision.service import review_case

        dep = deployment_from(ctx)
        settings = dep.settings
        with open_lake(dep) as lk, _session(settings) as s:
            snap = review_case(s, lk.incidents(), case_id, actor=None, as_of=_date(as_of, "--as-of"),
                               taxonomy=dep.taxonomy, night=dep.night)
            s.commit()
            console.print(json.dumps(snap.progress, ensure_ascii=False), highlight=False)

    @g.command("measure")
    def measure_cmd(ctx: typer.Context, case_id: Annotated[int, typer.Argument()],
                    category: Annotated[str, typer.Option("--category", help="措施类别 / measure category: 人防|物防|技防|管理|打击|走访")],
                    what: Annotated[str, typer.Option("--what", help="措施内容 / what was done")],
                    who: Annotated[str, typer.Option("--who", help="责任人 / who is responsible")] = "",
                    cost: Annotated[float | None, typer.Option("--cost", help="费用（元）/ cost in yuan")] = None,
                    on: Annotated[str | None, typer.Option("--on", help="日期 YYYY-MM-DD")] = None,
                    evidence: Annotated[Path | None, typer.Option("--evidence", help="佐证（PNG/JPEG/PDF/Office, ≤10 MB）")
                                        ] = None) -> None:
        """登记整治措施或走访 / log a measure or visit."""
        from anju.supervision.service import add_measure

        settings = settings_from(ctx)
        with _session(settings) as s:
            m = add_measure(s, settings, case_id, actor=None, on_date=_date(on, "--on"), category=category,
                            what=what, who=who, cost_yuan=cost, evidence=evidence)
            s.commit()
            console.print(f"已登记 / logged measure #{m.id}", highlight=False)

    @g.command("close")
    def close_cmd(ctx: typer.Context, case_id: Annotated[int, typer.Argument()],
                  outcome: Annotated[str, typer.Option("--outcome", help="结案结论 / outcome: met | not_met | merged")],
                  into: Annotated[int | None, typer.Option("--into", help="合并到的案件 / case merged into")] = None,
                  on: Annotated[str | None, typer.Option("--on", help="日期 YYYY-MM-DD")] = None) -> None:
        """结案（销号/未达标/合并）/ close a case."""
        from anju.supervision.service import close_case

        with _session(settings_from(ctx)) as s:
            c = close_case(s, case_id, actor=None, outcome=outcome, on=_date(on, "--on"), merged_into=into)
            s.commit()
            console.print(f"#{c.id} {c.status}", highlight=False)

    @g.command("report")
    def report_cmd(ctx: typer.Context, case_id: Annotated[int, typer.Argument()],
                   out: Annotated[Path, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录（写入 case-<编号>.docx）/ output directory "
                                                     "(writes case-<id>.docx).")]) -> None:
        """个案报告（Word）/ printable case report."""
        from anju.ops.models import SupervisionCase
        from anju.supervision.report import write_case_report
        from anju.supervision.service import SupervisionError

        with _session(settings_from(ctx)) as s:
            case = s.get(SupervisionCase, case_id)
            if case is None:
                raise SupervisionError(f"no supervision case #{case_id}")
            console.print(str(write_case_report(case, Path(out) / f"case-{case_id}.docx")), highlight=False)

    @g.command("evaluate")
    def evaluate_cmd(ctx: typer.Context,
                     base: Annotated[str, typer.Option("--base", help="列管基期，如 2024 / base period, e.g. 2024")],
                     period: Annotated[str, typer.Option("--period", help="评估时期，如 2025 或 2025H2 / evaluated period, e.g. 2025 or 2025H2")],
                     ids: Annotated[str | None, typer.Option("--ids", help="逗号分隔的小区编码（默认：台账中的全部案件）/ comma-separated community codes (default: every case)")
                                    ] = None) -> None:
        """挂牌小区整体成效：原始降幅、无干预预期（回归均值）、净效果、WDD / evaluate the listed set."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from anju.deployment import load_deployment
        from anju.ops.models import SupervisionCase
        from anju.services.lake import open_lake
        from anju.supervision.service import community_geoms, evaluate_set

        settings = settings_from(ctx)
        if ids:
            listed = [x.strip() for x in ids.split(",") if x.strip()]
        else:
            with _session(settings) as s:
                listed = [c.community.code for c in s.scalars(select(SupervisionCase))]
        if not listed:
            raise AnjuError("no listed communities: open cases first or pass --ids")
        dep = load_deployment(settings)
        profiles = None
        try:  # the ops profiles (floating share, fee collection …) give the prior of similar communities
            from anju.analytics.periods import Period
            from anju.supervision.profile import district_profiles

            with _session(settings) as s:
                profiles = district_profiles(s, Period.parse(period).start)
        except (AnjuError, ValueError, SQLAlchemyError):
            profiles = None
        with open_lake(dep) as lk:
            r = evaluate_set(lk.incidents(), listed, base, period, areas=lk.areas("community").to_pandas(),
                             geoms=community_geoms(settings), taxonomy=dep.taxonomy, profiles=profiles)
        eb, did, w = r["eb"], r["did"], r["wdd"]
        console.print(f"挂牌小区 {len(listed)} 个：{r['period']} 同比 {r['listed_total']['yoy_change'] * 100:+.1f}%；"
                      f"相对基期 {r['raw_change'] * 100:+.1f}%，无干预预期 {eb['expected_change'] * 100:+.1f}%"
                      f"（经验贝叶斯，含回归均值与全区趋势 {(r['trend'] - 1) * 100:+.1f}%）", highlight=False)
        console.print(f"净效果 {eb['net_change'] * 100:+.1f}%（95% 区间 {(eb['lo'] - 1) * 100:+.1f}% 至 "
                      f"{(eb['hi'] - 1) * 100:+.1f}%）；对照组（其后 {len(did['comparison_ids'])} 名）倍差 "
                      f"{(did['effect'] - 1) * 100:+.1f}%（{(did['lo'] - 1) * 100:+.1f}% 至 {(did['hi'] - 1) * 100:+.1f}%）",
                      highlight=False)
        console.print(f"WDD = {w['wdd']:.0f}（标准误 {w['se']:.1f}，z = {w['z']:.2f}）；本地 {w['local']:.0f}，"
                      f"转移 {w['displacement']:.0f}（周边 {len(w['ring_ids'])} 个小区）", highlight=False)

    app.add_typer(g, name="supervise")
