"""The reflection service used by the API, the CLI and the Slack modal.

A reflection is validated (required text, no e-mail addresses or phone numbers), stored, and,
once published, turned into a `reflection` document whose chunks are embedded and indexed before
`create` returns, so the next search finds it. Deleting erases it everywhere: the row, the
catalog document and its chunks (hence both indexes) and any exported learning-log file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path

import yaml
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.erasure import forget_quotes
from bot.metrics import Metrics
from bot.nul import refuse_nul
from bot.records import Reflection
from bot.reflection_models import ReflectionCreate, normalise_tags
from index import Catalog, ChunkDraft, DocumentDraft, InputRejected, Searcher
from index.records import contextual_text
from ingest import REFLECTION_SOURCE_PREFIX, Embedder, chunk_blocks, encodings_of
from ingest.pipeline import IngestProgress, no_progress
from ingest.structure import parse_text

# Linear time on any text: an address is tried only from the start of a run of its characters.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++\.[\w.-]+")
PHONE = re.compile(r"(?<![\w])(?:\+?\d[\d\s().-]{8,}\d)(?![\w])")
_NON_DIGITS = re.compile(r"\D")
TEXT_FIELDS = ("what_happened", "what_we_learned", "what_next")
TAG_SCAN_BATCH = 500  # rows read per round while looking for a tag


def contains_personal_data(text: str) -> bool:
    """E-mail addresses, or phone-like runs of 10+ digits (years and amounts are shorter)."""
    if EMAIL.search(text):
        return True
    return any(len(_NON_DIGITS.sub("", match)) >= 10 for match in PHONE.findall(text))


def reflection_title(reflection: Reflection) -> str:
    words = reflection.what_we_learned.split()
    head = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    return f"Reflection: {head}"


def reflection_markdown(reflection: Reflection) -> str:
    """The reflection as learning-log Markdown (the body is also what gets chunked and indexed)."""
    parts = [f"## What happened\n\n{reflection.what_happened}", f"## What we learned\n\n{reflection.what_we_learned}"]
    if reflection.what_next:
        parts.append(f"## What next\n\n{reflection.what_next}")
    return "\n\n".join(parts) + "\n"


class ReflectionService:
    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        searcher: Searcher,
        embedder: Embedder,
        review: bool,
        export_dir: Path,
        on_published: Callable[[], None] | None = None,
        on_pending: Callable[[Reflection], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`on_pending` hears of each reflection stored as pending (the Slack review channel's poster);
        it must return quickly and never raise, since the reflection is already stored."""
        self.engine = engine
        self.catalog = catalog
        self.searcher = searcher
        self.embedder = embedder
        self.review = review
        self.export_dir = export_dir
        self.on_published = on_published
        self.on_pending = on_pending
        self.metrics = metrics or Metrics()

    def validate(self, data: ReflectionCreate) -> None:
        """Required text present, no personal data; raises InputRejected naming the field."""
        for field in ("what_happened", "what_we_learned"):
            if not getattr(data, field).strip():
                raise InputRejected(f"'{field}' is required and cannot be empty.", field=field)
        for field in (*TEXT_FIELDS, "author", "team", "place"):
            refuse_nul(getattr(data, field), field)
            if contains_personal_data(getattr(data, field)):
                raise InputRejected(
                    "Please remove e-mail addresses and phone numbers before sharing; reflections are read by others.", field=field
                )

    def create(self, data: ReflectionCreate, origin: str = "api", channel: str = "", permalink: str = "", author_slack_id: str = "") -> Reflection:
        self.validate(data)
        reflection = Reflection(
            **data.model_dump(), origin=origin, channel=channel, permalink=permalink, author_slack_id=author_slack_id,
            status="pending" if self.review else "published",
        )
        with Session(self.engine) as session:
            session.add(reflection)
            session.commit()
            session.refresh(reflection)
        if reflection.status == "published":
            try:
                self._index(reflection)
            except Exception:
                self._delete_row(reflection.id)  # nothing half-stored: no row without its index entry
                raise
        elif self.on_pending:
            self.on_pending(reflection)
        self.metrics.reflections.labels("created").inc()
        return reflection

    def draft(self, reflection: Reflection) -> tuple[DocumentDraft, list[ChunkDraft]]:
        """The catalog document and chunks a published reflection becomes."""
        title = reflection_title(reflection)
        _, chunks = chunk_blocks(parse_text(reflection_markdown(reflection), guess_headings=False), title)
        created: datetime = reflection.created_at
        document = DocumentDraft(
            source=f"{REFLECTION_SOURCE_PREFIX}{reflection.id}",
            content_hash=reflection.id,
            title=title,
            source_type="reflection",
            authors=[a for a in (reflection.author or reflection.team,) if a],
            publisher=reflection.team,
            year=created.year,
            tags=reflection.tags,
            extra={"team": reflection.team, "place": reflection.place, "date": created.date().isoformat(), "origin": reflection.origin, "permalink": reflection.permalink, "reflection_id": reflection.id},
        )
        return document, chunks

    def _index(self, reflection: Reflection) -> None:
        document, chunks = self.draft(reflection)
        encoded = self.embedder.encode([contextual_text(document.title, c.section, c.text) for c in chunks])
        self.catalog.replace_document(document, chunks, encodings_of(encoded))
        self.searcher.sync()
        self.metrics.reflections.labels("published").inc()
        if self.on_published:
            self.on_published()

    def get(self, reflection_id: str) -> Reflection | None:
        with Session(self.engine) as session:
            return session.get(Reflection, reflection_id)

    def document_id(self, reflection_id: str) -> int | None:
        documents = self.catalog.document_ids([f"{REFLECTION_SOURCE_PREFIX}{reflection_id}"])
        return documents.get(f"{REFLECTION_SOURCE_PREFIX}{reflection_id}")

    def list(
        self, tag: str | None = None, team: str | None = None, place: str | None = None, since: datetime | None = None, status: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[Reflection]:
        """Reflections, newest first, filtered, skipping the first `offset`; a tag filter reads on until
        enough matches are found (tags are a JSON list, compared in Python so it reads the same on
        SQLite and PostgreSQL)."""
        query = _filtered(team, place, since, status)
        with Session(self.engine) as session:
            if not tag:
                return list(session.exec(query.offset(offset).limit(limit)).all())
            return list(islice(_tagged(session, query, tag), offset, offset + limit))

    def count(self, tag: str | None = None, team: str | None = None, place: str | None = None, since: datetime | None = None, status: str | None = None) -> int:
        """How many reflections `list` pages through with these filters (a tag filter reads them all)."""
        query = _filtered(team, place, since, status)
        with Session(self.engine) as session:
            if not tag:
                return session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
            return sum(1 for _ in _tagged(session, query, tag))

    def set_status(self, reflection_id: str, status: str) -> Reflection | None:
        """Approve (publish and index) or reject a reflection; rejecting a published one withdraws it
        everywhere (catalog, export, logged answers) before the new status is stored."""
        reflection = self.get(reflection_id)
        if reflection is None:
            return None
        if status != "published":
            self._withdraw(reflection)
        with Session(self.engine) as session:
            reflection = session.get(Reflection, reflection_id)
            if reflection is None:
                return None
            reflection.status = status
            session.add(reflection)
            session.commit()
            session.refresh(reflection)
        if status == "published":
            self._index(reflection)
        elif status == "rejected":
            self.metrics.reflections.labels("rejected").inc()
        return reflection

    def delete(self, reflection_id: str) -> bool:
        """Erase a reflection everywhere; False when there was none. The catalog goes first, so a
        failure part-way leaves a row the API can still delete, never a searchable orphan."""
        reflection = self.get(reflection_id)
        if reflection is None:
            orphan = f"{REFLECTION_SOURCE_PREFIX}{reflection_id}"  # left by an older version: still erasable
            return bool(self.catalog.document_ids([orphan])) and self.catalog.erase_document(orphan)
        self._withdraw(reflection)
        self._delete_row(reflection_id)
        self.metrics.reflections.labels("deleted").inc()
        return True

    def _withdraw(self, reflection: Reflection) -> None:
        """Take a reflection out of the catalog for good, with any ingested copy of its export, its
        export file and every logged answer or thread turn that quoted it."""
        own = f"{REFLECTION_SOURCE_PREFIX}{reflection.id}"
        sources = [own, *self.catalog.sources_where("learning_log", "reflection_id", reflection.id)]
        document_ids = list(self.catalog.document_ids(sources).values())
        for source in sources:
            self.catalog.erase_document(source)
        self.export_path(reflection.id).unlink(missing_ok=True)
        self.searcher.drop_cache()  # the saved index still holds its vectors; the next ingest writes a new one
        forget_quotes(self.engine, document_ids, [getattr(reflection, field) for field in TEXT_FIELDS])
        self.searcher.sync()

    def _delete_row(self, reflection_id: str) -> bool:
        with Session(self.engine) as session:
            reflection = session.get(Reflection, reflection_id)
            if reflection is None:
                return False
            session.delete(reflection)
            session.commit()
            return True

    def export_path(self, reflection_id: str) -> Path:
        return self.export_dir / f"reflection-{reflection_id}.md"

    def export(self, progress: IngestProgress = no_progress) -> list[Path]:
        """Write every published reflection as a learning-log file (front matter carries its id);
        `progress` hears ("exporting", files written, files to write)."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        written = []
        published = self.list(status="published", limit=1_000_000)
        progress("exporting", 0, len(published))
        for reflection in published:
            front = {
                "title": reflection_title(reflection),
                "date": reflection.created_at.date().isoformat(),
                "team": reflection.team,
                "place": reflection.place,
                "author": reflection.author,
                "tags": reflection.tags,
                "reflection_id": reflection.id,
                "origin": reflection.origin,
            }
            path = self.export_path(reflection.id)
            path.write_text(f"---\n{yaml.safe_dump(front, sort_keys=False, allow_unicode=True)}---\n\n{reflection_markdown(reflection)}", encoding="utf-8")
            written.append(path)
            progress("exporting", len(written), len(published))
        return written


def _filtered(team: str | None, place: str | None, since: datetime | None, status: str | None) -> SelectOfScalar[Reflection]:
    """Reflections, newest first, with the filters SQL can apply."""
    query = select(Reflection).order_by(col(Reflection.created_at).desc(), col(Reflection.id))
    if team:
        query = query.where(Reflection.team == team)
    if place:
        query = query.where(Reflection.place == place)
    if since:
        query = query.where(col(Reflection.created_at) >= since)
    if status:
        query = query.where(Reflection.status == status)
    return query


def _tagged(session: Session, query: SelectOfScalar[Reflection], tag: str) -> Iterator[Reflection]:
    """The rows of `query` carrying `tag`, read in batches as the caller consumes them."""
    wanted = normalise_tags([tag])
    if not wanted:
        return
    start = 0
    while True:
        batch = session.exec(query.offset(start).limit(TAG_SCAN_BATCH)).all()
        yield from (r for r in batch if wanted[0] in r.tags)
        if len(batch) < TAG_SCAN_BATCH:
            return
        start += TAG_SCAN_BATCH
