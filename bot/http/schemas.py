"""Request and response shapes of the API that are not the core contract models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.gaps import GapGroup
from bot.models import Turn
from bot.nul import NoNulStr
from index import Hit, SearchFilters

SourceType = Literal["report", "learning_log", "reflection"]
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL: larger ones must be a 422, not a database error


class Filters(BaseModel):
    """Restrict a search or an answer to part of the corpus; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    source_type: SourceType | None = None
    document_id: int | None = Field(None, ge=1, le=MAX_ID)
    tag: NoNulStr | None = Field(None, min_length=1, max_length=64)
    year_from: int | None = Field(None, ge=1800, le=2200)
    year_to: int | None = Field(None, ge=1800, le=2200)

    def to_search(self) -> SearchFilters:
        return SearchFilters(**self.model_dump())


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "What does Selwyn say about salami slicing?", "k": 6}]},
    )

    question: NoNulStr = Field(min_length=1, max_length=4000, description="The practice question.")
    k: int | None = Field(None, ge=1, le=20, description="Passages to draw on (default 8).")
    filters: Filters | None = None
    history: list[Turn] = Field(default_factory=list, max_length=20, description="Earlier turns, oldest first.")


class SearchResponse(BaseModel):
    hits: list[Hit]


class Health(BaseModel):
    status: str
    documents: int
    chunks: int


class DocumentPublic(BaseModel):
    id: int
    source: str
    title: str
    authors: list[str]
    publisher: str
    year: int | None
    source_type: str
    tags: list[str]
    ingested_at: datetime
    chunks: int | None = None


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question_id": "3f2a...", "helpful": False, "comment": "Nothing on procurement thresholds"}]})

    question_id: NoNulStr = Field(min_length=1, max_length=64)
    helpful: bool
    comment: NoNulStr = Field("", max_length=2000)


class FeedbackPublic(BaseModel):
    id: int
    question_id: str
    helpful: bool
    comment: str
    created_at: datetime


class Gap(BaseModel):
    question: str = Field(description="The most recent wording of the question")
    count: int = Field(description="How often it (or a near-identical question) was asked without a good answer")
    last_asked: datetime
    reasons: list[str] = Field(description="abstained, related (close passages, no answer) and/or unhelpful")
    question_ids: list[str]

    @classmethod
    def from_group(cls, group: GapGroup) -> Gap:
        """The contract's shape of a group of questions (reasons sorted, so output is stable)."""
        return cls(question=group.question, count=group.count, last_asked=group.last_asked, reasons=sorted(group.reasons), question_ids=group.question_ids)


class GapsResponse(BaseModel):
    gaps: list[Gap]
