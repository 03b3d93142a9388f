"""Knowledge gaps over HTTP: grouped by question, counted, newest first with the right dates,
unhelpful answers included, private questions never shown; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlmodel import Session

from bot.http.app import create_app
from bot.records import Feedback, QueryLog
from index.db import utcnow
from tests.conftest import LiveServer, small_services


def test_gaps_are_grouped_counted_and_newest_first(tmp_path: Path, database_url: str) -> None:
    services = small_services(tmp_path, database_url, api_keys=SecretStr("boss:admin,writer:write"))
    now = utcnow()
    asked = [
        ("a1", "What is the hourly rate for home care in Cornwall?", 30, True, False),
        ("a2", "what is the hourly rate for home care in Cornwall", 3, True, False),
        ("b1", "Which software do councils use for outcome tracking?", 10, True, False),
        ("c1", "How do I write a learning review for my board?", 1, False, False),  # answered, then marked unhelpful
        ("p1", "What is the hourly rate for home care in Cornwall?", 0, True, True),  # asked in a DM: never shown
    ]
    with Session(services.catalog.engine) as session:
        for qid, question, days, abstained, private in asked:
            session.add(QueryLog(id=qid, question=question, answered=not abstained, abstained=abstained, latency_ms=1, private=private, created_at=now - timedelta(days=days)))
        session.add(Feedback(question_id="c1", helpful=False, comment="nothing on boards"))
        session.commit()

    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/gaps", headers={"Authorization": "Bearer writer"}).status_code == 403
        gaps = client.get("/gaps", headers={"Authorization": "Bearer boss"}).json()["gaps"]

    assert [(g["question_ids"], g["count"], g["reasons"]) for g in gaps] == [
        (["c1"], 1, ["unhelpful"]),
        (["a2", "a1"], 2, ["abstained"]),
        (["b1"], 1, ["abstained"]),
    ]
    assert gaps[1]["question"] == "what is the hourly rate for home care in Cornwall"  # the most recent wording
    last_asked = [g["last_asked"][:10] for g in gaps]
    assert last_asked == [(now - timedelta(days=d)).date().isoformat() for d in (1, 3, 10)]
    services.catalog.engine.dispose()
