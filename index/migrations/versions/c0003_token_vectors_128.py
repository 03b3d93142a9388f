"""Token vectors are stored projected to 128 dimensions (index.late): a third of their size.

Each stored 384-dimensional blob (the bundled model's) is dequantised, projected, renormalised and
quantised again, in batches, in the upgrade's transaction. A blob whose length does not fit 384
dimensions belongs to another model, which has no projection: it is left as it is.

Revision ID: c0003
Revises: c0002
"""

import numpy as np
import sqlalchemy as sa
from alembic import op

from index.late import pack_tokens, projection, unpack_tokens

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    connection = op.get_bind()
    tokens = sa.table("chunktokens", sa.column("chunk_id", sa.Integer), sa.column("vectors", sa.LargeBinary))
    model_dim = projection().shape[0]
    last = -1
    while True:
        rows = connection.execute(
            sa.select(tokens.c.chunk_id, tokens.c.vectors).where(tokens.c.chunk_id > last).order_by(tokens.c.chunk_id).limit(BATCH)
        ).all()
        if not rows:
            return
        for chunk_id, blob in rows:
            if blob and len(blob) % (model_dim + 4) == 0:
                codes, scales = unpack_tokens(bytes(blob), model_dim)
                vectors = codes.astype(np.float32) * scales[:, None]
                connection.execute(tokens.update().where(tokens.c.chunk_id == chunk_id).values(vectors=pack_tokens(vectors)))
        last = rows[-1][0]


def downgrade() -> None:
    raise NotImplementedError("128-dimensional token vectors cannot be widened back: re-ingest instead")
