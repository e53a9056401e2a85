"""CLI verbs for the text part: ``anju text train | eval | classify | models | audit``.

Thin shell over :mod:`anju.text.tasks` and :mod:`anju.text.audit`; models live in ``<data_dir>/models/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from anju.commands._common import console, deployment_from, progress
from anju.commands.options import CategoryOpt, OutDirOpt, valid_out_dir
from anju.errors import ConfigError

text_app = typer.Typer(
    name="text",
    help="文本分析：训练、评估、分类、降格审计 / text: train, evaluate, classify, downgrading audit.",
    no_args_is_help=True,
)

TaskOpt = Annotated[str, typer.Option("--task", "-t", help="任务 / task: category | fraud | department | charge")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="训练数据（CSV/XLSX 或数据目录）/ labelled data "
                                                             "(CSV/XLSX, Teddy Cup or CAIL2018 folder)")]
TextColOpt = Annotated[str | None, typer.Option("--text-column", help="文本列 / text column")]
LabelColOpt = Annotated[str | None, typer.Option("--label-column", help="标签列 / label column")]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "" if v is None else str(v)


def _metrics_table(title: str, metrics: dict[str, Any]) -> Table:
    t = Table(title=title, show_header=True, header_style="bold")
    t.add_column("指标 / metric")
    t.add_column("值 / value", justify="right")
    for key, label in [("n", "测试样本 / test texts"), ("accuracy", "准确率 / accuracy"),
                       ("macro_f1", "宏平均F1 / macro-F1"), ("weighted_f1", "加权F1 / weighted F1"),
                       ("coverage", "自动分类占比 / coverage"), ("accepted_accuracy", "自动分类准确率 / accepted acc."),
                       ("ece", "校准误差 / ECE"), ("brier", "Brier")]:
        if key in metrics:
            t.add_row(label, _fmt(metrics[key]))
    ro = metrics.get("rules_only")
    if ro:
        t.add_row("仅规则覆盖 / rules-only coverage", _fmt(ro.get("coverage")))
        t.add_row("仅规则准确率 / rules-only accuracy", _fmt(ro.get("accepted_accuracy")))
    return t


def _per_class_table(metrics: dict[str, Any]) -> Table:
    t = Table(title="分类别 / per class", show_header=True, header_style="bold")
    for c in ("label", "precision", "recall", "f1", "support"):
        t.add_column(c, justify="left" if c == "label" else "right")
    for lab, m in metrics.get("per_class", {}).items():
        t.add_row(lab, _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]), str(m["support"]))
    return t


@text_app.command("train")
def train(
    ctx: typer.Context,
    task: TaskOpt,
    data: DataOpt = None,
    text_column: TextColOpt = None,
    label_column: LabelColOpt = None,
    threshold: Annotated[float | None, typer.Option(help="复核阈值 / review threshold (0–1)")] = None,
    c: Annotated[float, typer.Option("--C", help="SVM 正则化参数 / SVM C")] = 0.5,
    max_rows: Annotated[int, typer.Option(help="湖中最多取样行数 / max lake rows")] = 100_000,
) -> None:
    """训练模型（固定留出集评估）/ train a model and evaluate it on the fixed held-out split."""
    from anju.services import text as svc

    dep = deployment_from(ctx)
    settings = dep.settings
    with progress(settings, transient=True) as prog:
        prog.add_task(f"训练 / training {task}", total=None)
        info = svc.train(dep, task, data, text_column=text_column, label_column=label_column,
                          threshold=threshold, C=c, max_rows=max_rows)
    console.print(f"已保存 / saved [bold]{settings.paths.models / info.file}[/] (v{info.version}); "
                  f"train {info.n_train}, test {info.n_test}, labels {len(info.labels)}; data {info.data_source}")
    console.print(_metrics_table(f"{task} — 留出集 / held-out", info.metrics))
    if not settings.quiet:
        console.print(_per_class_table(info.metrics))


@text_app.command("eval")
def eval_(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", "-t", help="默认全部 / default: every trained task")] = None,
    data: DataOpt = None,
    version: Annotated[int | None, typer.Option(help="模型版本 / model version (default latest)")] = None,
    text_column: TextColOpt = None,
    label_column: LabelColOpt = None,
) -> None:
    """评估已训练模型 / re-evaluate trained models on the held-out split of their data."""
    from anju.errors import DataNotFoundError
    from anju.services import text as svc
    from anju.text.tasks import TASKS

    dep = deployment_from(ctx)
    settings = dep.settings
    tasks = [task] if task else [t for t in TASKS if svc.models(dep, t)]
    if not tasks:
        raise DataNotFoundError(f"no trained text models in {settings.paths.models}; run `anju text train --task "
                                "category` (or fraud, department, charge) first")
    for tk in tasks:
        res = svc.evaluate(dep, tk, data if task else None, version=version, text_column=text_column,
                           label_column=label_column)
        info = res["info"]
        match = res["data_matches_card"]
        note = {True: "数据与训练时一致 / same data as at training", False: "数据已变化 / data differs from training",
                None: "数据不可用，显示训练时指标 / data unavailable; card metrics"}[match]
        console.print(f"[bold]{tk}[/] {info.file} (v{info.version}, {info.created_at}) — {note}")
        console.print(_metrics_table(f"{tk} — 留出集 / held-out", res["metrics"]))


@text_app.command("classify")
def classify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="输入 CSV/XLSX / input file")],
    task: TaskOpt,
    out: Annotated[Path, typer.Option("--out", "-o", callback=valid_out_dir, help="输出目录：写出 <文件名>.<任务>.csv|xlsx / output "
                                                          "directory: writes <name>.<task>.csv|xlsx there")],
    text_column: TextColOpt = None,
    threshold: Annotated[float | None, typer.Option(help="复核阈值 / review threshold (0–1)")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="输出格式 csv | xlsx（默认同输入）/ output format "
                                                             "(default: as the input)")] = None,
) -> None:
    """对文件逐行分类 / classify each row's text; writes the rows with label, confidence and review flag."""
    from anju.commands.options import out_dir
    from anju.services import text as svc
    from anju.text.tasks import XLSX_CELL_LIMIT

    dep = deployment_from(ctx)
    settings = dep.settings
    with progress(settings) as prog:
        bar = prog.add_task(f"分类 / classifying ({task})", total=None)

        def step(done: int, total: int) -> None:
            prog.update(bar, completed=done, total=total)

        ext = fmt or ("xlsx" if file.suffix.lower() == ".xlsx" else "csv")
        if ext not in ("csv", "xlsx"):
            raise ConfigError(f"--format must be csv or xlsx; got {fmt!r}",
                              zh=f"--format 应为 csv 或 xlsx；实际为 {fmt!r}")
        target = out_dir(out, out) / f"{file.stem}.{task}.{ext}"
        summary = svc.classify_file(dep, task, file, target, text_column=text_column, threshold=threshold,
                                    on_progress=step)
    how = summary["model"] or "关键词规则（未训练模型）/ keyword rules (no trained model)"
    console.print(f"{summary['rows']} 行 / rows → [bold]{escape(summary['out'])}[/]; 待复核 / needs review "
                  f"{summary['needs_review']}; 方法 / using {how}")
    if summary["empty"]:
        console.print(f"{summary['empty']} 行文本为空，未分类（标为待复核）/ rows with an empty text, not classified "
                      "(marked for review)")
    if summary["truncated_cells"]:
        console.print(f"[bold yellow]注意 / note:[/] {summary['truncated_cells']} 个单元格超过 Excel 上限 "
                      f"{XLSX_CELL_LIMIT:,} 字符，已截断；完整文本请用 --format csv / cells longer than Excel's "
                      f"{XLSX_CELL_LIMIT:,} characters were truncated; use --format csv for the full texts")
    t = Table(show_header=True, header_style="bold")
    t.add_column(task)
    t.add_column("n", justify="right")
    for lab, n in sorted(summary["counts"].items(), key=lambda kv: -kv[1])[:15]:
        t.add_row(str(lab), str(n))
    console.print(t)


@text_app.command("models")
def models(ctx: typer.Context) -> None:
    """列出已训练模型 / list trained text models."""
    from anju.services import text as svc

    dep = deployment_from(ctx)
    cards = svc.models(dep)
    t = Table(show_header=True, header_style="bold")
    for c in ("task", "version", "created", "labels", "train", "test", "accuracy", "macro-F1", "file"):
        t.add_column(c)
    for i in cards:
        t.add_row(i.task, str(i.version), i.created_at, str(len(i.labels)), str(i.n_train), str(i.n_test),
                  _fmt(i.metrics.get("accuracy")), _fmt(i.metrics.get("macro_f1")), i.file)
    console.print(t if cards else f"尚无模型 / no models in {dep.model_store}")


@text_app.command("audit")
def audit(
    ctx: typer.Context,
    period: Annotated[str | None, typer.Option("--period", help="时段（默认全部；latest = 最近半年）/ period (default: "
                                                                "the whole lake; latest = latest half-year).")] = None,
    category: CategoryOpt = None,
    out: OutDirOpt = None,
    top: Annotated[int, typer.Option("--top", help="显示行数 / rows to show")] = 15,
) -> None:
    """降格审计：文本显示更严重类别的警情 / downgrading audit per station and month.

    使用部署的审计规则（text/downgrade_rules.toml），与发布的审计章节相同；--out 目录中写出 downgrade_audit.csv /
    uses the deployment's rules, as the release does; writes downgrade_audit.csv into the --out directory.
    """
    from anju.commands.options import out_dir
    from anju.services import text as svc
    from anju.services.lake import Selection, open_lake, resolve_period

    dep = deployment_from(ctx)
    with open_lake(dep) as lake:
        sel = Selection(period=resolve_period(lake, period) if period else None, category=category)
        res = svc.audit(dep, lake, sel)
    if out is not None:
        from anju.text.mask import mask_pii

        path = out_dir(out, out) / "downgrade_audit.csv"
        written = res.assign(examples=mask_pii(res["examples"].tolist()))
        written.to_csv(path, index=False, encoding="utf-8-sig")
        console.print(f"已写入 / written {path}")
    t = Table(title="降格审计 / downgrading audit", show_header=True, header_style="bold")
    for c in ("station_id", "month", "records", "flagged", "flagged_share"):
        t.add_column(c, justify="right" if c not in ("station_id", "month") else "left")
    for row in res.head(top).itertuples():
        t.add_row(str(row.station_id), str(row.month)[:7], str(row.records), str(row.flagged),
                  f"{row.flagged_share:.2%}")
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root app."""
    app.add_typer(text_app, name="text")
