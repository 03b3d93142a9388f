"""Token vectors from int8 codes to 4-bit codes, two to a byte (index.late): half the bytes.

Each blob is rewritten from the int8 format (per-token float32 scales, then one signed byte per
dimension) to the 4-bit one (new scales in the same place, then codes -7..7 stored as 1..15: a
token's first half of dimensions in the high nibbles, its second half in the low ones). The
conversion is written out here rather than imported, so this revision keeps writing this format
whatever index.late stores later. A blob whose length fits no int8 vectors of its chunk's
dimension (or whose chunk is gone) is deleted: token vectors are derived data, and the next
ingest embeds chunks without them again. The rewrite is one transaction (a crash leaves every
blob as it was), so a SQLite file keeps its size until VACUUM.

Revision ID: c0005
Revises: c0004
"""

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "c0005"
down_revision = "c0004"
branch_labels = None
depends_on = None

BATCH = 2000
LEVELS = 7

chunk = sa.table("chunk", sa.column("id", sa.Integer), sa.column("embedding", sa.LargeBinary))
tokens = sa.table("chunktokens", sa.column("chunk_id", sa.Integer), sa.column("vectors", sa.LargeBinary))


def upgrade() -> None:
    connection = op.get_bind()
    last = -1
    while True:
        rows = connection.execute(
            sa.select(tokens.c.chunk_id, tokens.c.vectors, sa.func.length(chunk.c.embedding))
            .select_from(tokens.outerjoin(chunk, chunk.c.id == tokens.c.chunk_id))
            .where(tokens.c.chunk_id > last)
            .order_by(tokens.c.chunk_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        converted = {chunk_id: _four_bit(bytes(blob), (embedding_bytes or 0) // 4) for chunk_id, blob, embedding_bytes in rows}
        unreadable = [chunk_id for chunk_id, blob in converted.items() if blob is None]
        if unreadable:
            connection.execute(sa.delete(tokens).where(tokens.c.chunk_id.in_(unreadable)))
        rewritten = [{"id": chunk_id, "blob": blob} for chunk_id, blob in converted.items() if blob is not None]
        if rewritten:
            connection.execute(
                sa.update(tokens).where(tokens.c.chunk_id == sa.bindparam("id")).values(vectors=sa.bindparam("blob")), rewritten
            )
        last = rows[-1][0]


def _four_bit(blob: bytes, dim: int) -> bytes | None:
    """An int8 blob in the 4-bit format, or None when it holds no whole int8 vectors of `dim`
    (an empty blob, a chunk without content tokens, stays empty)."""
    if not blob:
        return blob
    count = len(blob) // (dim + 4) if dim else 0
    if not count or count * (dim + 4) != len(blob):
        return None
    scales = np.frombuffer(blob, dtype="<f4", count=count)
    vectors = np.frombuffer(blob, dtype=np.int8, offset=4 * count).reshape(count, dim) * scales[:, None]
    new_scales = np.abs(vectors).max(axis=1) / LEVELS
    new_scales[new_scales == 0] = 1.0
    stored = np.clip(np.rint(vectors / new_scales[:, None]), -LEVELS, LEVELS).astype(np.int16) + LEVELS + 1
    if dim % 2:
        stored = np.pad(stored, ((0, 0), (0, 1)), constant_values=LEVELS + 1)
    half = stored.shape[1] // 2
    nibbles = (stored[:, :half] << 4) | stored[:, half:]
    return new_scales.astype("<f4").tobytes() + nibbles.astype(np.uint8).tobytes()


def downgrade() -> None:
    raise NotImplementedError("4-bit token vectors cannot be made int8 again; ingest into a new catalog instead")
