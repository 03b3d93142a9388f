"""QueryLog.private: a question asked in a DM or private channel, never shown in gaps; an index
on SlackThread.updated_at and Feedback.created_at for retention.

0.1.0 did not record where a Slack question was asked, so every Slack question it logged becomes
private: a missed gap is better than a DM shown on everyone's App Home.

Revision ID: b0002
Revises: b0001
"""

import sqlalchemy as sa
from alembic import op

revision = "b0002"
down_revision = "b0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("querylog") as table:
        table.add_column(sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))
    querylog = sa.table("querylog", sa.column("private", sa.Boolean()), sa.column("surface", sa.String()))
    op.execute(querylog.update().where(querylog.c.surface == "slack").values(private=True))
    op.create_index("ix_slackthread_updated_at", "slackthread", ["updated_at"], unique=False)
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_feedback_created_at", "feedback")
    op.drop_index("ix_slackthread_updated_at", "slackthread")
    with op.batch_alter_table("querylog") as table:
        table.drop_column("private")
