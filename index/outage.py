"""Telling "the database is not answering" apart from every other failure.

A restart, failover or network cut of PostgreSQL (or a SQLite file locked for too long) is
transient: the HTTP API answers 503 with Retry-After and background work backs off and tries
again, while a bug still fails loudly. Pooled connections are checked before use
(`pool_pre_ping`, index.db), so the first request after the outage reconnects by itself.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import exc

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    exc.OperationalError,  # connection refused or dropped, server shutting down, SQLite locked
    exc.InterfaceError,  # a connection that was already closed
    exc.TimeoutError,  # no pooled connection came free in time
    psycopg.OperationalError,  # the same, raised by psycopg outside SQLAlchemy
    psycopg.InterfaceError,
)
RETRY_AFTER_S = 5


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached right now (worth retrying later)."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, DATABASE_UNAVAILABLE)
