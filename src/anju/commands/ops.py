"""CLI verbs for the operations database: ``anju ops upgrade | import | seed-demo``, ``anju audit verify`` and
``anju worker``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from anju.commands._common import console, err_console, settings_from
from anju.config import Settings

ops_app = typer.Typer(name="ops", help="业务数据库：升级、导入、演示数据 / operations database.", no_args_is_help=True)
audit_app = typer.Typer(name="audit", help="审计日志 / the audit log.", no_args_is_help=True)


def _l(settings: Settings, zh: str, en: str) -> str:
    return en if settings.lang == "en" else f"{zh} / {en}"


def _session(settings: Settings) -> Any:
    from anju.ops.db import open_session

    return open_session(settings)


@ops_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """把业务数据库升级到最新结构 / bring the ops database to the newest schema (creates it if needed)."""
    from sqlalchemy.engine import make_url

    from anju.ops.db import current_revision, database_url, make_engine, upgrade_to_head

    settings = settings_from(ctx)
    url = database_url(settings)
    upgrade_to_head(url)
    engine = make_engine(url)
    rev = current_revision(engine)
    engine.dispose()
    shown = make_url(url).render_as_string(hide_password=True)
    console.print(_l(settings, f"业务数据库已是最新结构（{rev}）：{shown}", f"ops database at revision {rev}: {shown}"),
                  highlight=False)


@ops_app.command("import")
def import_(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="organisations | communities | profiles | users")],
    file: Annotated[Path, typer.Argument(help="Excel 文件 / the .xlsx file", exists=True, dir_okay=False)],
    sheet: Annotated[str | None, typer.Option("--sheet", help="工作表名 / sheet name (default: the first).")] = None,
) -> None:
    """从 Excel 导入业务记录，逐行说明结果 / import ops records from Excel; every row is accounted for."""
    from anju.ops.imports import import_records

    settings = settings_from(ctx)
    with _session(settings) as s:
        rep = import_records(s, file, kind, sheet=sheet)  # type: ignore[arg-type]
        s.commit()  # type: ignore[attr-defined]
    t = Table(title=_l(settings, f"导入 {kind}：{file.name}", f"import {kind}: {file.name}"))
    for col in ("rows", "created", "updated", "unchanged", "rejected"):
        t.add_column(col, justify="right")
    t.add_row(str(rep.rows), str(rep.created), str(rep.updated), str(rep.unchanged), str(len(rep.rejected)))
    console.print(t)
    for row, reason in rep.rejected[:50]:
        err_console.print(_l(settings, f"  第 {row} 行被拒：{reason}", f"  row {row} rejected: {reason}"),
                          highlight=False)
    if len(rep.rejected) > 50:
        err_console.print(f"  … {len(rep.rejected) - 50} more", highlight=False)
    for user, pw in rep.new_passwords.items():
        console.print(_l(settings, f"  新用户 {user} 的初始密码：{pw}（请首次登录后修改）",
                         f"  initial password of new user {user}: {pw} (change it at first login)"), highlight=False)


@ops_app.command("seed-demo")
def seed_demo_cmd(
    ctx: typer.Context,
    seed: Annotated[int | None, typer.Option("--seed", help="默认取已生成的演示辖区 / default: the built demo's.")] = None,
) -> None:
    """写入演示辖区的业务数据（单位、各角色账号、小区档案、通知、任务）/ seed the demo district's ops records."""
    from anju.ops.demo import seed_demo

    settings = settings_from(ctx)
    with _session(settings) as s:
        res = seed_demo(s, settings, seed=seed)  # type: ignore[arg-type]
        s.commit()  # type: ignore[attr-defined]
        cases = _seed_cases(s, settings)
    if res.created:
        console.print(_l(settings, f"已写入演示业务数据（种子 {res.seed}）：{res.organisations} 个单位，{res.communities} 个小区，"
                                   f"{res.profiles} 条档案，{res.users} 个账号，{res.notices} 条通知，{res.tasks} 项任务",
                         f"seeded the demo ops records (seed {res.seed}): {res.organisations} organisations, "
                         f"{res.communities} communities, {res.profiles} profiles, {res.users} users, "
                         f"{res.notices} notices, {res.tasks} tasks"), highlight=False)
    else:
        console.print(_l(settings, "演示业务数据已存在，未改动。", "the demo ops records already exist; nothing changed."))
    if cases is not None and cases.opened:
        console.print(_l(settings, f"已列管 {cases.opened} 个挂牌督导小区（基期 {cases.base_period}），"
                                   f"{cases.measures} 条整改措施，{cases.reviews} 次评估",
                         f"opened {cases.opened} supervision cases (base {cases.base_period}), "
                         f"{cases.measures} measures, {cases.reviews} reviews"), highlight=False)
    console.print(_l(settings, "演示账号（仅用于演示）：", "demo accounts (for the demo only):"))
    for a in res.accounts:
        console.print(f"  {a.username:<18} {a.password:<34} {a.label}（{a.scope}）", highlight=False, soft_wrap=True)


def _seed_cases(session: Any, settings: Settings) -> Any:
    """The demo's supervision cases, once the lake holds the demo's calls (skipped, with ``None``, before that)."""
    from anju.deployment import load_deployment
    from anju.services.lake import open_lake
    from anju.supervision.demo_cases import seed_demo_cases

    if not settings.paths.manifest.exists():
        return None
    dep = load_deployment(settings)
    with open_lake(dep) as lake:
        res = seed_demo_cases(session, settings, lake.incidents(), deployment=dep,
                              areas=lake.areas("community").to_pandas())
    session.commit()
    return res


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    expect_head: Annotated[str | None, typer.Option("--expect-head", help="之前记下的链头哈希 / a head hash "
                                                                         "noted earlier.")] = None,
) -> None:
    """校验审计日志哈希链，发现被改或被删的记录 / verify the audit chain; exit 1 on an edited or deleted row."""
    from anju.ops.audit import verify as verify_chain

    settings = settings_from(ctx)
    with _session(settings) as s:
        rep = verify_chain(s, expect_head=expect_head)  # type: ignore[arg-type]
    if rep.ok:
        console.print(_l(settings, f"审计日志完好：{rep.rows} 条，链头 #{rep.head_seq} {rep.head_hash}",
                         f"audit log intact: {rep.rows} rows, head #{rep.head_seq} {rep.head_hash}"), highlight=False)
        return
    err_console.print(_l(settings, f"[bold red]审计日志被篡改[/]：发现 {len(rep.problems)} 处问题",
                         f"[bold red]audit log tampered[/]: {len(rep.problems)} problem(s)"), highlight=False)
    for p in rep.problems[:100]:
        err_console.print(f"  {p}", highlight=False)
    raise typer.Exit(1)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="队列清空即退出 / exit when the queue is empty.")] = False,
    poll: Annotated[float, typer.Option("--poll", help="空闲时轮询间隔（秒）/ poll interval when idle (s).")] = 1.0,
) -> None:
    """后台任务进程：导入、生成发布、训练模型 / run background jobs (ingest, release, training)."""
    import logging

    from anju.worker.runner import run_worker

    settings = settings_from(ctx)
    logging.basicConfig(level=logging.WARNING if settings.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    n = run_worker(settings, once=once, poll_s=poll)
    if not settings.quiet:
        console.print(_l(settings, f"工作进程退出，共运行 {n} 个任务", f"worker stopped after {n} job(s)"))


def register(app: typer.Typer) -> None:
    """Add ``anju ops``, ``anju audit`` and ``anju worker`` to the root app."""
    app.add_typer(ops_app)
    app.add_typer(audit_app)
    app.command("worker")(worker)
