"""What the Slack app remembers: threads it answered in (for follow-ups) and events already handled."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.models import Turn
from bot.records import ProcessedEvent, SlackThread
from index.db import utcnow

MAX_TURNS = 12


class ThreadMemory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def history(self, channel: str, thread_ts: str) -> list[Turn] | None:
        """Earlier turns of a thread the bot answered in; None when it never did."""
        with Session(self.engine) as session:
            thread = session.get(SlackThread, (channel, thread_ts))
            return None if thread is None else [Turn(**turn) for turn in thread.turns]

    def remember(self, channel: str, thread_ts: str, question: str, answer: str) -> None:
        with Session(self.engine) as session:
            thread = session.get(SlackThread, (channel, thread_ts)) or SlackThread(channel=channel, thread_ts=thread_ts)
            turns = [*thread.turns, {"role": "user", "text": question[:4000]}, {"role": "assistant", "text": answer[:4000]}]
            thread.turns = turns[-MAX_TURNS:]
            thread.updated_at = utcnow()
            session.add(thread)
            session.commit()


class EventLedger:
    """First sight of an event id wins; a retry of it is recognised across processes (primary key)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def first_time(self, event_id: str) -> bool:
        with Session(self.engine) as session:
            session.add(ProcessedEvent(event_id=event_id))
            try:
                session.commit()
            except IntegrityError:
                return False
            return True
