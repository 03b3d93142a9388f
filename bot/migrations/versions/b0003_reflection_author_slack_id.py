"""Reflection.author_slack_id: the Slack user who shared a reflection, so a reviewer's decision in the
review channel can be told to them. Reflections stored before this revision have none ('').

Revision ID: b0003
Revises: b0002
"""

import sqlalchemy as sa
from alembic import op

revision = "b0003"
down_revision = "b0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reflection") as table:
        table.add_column(sa.Column("author_slack_id", sa.String(length=32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("reflection") as table:
        table.drop_column("author_slack_id")
