"""Team scale: `learnloop ingest --queue` puts files in the ingest queue in PostgreSQL, and any number of
`learnloop worker` processes, on any machines sharing the database, take them (ingest/queue.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from bot.cli.common import catalog_from, console, fails_cleanly, out, print_json, services_from
from bot.settings import Settings
from ingest.queue import STALLED_AFTER_S, enqueue, files_to_queue, prepare_queue, queue_app, queue_conninfo, run_worker


def register(app: typer.Typer) -> None:
    app.command()(worker)


def enqueue_files(ctx: typer.Context, paths: list[Path], as_json: bool) -> None:
    """`learnloop ingest --queue [PATH...]`: one job per file (the whole corpus by default); no model is loaded."""
    settings: Settings = ctx.obj
    with fails_cleanly():
        conninfo = queue_conninfo(settings.resolved_database_url)  # SQLite: one clear line before any work
        prepare_queue(catalog_from(ctx).engine)
        job_paths, failed = files_to_queue(paths or [settings.corpus], settings.corpus)
        result = enqueue(queue_app(conninfo), job_paths)
        result.failed = failed
    if as_json:
        print_json(result.as_dict())
        return
    out.print(f"{result.queued} files queued, {result.already_queued} already waiting, {len(result.failed)} failed.")
    for failure in result.failed:
        out.print(f"  failed {failure['path']}: {failure['error']}", markup=False)


def worker(
    ctx: typer.Context,
    stalled_after: float = typer.Option(
        STALLED_AFTER_S, "--stalled-after", min=3.0, help="Seconds without a heartbeat after which a worker's file is handed to another worker."
    ),
) -> None:
    """Take files from the ingest queue and ingest them until stopped (Ctrl-C or SIGTERM finish the current file first)."""
    settings: Settings = ctx.obj
    with fails_cleanly():
        conninfo = queue_conninfo(settings.resolved_database_url)
        services = services_from(ctx)
        prepare_queue(services.catalog.engine)
        app = queue_app(conninfo, ingest_file=lambda path: services.pipeline.run([settings.corpus / path]))
        console.print("Worker ready: taking files from the ingest queue.")
        asyncio.run(run_worker(app, conninfo, stalled_after))
