"""CLI verb ``anju serve``: the web platform (FastAPI + uvicorn), with a worker process for background jobs."""

from __future__ import annotations

import subprocess
import threading
from typing import Annotated, Any

import typer

from anju.commands._common import console, err_console, settings_from


def register(app: typer.Typer) -> None:
    """Add ``anju serve`` to the root app."""

    @app.command("serve")
    def serve_cmd(
        ctx: typer.Context,
        host: Annotated[str, typer.Option("--host", help="监听地址 / address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="端口 / port.")] = 8000,
        worker: Annotated[bool, typer.Option("--worker/--no-worker", help="同时启动后台任务进程 / also start a "
                                             "worker process for background jobs.")] = True,
        workers: Annotated[int, typer.Option("--workers", min=1, max=16, help="网站进程数 / web processes "
                                             "(each keeps its own copy of the overview's numbers).")] = 1,
        get: Annotated[str | None, typer.Option("--get", help="只请求一个地址并打印结果（不启动服务）/ run one GET "
                                                "request in-process, print it, exit 1 unless 200.")] = None,
    ) -> None:
        """启动平台网站与接口 / serve the web platform and its API."""
        from anju.ops.db import database_url, upgrade_to_head
        from anju.web import create_app

        settings = settings_from(ctx)
        upgrade_to_head(database_url(settings))
        app_ = create_app(settings, upgrade=False)
        if get is not None:
            from fastapi.testclient import TestClient

            with TestClient(app_) as client:
                resp = client.get(get, follow_redirects=False)
            typer.echo(resp.text)
            raise typer.Exit(0 if resp.status_code == 200 else 1)
        import uvicorn

        from anju.web.heap import freeze_startup_heap

        if workers == 1:  # this process serves (with --workers each spawned process freezes its own heap)
            freeze_startup_heap()
        state = app_.state.anju
        threading.Thread(target=_warm, args=(state,), name="anju-warm", daemon=True).start()
        child = _start_worker(settings) if worker else None
        console.print(f"[bold green]anju[/] http://{host}:{port}/  (API: http://{host}:{port}/api/v1/docs)",
                      highlight=False)
        opts = {"host": host, "port": port, "log_level": "warning", "proxy_headers": True,
                "forwarded_allow_ips": "127.0.0.1", "server_header": False}
        try:
            if workers > 1:
                import os

                os.environ["ANJU_DATA_DIR"] = str(settings.data_dir)
                os.environ["ANJU_LANG"] = settings.lang
                # each spawned process imports the platform before it answers the supervisor's health ping; on a
                # busy machine that takes longer than uvicorn's default 5 s, and the supervisor would kill and
                # respawn the workers for ever
                uvicorn.run("anju.web.app:app_from_env", factory=True, workers=workers,
                            timeout_worker_healthcheck=120, **opts)  # type: ignore[arg-type]
            else:
                uvicorn.run(app_, **opts)  # type: ignore[arg-type]
        finally:
            if child is not None and child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()


def _warm(state: object) -> None:
    """Build the overview's numbers before the first visitor asks (no data yet is fine)."""
    from anju.web.heap import freeze_loaded

    try:
        state.lake.warm(state.settings.lang)  # type: ignore[attr-defined]
        freeze_loaded()
    except Exception as exc:  # the server must start whatever the lake holds
        err_console.print(f"[yellow]overview not prepared:[/] {exc}", highlight=False)


def _start_worker(settings: Any) -> subprocess.Popen[bytes]:
    """``anju worker`` as a child process: long jobs (ingest, release, training) never run in the web process."""
    from anju.worker.runner import spawn_worker

    return spawn_worker(settings)
