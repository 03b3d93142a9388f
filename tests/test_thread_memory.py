"""Slack thread memory: a thread is the bot's from the moment it starts answering, and an answer's
turn keeps the ids of the documents it cites (so erasing a document can erase it from threads too)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bot.models import Answer, Citation
from bot.records import SlackThread
from bot.slack.conversation import ThreadMemory
from index.db import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'threads.db'}")
    SQLModel.metadata.create_all(engine, tables=[SlackThread.__table__])
    yield engine
    engine.dispose()


def citing(*document_ids: int) -> Answer:
    citations = [
        Citation(n=n, quote="q", chunk_id=n, document_id=d, title="t", source="s", source_type="reflection", section="", page_start=None, page_end=None)
        for n, d in enumerate(document_ids, 1)
    ]
    return Answer(answer="An answer [1].", citations=citations, abstained=False, question_id="q1")


def test_a_thread_is_known_from_the_moment_it_is_claimed(engine: Engine) -> None:
    threads = ThreadMemory(engine)
    assert threads.history("C1", "1.1") is None
    threads.claim("C1", "1.1")
    threads.claim("C1", "1.1")  # a second claim (a follow-up racing its answer) changes nothing
    assert threads.history("C1", "1.1") == []


def test_an_answer_turn_keeps_the_documents_it_cites(engine: Engine) -> None:
    threads = ThreadMemory(engine)
    threads.claim("C1", "1.1")
    threads.remember("C1", "1.1", "What worked?", citing(7, 3, 7))
    with Session(engine) as session:
        turns = session.get(SlackThread, ("C1", "1.1")).turns
    assert turns[1] == {"role": "assistant", "text": "An answer [1].", "documents": [3, 7]}
    assert [(t.role, t.text) for t in threads.history("C1", "1.1")] == [("user", "What worked?"), ("assistant", "An answer [1].")]
