"""No schema or data change: token vectors stay at the model's full dimension.

This revision briefly projected stored token vectors to 128 dimensions; the eval sets scored worse
with them (README, Scale), so the projection was withdrawn and the revision kept empty, because
c0004 follows it.

Revision ID: c0003
Revises: c0002
"""

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
