"""Deletion and rejection are final everywhere: catalog, indexes, export files, ingested copies of
an export, logged answers and Slack thread memory; on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import Session, select

from bot.records import QueryLog, Reflection, SlackThread
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from ingest import REFLECTION_SOURCE_PREFIX
from tests.conftest import small_services

LESSON = ReflectionCreate(
    what_happened="In Exeter we paired rough sleepers with peer mentors who had lived experience of homelessness.",
    what_we_learned="Peer mentors got people to engage with housing support far faster than caseworkers alone did.",
    tags=["homelessness"],
    team="Housing outreach",
    place="Exeter",
)
QUESTION = "How did peer mentors get rough sleepers to engage with housing support?"


def _found(services: Services) -> bool:
    return any("Peer mentors" in hit.text for hit in services.searcher.search("peer mentors rough sleepers housing", 20))


def _remember_thread(services: Services, document_id: int) -> None:
    """Two answers a Slack thread kept: one recorded with its cited documents, one (older) without."""
    quoted = LESSON.what_we_learned
    with Session(services.catalog.engine) as session:
        session.add(
            SlackThread(
                channel="C1",
                thread_ts="1.0",
                turns=[
                    {"role": "user", "text": QUESTION},
                    {"role": "assistant", "text": f"{quoted} [1]", "documents": [document_id]},
                    {"role": "user", "text": "And before that?"},
                    {"role": "assistant", "text": f"Housing outreach said: {quoted} [1]"},
                    {"role": "assistant", "text": "Something about the reports alone [1]", "documents": [1]},
                ],
            )
        )
        session.commit()


def test_deleting_a_reflection_erases_it_everywhere(tmp_path: Path, database_url: str) -> None:
    services = small_services(tmp_path, database_url)
    reflection = services.reflections.create(LESSON)
    document_id = services.reflections.document_id(reflection.id)
    (export,) = services.reflections.export()
    kept_copy = tmp_path / "copy.md"
    shutil.copy(export, kept_copy)
    answer = services.answers.answer(QUESTION)
    assert any(c.document_id == document_id for c in answer.citations), answer
    _remember_thread(services, document_id)
    assert _found(services)
    services.searcher.save_cache()
    saved = services.searcher.cache_dir / "vectors.faiss"
    assert saved.exists()

    assert services.reflections.delete(reflection.id)

    assert not _found(services) and not export.exists() and not saved.exists()
    assert services.answers.stored(answer.question_id) is None  # a shared answer can no longer repeat it
    with Session(services.catalog.engine) as session:
        logged = session.get(QueryLog, answer.question_id)
        assert logged.question == QUESTION and logged.answer == "" and logged.hits == []
        turns = session.exec(select(SlackThread)).one().turns
    assert [t["text"] for t in turns] == [QUESTION, "And before that?", "Something about the reports alone [1]"]

    shutil.copy(kept_copy, export)  # someone kept the exported file and puts it back
    report = services.pipeline.run()
    assert [f["path"] for f in report.failed] == [str(export)] and "deleted or rejected" in report.failed[0]["error"]
    assert not _found(services)
    assert not services.reflections.delete(reflection.id)  # gone: a second delete is a 404
    services.catalog.engine.dispose()


def test_rejecting_withdraws_the_export_and_any_ingested_copy_and_approval_restores_it(tmp_path: Path, database_url: str) -> None:
    services = small_services(tmp_path, database_url, review=True)
    reflection = services.reflections.create(LESSON)
    assert reflection.status == "pending" and not _found(services)
    copy = services.settings.corpus / "learning-logs" / "kept-by-hand.md"  # a copy made while it waited for review
    copy.write_text(f"---\ntitle: Kept\nreflection_id: {reflection.id}\n---\n\n{LESSON.what_happened}\n\n{LESSON.what_we_learned}\n")
    assert services.pipeline.run().documents == 1 and _found(services)

    services.reflections.set_status(reflection.id, "published")
    services.reflections.export()
    services.reflections.set_status(reflection.id, "rejected")

    assert not _found(services) and not services.reflections.export_path(reflection.id).exists()
    assert services.catalog.document_ids([f"{REFLECTION_SOURCE_PREFIX}{reflection.id}"]) == {}
    report = services.pipeline.run()
    assert [f["path"] for f in report.failed] == [str(copy)] and not _found(services)

    services.reflections.set_status(reflection.id, "published")  # a reviewer changes their mind
    assert _found(services)
    services.catalog.engine.dispose()


def test_an_orphaned_reflection_document_can_still_be_deleted(tmp_path: Path, database_url: str) -> None:
    """Older versions deleted the row before the document: what they left behind stays erasable."""
    services = small_services(tmp_path, database_url)
    reflection = services.reflections.create(LESSON)
    with Session(services.catalog.engine) as session:
        session.delete(session.get(Reflection, reflection.id))
        session.commit()
    assert _found(services)
    assert services.reflections.delete(reflection.id)
    assert not _found(services)
    assert not services.reflections.delete("no-such-id") and not services.catalog.is_erased(f"{REFLECTION_SOURCE_PREFIX}no-such-id")
    services.catalog.engine.dispose()
