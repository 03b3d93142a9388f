"""Slack event dedupe: a retried event id is recognised, and old ids are forgotten."""

from datetime import timedelta
from pathlib import Path

from bot import records  # noqa: F401 - registers the bot's tables
from bot.slack.conversation import EventLedger
from index.db import create_schema, make_engine, utcnow


def test_a_retry_is_recognised_until_the_id_ages_out(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    create_schema(engine)
    ledger = EventLedger(engine)
    assert ledger.first_time("Ev1") and ledger.first_time("Ev2")
    assert not ledger.first_time("Ev1")
    assert ledger.prune() == 0  # nothing is old yet
    assert ledger.prune(now=utcnow() + timedelta(days=2)) == 2
    assert ledger.first_time("Ev1")
    engine.dispose()
