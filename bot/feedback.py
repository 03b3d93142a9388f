"""Feedback on answers: one writer for the API and the Slack buttons."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.nul import refuse_nul
from bot.records import Feedback, QueryLog


class FeedbackService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, question_id: str, helpful: bool, comment: str = "") -> Feedback | None:
        """Store feedback for an answer; None when no answer has that question_id."""
        refuse_nul(comment, "comment")
        with Session(self.engine) as session:
            if session.get(QueryLog, question_id) is None:
                return None
            feedback = Feedback(question_id=question_id, helpful=helpful, comment=comment.strip())
            session.add(feedback)
            session.commit()
            session.refresh(feedback)
            return feedback

    def add_comment(self, question_id: str, comment: str) -> None:
        """Attach a "what was missing?" comment to the latest unhelpful feedback on an answer."""
        refuse_nul(comment, "comment")
        with Session(self.engine) as session:
            latest = session.exec(
                select(Feedback).where(Feedback.question_id == question_id, col(Feedback.helpful).is_(False)).order_by(col(Feedback.id).desc())
            ).first()
            if latest is not None and comment.strip():
                latest.comment = comment.strip()[:2000]
                session.add(latest)
                session.commit()
