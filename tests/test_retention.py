"""Retention: logged questions, answers, feedback and Slack thread memory older than
LEARNLOOP_RETENTION_DAYS are deleted (at serve start and then periodically); reflections stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, select

from bot.http.app import create_app
from bot.records import Feedback, QueryLog, Reflection, SlackThread
from bot.reflection_models import ReflectionCreate
from bot.retention import prune_logs
from bot.services import Services
from index.db import utcnow
from tests.conftest import LiveServer, small_services


def _log(services: Services, age_days: int, tag: str) -> None:
    when = utcnow() - timedelta(days=age_days)
    with Session(services.catalog.engine) as session:
        session.add(QueryLog(id=f"q-{tag}", question=f"question {tag}", answered=False, abstained=True, latency_ms=1.0, created_at=when))
        session.add(Feedback(question_id=f"q-{tag}", helpful=False, comment=f"comment {tag}", created_at=when))
        session.add(SlackThread(channel="C1", thread_ts=f"{age_days}.0", turns=[{"role": "user", "text": tag}], updated_at=when))
        session.commit()


def _left(services: Services) -> tuple[set[str], set[str], set[str]]:
    with Session(services.catalog.engine) as session:
        return (
            {q.id for q in session.exec(select(QueryLog))},
            {f.comment for f in session.exec(select(Feedback))},
            {t.turns[0]["text"] for t in session.exec(select(SlackThread))},
        )


def test_prune_deletes_only_what_is_older_than_the_retention(tmp_path: Path, database_url: str) -> None:
    services = small_services(tmp_path, database_url)
    services.reflections.create(ReflectionCreate(what_happened="An old pilot of pooled budgets.", what_we_learned="Shared stories come before shared money."))
    _log(services, 120, "old")
    _log(services, 10, "recent")
    with Session(services.catalog.engine) as session:  # feedback given recently on an old question goes with it
        session.add(Feedback(question_id="q-old", helpful=True, comment="late feedback"))
        session.commit()

    pruned = prune_logs(services.catalog.engine, days=90)

    assert (pruned.questions, pruned.feedback, pruned.threads) == (1, 2, 1)
    assert _left(services) == ({"q-recent"}, {"comment recent"}, {"recent"})
    with Session(services.catalog.engine) as session:
        assert len(session.exec(select(Reflection)).all()) == 1
    assert prune_logs(services.catalog.engine, days=5).questions == 1  # a shorter setting reaches further back
    services.catalog.engine.dispose()


def test_serving_prunes_at_start(tmp_path: Path) -> None:
    services = small_services(tmp_path, f"sqlite:///{tmp_path / 'serve.db'}", retention_days=30)
    _log(services, 45, "old")
    _log(services, 1, "recent")
    with LiveServer(create_app(services.settings, services)) as server:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        assert _left(services) == ({"q-recent"}, {"comment recent"}, {"recent"})
    services.catalog.engine.dispose()
