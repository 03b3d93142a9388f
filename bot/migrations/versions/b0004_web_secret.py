"""WebSecret: the random secret that signs the web pages' cookies and CSRF tokens. It used to be
derived from LEARNLOOP_API_KEYS, which let anyone holding a CSRF token guess the keys offline; the
first start after this revision makes one, so browsers signed in before it sign in again.

Revision ID: b0004
Revises: b0003
"""

import sqlalchemy as sa
from alembic import op

revision = "b0004"
down_revision = "b0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("websecret", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("secret", sa.String(length=64), nullable=False))


def downgrade() -> None:
    op.drop_table("websecret")
