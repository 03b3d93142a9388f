"""The ingest queue: one job per file in the catalog's PostgreSQL database (procrastinate), taken by
any number of workers on any machines that share it.

`learnloop ingest --queue` defers a job per file; each `learnloop worker` takes jobs one at a time
and ingests the file through the same pipeline as a plain `learnloop ingest` (IngestPipeline.run on
that one file). So the catalog ends up the same, document for document and chunk for chunk; an
unchanged file is skipped by its content hash, and a passage already stored is not embedded again.

What survives what:
- A file is stored in one transaction (Catalog.replace_document): a worker killed mid-file has
  stored nothing of it.
- Every worker sends a heartbeat. A worker silent for `stalled_after` seconds is stalled, and a
  live worker puts its job back in the queue (procrastinate's get_stalled_jobs and retry_job, the
  recipe its documentation gives). One worker at a time does so, under an advisory lock, so a job
  is never put back twice (which would let two workers run it at once).
- A job that raises (the database went away mid-file) is retried after 2, 4, 8 ... seconds.
- After MAX_ATTEMPTS tries, crashes included, a job is failed and logged: a file that kills its
  worker every time (memory, say) cannot take the workers down for ever.
- While a file's job waits, queueing it again adds nothing (queueing lock); two jobs of one file
  never run at once (lock).

Job paths are relative to the corpus root when the file lies inside it, so workers on other
machines find the file under their own LEARNLOOP_CORPUS (a shared folder mounted anywhere).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import Engine, make_url

from index import LearnloopError
from index.migrations import create_foreign_schema
from ingest.pipeline import IngestReport, is_ingestible

TASK = "learnloop.ingest_file"
QUEUE = "ingest"
MAX_ATTEMPTS = 5
RECOVERY_LOCK_KEY = 0x4C4C_0002  # beside the migrations' 0x4C4C_0001
STALLED_AFTER_S = 30.0  # procrastinate's own default for a stalled worker

log = logging.getLogger(__name__)


@dataclass
class Enqueued:
    """What `ingest --queue` did: jobs added, files already waiting in the queue, paths refused."""

    queued: int = 0
    already_queued: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"queued": self.queued, "already_queued": self.already_queued, "failed": self.failed}


def queue_conninfo(database_url: str) -> str:
    """The libpq connection string procrastinate wants, from the catalog's SQLAlchemy URL.

    Raises LearnloopError for anything but PostgreSQL: the queue lives in the shared database.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise LearnloopError(
            "The ingest queue needs PostgreSQL (LEARNLOOP_DATABASE_URL=postgresql+psycopg://...); with SQLite, run `learnloop ingest` without --queue."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def prepare_queue(engine: Engine) -> None:
    """Create procrastinate's tables beside the catalog's, once, under the migrations' lock."""
    create_foreign_schema(engine, "procrastinate_jobs", SchemaManager.get_schema())


def queue_app(conninfo: str, ingest_file: Callable[[Path], IngestReport] | None = None) -> procrastinate.App:
    """A procrastinate app on the catalog's database (`queue_conninfo`); a worker passes `ingest_file`
    (job path in, the pipeline's report out), an enqueuer does not."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    if ingest_file is not None:

        @app.task(name=TASK, queue=QUEUE, retry=procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS - 1, exponential_wait=2))
        def ingest(path: str) -> dict:
            report = ingest_file(Path(path))
            for failure in report.failed:  # a bad file is reported, as by a plain ingest; the job still succeeds
                log.warning("not ingested: %s: %s", failure["path"], failure["error"])
            return report.as_dict()

    return app


def files_to_queue(targets: Iterable[Path], corpus_root: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Job paths for `targets` (files, or folders of ingestible files), and the targets that do not exist."""
    root = corpus_root.resolve()
    paths: set[str] = set()
    failed: list[dict[str, str]] = []
    for target in targets:
        if not target.exists():
            failed.append({"path": str(target), "error": "No such file or folder."})
            continue
        files = [p for p in target.rglob("*") if p.is_file() and is_ingestible(p)] if target.is_dir() else [target]
        paths.update(_job_path(f.resolve(), root) for f in files)
    return sorted(paths), failed


def _job_path(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def enqueue(app: procrastinate.App, job_paths: Iterable[str]) -> Enqueued:
    """Defer one job per path; a path whose job is still waiting is counted, not queued twice."""
    result = Enqueued()
    with app.open():
        for path in job_paths:
            try:
                app.configure_task(TASK, queue=QUEUE, lock=path, queueing_lock=path).defer(path=path)
            except AlreadyEnqueued:
                result.already_queued += 1
            else:
                result.queued += 1
    return result


async def run_worker(app: procrastinate.App, conninfo: str, stalled_after: float = STALLED_AFTER_S) -> None:
    """Take jobs until stopped (SIGINT or SIGTERM let the current file finish), putting stalled workers' jobs back."""
    async with app.open_async():
        recovery = asyncio.create_task(_recover_forever(app, conninfo, stalled_after))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=1,  # embedding is CPU-bound: run more worker processes, not more jobs per process
                update_heartbeat_interval=stalled_after / 3,
                stalled_worker_timeout=stalled_after,
            )
        finally:
            recovery.cancel()


async def _recover_forever(app: procrastinate.App, conninfo: str, stalled_after: float) -> None:
    while True:
        await asyncio.sleep(stalled_after / 3)
        try:
            await recover_stalled_jobs(app, conninfo, stalled_after)
        except (psycopg.Error, procrastinate.exceptions.ConnectorException) as error:  # the database is away: next round
            log.warning("stalled-job recovery skipped: %s", error)


async def recover_stalled_jobs(app: procrastinate.App, conninfo: str, stalled_after: float) -> int:
    """Put the jobs of workers silent for `stalled_after` seconds back in the queue (or fail those out
    of attempts); returns how many were put back. Does nothing while another worker is at it."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        locked = await (await connection.execute("SELECT pg_try_advisory_lock(%s)", (RECOVERY_LOCK_KEY,))).fetchone()
        if not (locked and locked[0]):
            return 0
        try:
            retried = 0
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
                if job.attempts + 1 >= MAX_ATTEMPTS:
                    log.error("giving up on %s after %d attempts: its worker stopped answering each time", job.task_kwargs.get("path"), job.attempts + 1)
                    await app.job_manager.finish_job(job, Status.FAILED, delete_job=False)
                    continue
                log.warning("retrying %s: its worker stopped answering", job.task_kwargs.get("path"))
                await app.job_manager.retry_job(job)
                retried += 1
            return retried
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", (RECOVERY_LOCK_KEY,))
