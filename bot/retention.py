"""Retention: questions, answers, feedback and Slack thread memory are kept LEARNLOOP_RETENTION_DAYS.

What people asked and what they were told is personal: it is kept long enough to find knowledge
gaps and judge answers, then deleted. Reflections are not touched; they are shared on purpose and
erased only by their own deletion. A serving process prunes at start and then every few hours.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from bot.records import Feedback, QueryLog, SlackThread
from index.db import utcnow

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 6 * 3600


@dataclass(frozen=True)
class Pruned:
    questions: int
    feedback: int
    threads: int


def prune_logs(engine: Engine, days: int, now: datetime | None = None) -> Pruned:
    """Delete what is older than `days`: logged questions with their answers and feedback, other
    feedback, and Slack threads not touched since."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    with Session(engine) as session:
        old_questions = select(QueryLog.id).where(col(QueryLog.created_at) < cutoff)
        feedback = session.exec(delete(Feedback).where((col(Feedback.created_at) < cutoff) | col(Feedback.question_id).in_(old_questions))).rowcount
        questions = session.exec(delete(QueryLog).where(col(QueryLog.created_at) < cutoff)).rowcount
        threads = session.exec(delete(SlackThread).where(col(SlackThread.updated_at) < cutoff)).rowcount
        session.commit()
    return Pruned(questions, feedback, threads)


class RetentionSweeper:
    """Prunes now, then every `interval` seconds on a daemon thread until stopped."""

    def __init__(self, engine: Engine, days: int, interval: float = SWEEP_EVERY_S) -> None:
        self.engine = engine
        self.days = days
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> Pruned:
        pruned = prune_logs(self.engine, self.days)
        self._thread.start()
        return pruned

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                log.info("retention: %s", prune_logs(self.engine, self.days))
            except Exception:  # a database hiccup must not end the sweeper; the next sweep retries
                log.exception("retention sweep failed")
