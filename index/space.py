"""Which embedder made the catalog's vectors, so no process mixes two vector spaces.

Torch and the ONNX int8 export of one model give vectors about 0.99 alike, another model
unrelated ones: a query embedded one way ranks chunks embedded the other way slightly, or wholly,
wrong, with no error anywhere. The first process with a real embedder records its space; a process
configured with another one refuses to start while the catalog holds chunks.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from index.db import Chunk
from index.errors import LearnloopError


class EmbeddingSpace(SQLModel, table=True):
    """The one row naming what made the stored vectors (model weights and backend)."""

    id: int = Field(default=1, primary_key=True)
    space: str = Field(max_length=200)


def claim_space(engine: Engine, space: str) -> None:
    """Record `space` as the catalog's if none is recorded, or if the catalog holds no chunks yet;
    refuse, naming both, when the catalog's chunks were embedded in another space."""
    with Session(engine) as session:
        recorded = session.get(EmbeddingSpace, 1)
        if recorded is not None and recorded.space == space:
            return
        if recorded is not None and session.exec(select(Chunk.id).limit(1)).first() is not None:
            raise LearnloopError(
                f"This catalog's vectors were made by {recorded.space}, and the embedder configured now is {space}: "
                "their vectors cannot be mixed. Set LEARNLOOP_EMBED_BACKEND and LEARNLOOP_EMBED_MODEL back, or ingest into a new "
                "LEARNLOOP_HOME or database with the new one."
            )
        session.merge(EmbeddingSpace(id=1, space=space))
        try:
            session.commit()
        except IntegrityError:  # another process recorded a space at the same moment: check against it
            session.rollback()
            return claim_space(engine, space)
