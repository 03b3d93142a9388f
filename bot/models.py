"""The answer contract's shapes (Citation, Answer) and the inputs that produce them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.nul import NoNulStr
from index import Hit, PassageRef


class Turn(BaseModel):
    """One earlier turn of a conversation, for follow-up questions."""

    role: str = Field(pattern="^(user|assistant)$", description="user or assistant")
    text: NoNulStr = Field(max_length=4000)


def with_context(question: str, history: list[Turn]) -> str:
    """A follow-up together with the user's previous question, so 'that' and 'he' have a referent."""
    earlier = [turn.text for turn in history if turn.role == "user"][-1:]
    return " ".join([question, *earlier])


class Citation(PassageRef):
    n: int
    quote: str = Field(description="Verbatim text from the chunk")

    @classmethod
    def from_hit(cls, n: int, hit: Hit, quote: str) -> Citation:
        return cls(n=n, quote=quote, **hit.ref())


class Answer(BaseModel):
    answer: str
    citations: list[Citation]
    abstained: bool
    question_id: str
    mode: str = Field("extractive", description="Extension: extractive, llm, or extractive-fallback")
