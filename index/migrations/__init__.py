"""Schema migrations (Alembic over the SQLModel metadata).

Every process that opens the catalog (`serve`, `ingest`, `worker`, tests) brings the schema up to
date first. Several processes may start at once, so the upgrade runs under a lock: a PostgreSQL
advisory lock, or a lock file beside a SQLite database. The catalog's revisions live here; the bot
keeps its own tables' revisions beside them (bot/migrations) as a second Alembic branch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
CATALOG_VERSIONS = HERE / "versions"
ADVISORY_LOCK_KEY = 0x4C4C_0001  # any constant: only Learnloop's migrations take it


def upgrade(engine: Engine, extra_versions: Sequence[Path] = (), targets: Sequence[str] = ("heads",)) -> None:
    """Apply every pending revision (the catalog's and any branch in `extra_versions`), or up to `targets`."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", _joined([CATALOG_VERSIONS, *extra_versions]))
    with _exclusive(engine) as connection:
        config.attributes["connection"] = connection
        for target in targets:
            command.upgrade(config, target)


def create_foreign_schema(engine: Engine, marker_table: str, sql: str) -> None:
    """Create a schema that another library owns and versions (the ingest queue's, procrastinate)
    unless `marker_table` already exists: under the same lock as the upgrade, so processes that
    start at once create it once. PostgreSQL only; `sql` is run as given (several statements)."""
    with _exclusive(engine) as connection:
        if not inspect(connection).has_table(marker_table):
            connection.connection.driver_connection.execute(sql)


def _joined(paths: Sequence[Path]) -> str:
    return os.pathsep.join(str(p) for p in paths)


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """One migrating process at a time; SQLite migrates with foreign keys off (table rebuilds)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
            try:
                with connection.begin():
                    yield connection
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database
    lock = FileLock(f"{database}.migrate.lock") if database and database != ":memory:" else None
    with lock or _nothing(), engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            with connection.begin():
                yield connection
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


@contextmanager
def _nothing() -> Iterator[None]:
    yield
