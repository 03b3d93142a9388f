"""The answer contract's shapes (Citation, Answer) and the inputs that produce them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

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


Outcome = Literal["answer", "related", "abstain"]


class Answer(BaseModel):
    answer: str
    citations: list[Citation]
    abstained: bool = Field(description="True exactly when outcome is 'abstain'")
    question_id: str
    mode: str = Field("extractive", description="Extension: extractive, llm, or extractive-fallback")
    outcome: Outcome = Field(
        "answer",
        description="answer: the corpus answers it; related: close passages, none answers it (the text says what is missing); abstain: nothing relevant",
    )

    @model_validator(mode="before")
    @classmethod
    def _outcome_from_abstained(cls, data: object) -> object:
        """Answers logged before outcomes existed carry only `abstained`."""
        if isinstance(data, dict) and "outcome" not in data and data.get("abstained"):
            return {**data, "outcome": "abstain"}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Answer:
        if self.abstained != (self.outcome == "abstain"):
            raise ValueError("abstained must be true exactly when outcome is 'abstain'")
        return self
