"""Slack event dedupe: a retried event id is recognised, and old ids are forgotten (SQLite and PostgreSQL)."""

from datetime import timedelta

from sqlmodel import Session

from bot.migrations import BOT_VERSIONS
from bot.records import ProcessedEvent
from bot.slack import conversation
from bot.slack.conversation import EventLedger
from index.db import create_schema, make_engine, utcnow


def test_a_retry_is_recognised_until_the_id_ages_out(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine, [BOT_VERSIONS])
    ledger = EventLedger(engine)
    assert ledger.first_time("Ev1") and ledger.first_time("Ev2")
    assert not ledger.first_time("Ev1")
    assert ledger.prune() == 0  # nothing is old yet
    assert ledger.prune(now=utcnow() + timedelta(days=2)) == 2
    assert ledger.first_time("Ev1")
    engine.dispose()


def test_recording_events_prunes_old_ids_now_and_then(database_url: str, monkeypatch) -> None:
    engine = make_engine(database_url)
    create_schema(engine, [BOT_VERSIONS])
    with Session(engine) as session:
        session.add(ProcessedEvent(event_id="EvOld", created_at=utcnow() - timedelta(days=3)))
        session.commit()
    monkeypatch.setattr(conversation, "PRUNE_EVERY", 2)
    ledger = EventLedger(engine)
    assert ledger.first_time("Ev1") and ledger.first_time("Ev2")  # the second one prunes
    assert ledger.first_time("EvOld")
    engine.dispose()
