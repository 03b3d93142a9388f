"""Knowledge gaps: questions the reports did not answer (outcome "related" or "abstain") or whose
answer was marked unhelpful,
grouped when they ask the same thing (embedding similarity), newest first.

A gap closes when the corpus can now answer it: after each new reflection or ingest the open
questions are searched again and, where the support gate now passes, marked resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.records import Feedback, QueryLog
from index.db import utcnow
from ingest import Embedder

SAME_QUESTION = 0.85


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
        vectors = self.embedder.embed_batch([row[0].question for row in rows])
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
