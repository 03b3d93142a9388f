"""Helpers for revisions that must also run on databases made before migrations existed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def missing(table: str) -> bool:
    """True when `table` is not in the database yet (a 0.1.0 database already has its tables)."""
    return not sa.inspect(op.get_bind()).has_table(table)


def has_column(table: str, column: str) -> bool:
    return any(c["name"] == column for c in sa.inspect(op.get_bind()).get_columns(table))
