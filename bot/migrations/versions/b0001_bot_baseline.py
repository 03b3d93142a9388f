"""The bot's tables as Learnloop 0.1.0 created them (each created only where missing).

Revision ID: b0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from index.migrations.tables import missing

revision = "b0001"
down_revision = None
branch_labels = ("bot",)
depends_on = None


def upgrade() -> None:
    if missing("querylog"):
        op.create_table(
            "querylog",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("answered", sa.Boolean(), nullable=False),
            sa.Column("abstained", sa.Boolean(), nullable=False),
            sa.Column("latency_ms", sa.Float(), nullable=False),
            sa.Column("hits", sa.JSON(), nullable=False),
            sa.Column("mode", sa.String(length=32), nullable=False),
            sa.Column("surface", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("answer", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_querylog_created_at", "querylog", ["created_at"], unique=False)
    if missing("feedback"):
        op.create_table(
            "feedback",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("question_id", sa.String(length=32), nullable=False),
            sa.Column("helpful", sa.Boolean(), nullable=False),
            sa.Column("comment", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_feedback_question_id", "feedback", ["question_id"], unique=False)
    if missing("reflection"):
        op.create_table(
            "reflection",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("what_happened", sa.Text(), nullable=False),
            sa.Column("what_we_learned", sa.Text(), nullable=False),
            sa.Column("what_next", sa.Text(), nullable=False),
            sa.Column("tags", sa.JSON(), nullable=False),
            sa.Column("author", sa.String(length=200), nullable=False),
            sa.Column("team", sa.String(length=200), nullable=False),
            sa.Column("place", sa.String(length=200), nullable=False),
            sa.Column("origin", sa.String(length=16), nullable=False),
            sa.Column("channel", sa.String(length=64), nullable=False),
            sa.Column("permalink", sa.String(length=1000), nullable=False),
            sa.Column("visibility", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        for column in ("created_at", "place", "status", "team"):
            op.create_index(f"ix_reflection_{column}", "reflection", [column], unique=False)
    if missing("slackthread"):
        op.create_table(
            "slackthread",
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("thread_ts", sa.String(length=32), nullable=False),
            sa.Column("turns", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("channel", "thread_ts"),
        )
    if missing("processedevent"):
        op.create_table(
            "processedevent",
            sa.Column("event_id", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("event_id"),
        )
        op.create_index("ix_processedevent_created_at", "processedevent", ["created_at"], unique=False)


def downgrade() -> None:
    for table in ("processedevent", "slackthread", "reflection", "feedback", "querylog"):
        op.drop_table(table)
