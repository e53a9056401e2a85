"""CLI command groups. Each module defines ``register(app)`` and owns its verbs; ``anju.cli`` mounts them lazily.

Keeping one module per part lets the parts grow without touching each other's code. :data:`COMMANDS` names every
top-level command, the module that registers it and the one-line help ``anju --help`` shows, so that listing the
commands imports none of them (each module pulls in pandas, DuckDB, scikit-learn… when its command runs):
:class:`anju.commands._lazy.LazyGroup` imports a module only when one of its commands runs or its ``--help`` is
asked. ``tests/core/test_cli_lazy.py`` checks this table against what the modules register.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["COMMANDS", "COMMAND_MODULES", "CommandEntry"]


class CommandEntry(NamedTuple):
    """One top-level command: its name, the module under ``anju.commands`` that registers it, its one-line help."""

    name: str
    module: str
    help: str


#: Every top-level command in the order ``anju --help`` lists them (single commands first, then groups).
COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("status", "lake", "数据湖概况：按年月、类别统计，导入记录，隔离原因 / what is in the lake."),
    CommandEntry("ingest", "ingest", "导入数据文件到数据湖 / import a source file into the lake (idempotent, atomic)."),
    CommandEntry("demo", "demo", "生成演示辖区并入库 / generate the demo district and build it into the data directory."),
    CommandEntry("forecast", "forecast", "预测风险网格 / forecast a risk surface; writes risk.csv, risk.geojson and "
                                         "risk.png into --out."),
    CommandEntry("backtest", "forecast", "滚动回测 / rolling-origin backtest: hit rate, PAI, PEI against naive and "
                                         "random baselines."),
    CommandEntry("alerts", "forecast", "警情预警等级 / alert levels 0–3 per community and station against a Poisson "
                                       "control limit."),
    CommandEntry("sangao", "forecast", "三高（sangao / three-highs）：高发案地区、时段、类型 / top areas × hours × "
                                       "categories of a period."),
    CommandEntry("three-highs", "forecast", "三高 / three highs (English name of `anju sangao`)."),
    CommandEntry("release", "release", "生成平安指数发布（index.html、report.pdf、tables.xlsx、release.json）/ build the "
                                       "Safety Index release."),
    CommandEntry("briefing", "duty", "每日警情通报与勤务方案 / the daily briefing: alert levels, 三高, shift patrol plans."),
    CommandEntry("kpi", "duty", "四率与见警率 / the 四率 and visibility KPIs per station for a month (printed and "
                                "written to Excel)."),
    CommandEntry("worker", "ops", "后台任务进程：导入、生成发布、训练模型 / run background jobs (ingest, release, training)."),
    CommandEntry("serve", "serve", "启动平台网站与接口 / serve the web platform and its API."),
    CommandEntry("lake", "lake", "数据湖维护 / lake maintenance."),
    CommandEntry("areas", "areas", "区域图层 / area layers: 区 district ← 街道 street ← 社区 community ← 网格 grid; "
                                   "派出所 station ← 警务区."),
    CommandEntry("profile", "ingest", "数据源配置 / source profiles: 列出、检查 / list and dry-run profiles."),
    CommandEntry("text", "text", "文本分析：训练、评估、分类、降格审计 / text: train, evaluate, classify, downgrading audit."),
    CommandEntry("hotspots", "spatial", "热点分析 / hot spots: Getis-Ord Gi*、时空热点 emerging hot spots、近重复 near "
                                        "repeat (Knox)."),
    CommandEntry("patrol", "forecast", "巡逻方案 / patrol plans."),
    CommandEntry("duty", "duty", "勤务 / duty operations: imports, patrol dosage, grid coverage, registry checks."),
    CommandEntry("ops", "ops", "业务数据库：升级、导入、演示数据 / operations database."),
    CommandEntry("audit", "ops", "审计日志 / the audit log."),
    CommandEntry("assess", "assess", "小区治安月度考评与《小区治安月通报》/ monthly community assessment and bulletin."),
    CommandEntry("supervise", "supervise", "挂牌督导：候选、列管、评估、措施、结案、报告 / supervision of listed communities."),
    CommandEntry("resident", "resident", "居民服务：门牌、诉求工单、安全屋 / resident services."),
)

#: The command modules, each once, in the order of :data:`COMMANDS`.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(entry.module for entry in COMMANDS))
