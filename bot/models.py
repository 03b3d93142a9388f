"""The answer contract's shapes (Citation, Answer) and the inputs that produce them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from index import Hit


class Turn(BaseModel):
    """One earlier turn of a conversation, for follow-up questions."""

    role: str = Field(pattern="^(user|assistant)$", description="user or assistant")
    text: str = Field(max_length=4000)


def with_context(question: str, history: list[Turn]) -> str:
    """A follow-up together with the user's previous question, so 'that' and 'he' have a referent."""
    earlier = [turn.text for turn in history if turn.role == "user"][-1:]
    return " ".join([question, *earlier])


class Citation(BaseModel):
    n: int
    chunk_id: int
    document_id: int
    title: str
    source: str
    source_type: str
    section: str
    page_start: int | None
    page_end: int | None
    quote: str = Field(description="Verbatim text from the chunk")
    authors: list[str] = Field(default_factory=list, description="Extension: the document's authors")
    year: int | None = Field(default=None, description="Extension: the document's year")

    @classmethod
    def from_hit(cls, n: int, hit: Hit, quote: str) -> Citation:
        return cls(
            n=n,
            chunk_id=hit.chunk_id,
            document_id=hit.document_id,
            title=hit.title,
            source=hit.source,
            source_type=hit.source_type,
            section=hit.section,
            page_start=hit.page_start,
            page_end=hit.page_end,
            quote=quote,
            authors=hit.authors,
            year=hit.year,
        )


class Answer(BaseModel):
    answer: str
    citations: list[Citation]
    abstained: bool
    question_id: str
    mode: str = Field("extractive", description="Extension: extractive, llm, or extractive-fallback")
