"""The reflection model family: what a client sends, what it may change, what it gets back."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.nul import NoNulStr

MAX_TAGS = 10


def normalise_tags(tags: list[str]) -> list[str]:
    """Lower-case, hyphenated, de-duplicated tags: 'Adult Social Care' -> 'adult-social-care'."""
    seen: list[str] = []
    for tag in tags:
        clean = re.sub(r"[^a-z0-9-]+", "-", tag.strip().lower().lstrip("#")).strip("-")
        if clean and clean not in seen:
            seen.append(clean[:40])
    return seen[:MAX_TAGS]


class ReflectionBase(BaseModel):
    what_happened: NoNulStr = Field(max_length=4000, description="The situation: what was tried, where, with whom.")
    what_we_learned: NoNulStr = Field(max_length=4000, description="The insight someone else could use.")
    what_next: NoNulStr = Field("", max_length=2000)
    tags: list[NoNulStr] = Field(default_factory=list, max_length=MAX_TAGS)
    author: NoNulStr = Field("", max_length=200)
    team: NoNulStr = Field("", max_length=200)
    place: NoNulStr = Field("", max_length=200)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any(len(tag) > 60 for tag in value):
            raise ValueError("each tag must be at most 60 characters")
        return normalise_tags(value)

    @field_validator("what_happened", "what_we_learned", "what_next", "author", "team", "place")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class ReflectionCreate(ReflectionBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "what_happened": "We replaced monthly KPI returns with a quarterly learning conversation with three providers.",
                    "what_we_learned": "Providers told us about failures early once the conversation was not tied to payment.",
                    "what_next": "Try it with the homelessness contracts.",
                    "tags": ["commissioning", "learning"],
                    "team": "Adult social care commissioning",
                    "place": "Devon",
                }
            ]
        },
    )


class ReflectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["published", "rejected"]


class ReflectionPublic(ReflectionBase):
    id: str
    origin: str
    channel: str
    permalink: str
    status: str
    created_at: datetime
    document_id: int | None = Field(None, description="The catalog document once published (null while pending)")
