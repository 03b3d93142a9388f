"""Record which embedder made the stored vectors (index.space).

Revision ID: c0004
Revises: c0003
"""

import sqlalchemy as sa
from alembic import op

from index.migrations.tables import missing

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if missing("embeddingspace"):
        op.create_table(
            "embeddingspace",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("space", sa.String(length=200), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )


def downgrade() -> None:
    op.drop_table("embeddingspace")
