"""What the Slack app remembers: threads it answered in (for follow-ups) and events already handled."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from bot.models import Answer, Turn
from bot.records import ProcessedEvent, SlackThread
from index.db import utcnow
from index.outage import DATABASE_UNAVAILABLE

MAX_TURNS = 12
EVENT_RETENTION = timedelta(days=1)  # Slack retries a failed delivery within minutes; a day is ample
PRUNE_EVERY = 500  # events recorded between two prunes

log = logging.getLogger(__name__)


class ThreadMemory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def history(self, channel: str, thread_ts: str) -> list[Turn] | None:
        """Earlier turns of a thread the bot answers in; None when it never did. Keys a Turn does not
        have (an assistant turn's `documents`) are left out."""
        with Session(self.engine) as session:
            thread = session.get(SlackThread, (channel, thread_ts))
            return None if thread is None else [Turn.model_validate({"role": t["role"], "text": t["text"]}) for t in thread.turns]

    def claim(self, channel: str, thread_ts: str) -> None:
        """Mark the thread as the bot's when it starts answering, so a follow-up sent meanwhile is answered too."""
        with Session(self.engine) as session:
            if session.get(SlackThread, (channel, thread_ts)) is not None:
                return
            session.add(SlackThread(channel=channel, thread_ts=thread_ts))
            try:
                session.commit()
            except IntegrityError:
                pass  # claimed by a concurrent answer (another thread or replica): it is the bot's either way

    def remember(self, channel: str, thread_ts: str, question: str, answer: Answer) -> None:
        """Add a question and its answer; the answer keeps the ids of the documents it cites, so erasing
        a document can erase what was said from it."""
        documents = sorted({citation.document_id for citation in answer.citations})
        with Session(self.engine) as session:
            thread = session.get(SlackThread, (channel, thread_ts)) or SlackThread(channel=channel, thread_ts=thread_ts)
            turns = [*thread.turns, {"role": "user", "text": question[:4000]}, {"role": "assistant", "text": answer.answer[:4000], "documents": documents}]
            thread.turns = turns[-MAX_TURNS:]
            thread.updated_at = utcnow()
            session.add(thread)
            session.commit()


class EventLedger:
    """First sight of an event id wins; a retry of it is recognised across processes (primary key).

    Ids older than EVENT_RETENTION are forgotten now and then, so the table stays small."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._recorded = 0

    def first_time(self, event_id: str) -> bool:
        """True unless the event was handled before. When the database is down the event counts as
        new: its listener then tells the user to try again, where dropping it would be silence."""
        with Session(self.engine) as session:
            session.add(ProcessedEvent(event_id=event_id))
            try:
                session.commit()
            except IntegrityError:
                return False
            except DATABASE_UNAVAILABLE as error:
                log.warning("event %s not recorded, the database is not answering (%s)", event_id, type(error).__name__)
                return True
        self._recorded += 1
        if self._recorded % PRUNE_EVERY == 0:
            self.prune()
        return True

    def prune(self, now: datetime | None = None) -> int:
        """Forget event ids recorded before the retention window; returns how many were forgotten."""
        cutoff = (now or utcnow()) - EVENT_RETENTION
        with Session(self.engine) as session:
            result = session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < cutoff))
            session.commit()
            return result.rowcount
