"""Each chunk's BM25 term ids in a table of their own (index.db.ChunkTerms).

The table starts empty: a replica tokenises the text of a chunk without a row, as it did before,
and the next ingest fills the rows in (index.catalog.Catalog.add_missing_terms), so this revision
is quick on any catalog and holds no copy of the tokeniser.

Revision ID: c0006
Revises: c0005
"""

import sqlalchemy as sa
from alembic import op

from index.migrations.tables import missing

revision = "c0006"
down_revision = "c0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if missing("chunkterms"):
        op.create_table(
            "chunkterms",
            sa.Column("chunk_id", sa.Integer(), nullable=False),
            sa.Column("terms", sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["chunk_id"], ["chunk.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("chunk_id"),
        )


def downgrade() -> None:
    op.drop_table("chunkterms")
