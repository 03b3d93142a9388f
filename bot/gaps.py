"""Knowledge gaps: questions the reports did not answer (outcome "related" or "abstain") or whose
answer was marked unhelpful,
grouped when they ask the same thing (embedding similarity), newest first.

A gap closes when the corpus can now answer it: after each new reflection or ingest the open
questions are searched again and, where the support gate now passes, marked resolved.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.records import Feedback, QueryLog
from index.db import utcnow
from ingest import Embedder

SAME_QUESTION = 0.85
# Question vectors kept between re-checks (about 1.5 KB each at 384 dimensions): a re-check after
# each reflection embedded every open question again, up to a thousand in one call that held the
# one embedding thread for seconds while queries queued behind it (README, Load).
VECTORS_KEPT = 2048
EMBED_SLICE = 32


@dataclass
class GapGroup:
    question: str
    count: int
    last_asked: datetime
    reasons: set[str] = field(default_factory=set)
    question_ids: list[str] = field(default_factory=list)


class GapFinder:
    def __init__(self, engine: Engine, embedder: Embedder, limit: int = 500) -> None:
        self.engine = engine
        self.embedder = embedder
        self.limit = limit
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # question text -> vector, least recently used first
        self._lock = threading.Lock()

    def _open_questions(self) -> list[tuple[QueryLog, str]]:
        with Session(self.engine) as session:
            unanswered = session.exec(
                select(QueryLog)
                .where(col(QueryLog.answered).is_(False), col(QueryLog.resolved_at).is_(None), col(QueryLog.private).is_(False))
                .order_by(col(QueryLog.created_at).desc())
                .limit(self.limit)
            ).all()
            unhelpful = session.exec(
                select(QueryLog)
                .join(Feedback, col(Feedback.question_id) == QueryLog.id)
                .where(col(Feedback.helpful).is_(False), col(QueryLog.private).is_(False))
                .order_by(col(QueryLog.created_at).desc())
                .limit(self.limit)
            ).all()
        rows = [(q, "abstained" if q.abstained else "related") for q in unanswered] + [(q, "unhelpful") for q in unhelpful]
        return sorted(rows, key=lambda row: row[0].created_at, reverse=True)

    def gaps(self) -> list[GapGroup]:
        rows = self._open_questions()
        if not rows:
            return []
        vectors = self.vectors([row[0].question for row in rows])
        groups: list[GapGroup] = []
        centres: list[np.ndarray] = []
        for (entry, reason), vector in zip(rows, vectors, strict=True):
            match = next((i for i, c in enumerate(centres) if float(c @ vector) >= SAME_QUESTION), None)
            if match is None:
                groups.append(GapGroup(entry.question, 0, entry.created_at))
                centres.append(vector)
                match = len(groups) - 1
            group = groups[match]
            if entry.id not in group.question_ids:
                group.count += 1
                group.question_ids.append(entry.id)
            group.reasons.add(reason)
        return groups

    def vectors(self, questions: Sequence[str]) -> list[np.ndarray]:
        """One vector per question; only questions not kept from an earlier call are embedded, each
        once, EMBED_SLICE at a time so a query waits for one slice at most, not the whole list."""
        distinct = list(dict.fromkeys(questions))
        with self._lock:
            found = {q: self._vectors[q] for q in distinct if q in self._vectors}
        missing = [q for q in distinct if q not in found]
        for start in range(0, len(missing), EMBED_SLICE):
            part = missing[start : start + EMBED_SLICE]
            found.update(zip(part, self.embedder.embed_batch(part), strict=True))
        with self._lock:
            for question in distinct:
                self._vectors[question] = found[question]
                self._vectors.move_to_end(question)
            while len(self._vectors) > VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return [found[q] for q in questions]

    def recheck(self, can_answer: Callable[[str], bool]) -> int:
        """Close unanswered gaps the corpus can now answer; returns how many questions were resolved."""
        resolved: list[str] = []
        for group in self.gaps():
            if group.reasons & {"abstained", "related"} and can_answer(group.question):
                resolved.extend(group.question_ids)
        if resolved:
            with Session(self.engine) as session:
                for entry in session.exec(select(QueryLog).where(col(QueryLog.id).in_(resolved))):
                    if not entry.answered:
                        entry.resolved_at = utcnow()
                        session.add(entry)
                session.commit()
        return len(resolved)
