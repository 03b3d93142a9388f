"""Catalog tables as Learnloop 0.1.0 created them (each created only where missing).

Revision ID: c0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from index.migrations.tables import missing

revision = "c0001"
down_revision = None
branch_labels = ("catalog",)
depends_on = None


def upgrade() -> None:
    if missing("catalogrevision"):
        op.create_table(
            "catalogrevision",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("revision", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if missing("document"):
        op.create_table(
            "document",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("source", sa.String(length=1000), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("title", sa.String(), nullable=False),
            sa.Column("authors", sa.JSON(), nullable=False),
            sa.Column("publisher", sa.String(), nullable=False),
            sa.Column("year", sa.Integer(), nullable=True),
            sa.Column("source_type", sa.String(length=32), nullable=False),
            sa.Column("tags", sa.JSON(), nullable=False),
            sa.Column("extra", sa.JSON(), nullable=False),
            sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_document_source", "document", ["source"], unique=True)
        op.create_index("ix_document_source_type", "document", ["source_type"], unique=False)
    if missing("chunk"):
        op.create_table(
            "chunk",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("document_id", sa.Integer(), nullable=False),
            sa.Column("ordinal", sa.Integer(), nullable=False),
            sa.Column("text", sa.String(), nullable=False),
            sa.Column("section", sa.String(), nullable=False),
            sa.Column("page_start", sa.Integer(), nullable=True),
            sa.Column("page_end", sa.Integer(), nullable=True),
            sa.Column("char_start", sa.Integer(), nullable=False),
            sa.Column("char_end", sa.Integer(), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("embedding", sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_chunk_content_hash", "chunk", ["content_hash"], unique=False)
        op.create_index("ix_chunk_document_id", "chunk", ["document_id"], unique=False)
    if missing("chunktokens"):
        op.create_table(
            "chunktokens",
            sa.Column("chunk_id", sa.Integer(), nullable=False),
            sa.Column("vectors", sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["chunk_id"], ["chunk.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("chunk_id"),
        )


def downgrade() -> None:
    for table in ("chunktokens", "chunk", "document", "catalogrevision"):
        op.drop_table(table)
