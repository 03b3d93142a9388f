"""The bot's own tables: reflections, feedback and the query log (on the catalog's metadata).

One model family per entity, as in FastAPI's full-stack template: the table class here; the
API's input and output shapes live beside the routes that use them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from index.db import utcnow


def new_id() -> str:
    return uuid.uuid4().hex


class QueryLog(SQLModel, table=True):
    """Every question asked, how it went and how long it took: the raw material of /gaps and evaluation."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    question: str = Field(sa_column=Column(Text, nullable=False))
    answered: bool
    abstained: bool
    latency_ms: float
    hits: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mode: str = Field(default="extractive", max_length=32)
    surface: str = Field(default="api", max_length=16)
    private: bool = Field(default=False, description="Asked in a DM or private channel: never shown to anyone else (gaps, App Home)")
    created_at: datetime = Field(default_factory=utcnow, index=True)
    resolved_at: datetime | None = Field(default=None, description="When the corpus could answer it after all (the gap closed)")
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""), description="The Answer as JSON")


class Feedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(index=True, max_length=32)
    helpful: bool
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Reflection(SQLModel, table=True):
    """A person's "what did we learn", with provenance; once published it is a `reflection` document."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    what_happened: str = Field(sa_column=Column(Text, nullable=False))
    what_we_learned: str = Field(sa_column=Column(Text, nullable=False))
    what_next: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    author: str = Field(default="", max_length=200)
    team: str = Field(default="", max_length=200, index=True)
    place: str = Field(default="", max_length=200, index=True)
    origin: str = Field(default="api", max_length=16)
    channel: str = Field(default="", max_length=64)
    permalink: str = Field(default="", max_length=1000)
    author_slack_id: str = Field(default="", max_length=32)  # who to tell when it is reviewed (Slack reflections only)
    visibility: str = Field(default="public", max_length=16)
    status: str = Field(default="published", max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class SlackThread(SQLModel, table=True):
    """A Slack thread the bot has answered in, with its turns: follow-ups there are answered in context."""

    channel: str = Field(primary_key=True, max_length=32)
    thread_ts: str = Field(primary_key=True, max_length=32)
    turns: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class ProcessedEvent(SQLModel, table=True):
    """Slack event ids already handled, so a retry (X-Slack-Retry-Num) is never answered twice, by any replica."""

    event_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class WebSecret(SQLModel, table=True):
    """The one random secret that signs the web pages' session and CSRF values, shared by every
    replica (bot.web.security says why it is not derived from the API keys)."""

    id: int = Field(default=1, primary_key=True)
    secret: str = Field(max_length=64)
