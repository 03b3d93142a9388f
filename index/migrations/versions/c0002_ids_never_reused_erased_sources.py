"""Chunk and document ids are never reused; erased sources are remembered.

SQLite hands out max(rowid) + 1, so deleting the newest chunk let the next one take its id, and a
replica that had not caught up could mistake the new chunk for the old. AUTOINCREMENT (a table
rebuild on SQLite; PostgreSQL sequences never reuse ids) rules that out. `erasedsource` records
each source erased for good (a deleted or rejected reflection), so an exported copy of it is never
ingested back.

Revision ID: c0002
Revises: c0001
"""

import sqlalchemy as sa
from alembic import op

from index.migrations.tables import missing

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("document", "chunk"):
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass
    if missing("erasedsource"):
        op.create_table(
            "erasedsource",
            sa.Column("source", sa.String(length=1000), nullable=False),
            sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("source"),
        )


def downgrade() -> None:
    op.drop_table("erasedsource")
