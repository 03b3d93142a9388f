"""Listing reflections: every filter (tag, team, place, since, status) returns exactly what it names,
however old the match; personal data is refused in every free-text field; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.records import Reflection
from bot.reflection_models import ReflectionCreate
from index import InputRejected
from index.db import utcnow
from tests.conftest import small_services


def _store(services, rows: list[dict]) -> None:
    with Session(services.catalog.engine) as session:
        session.add_all(Reflection(what_happened="h", what_we_learned="l", **row) for row in rows)
        session.commit()


def test_each_filter_returns_exactly_what_it_names(tmp_path: Path, database_url: str) -> None:
    services = small_services(tmp_path, database_url)
    now = utcnow()
    _store(
        services,
        [
            {"id": "old-tagged", "tags": ["pooled-budgets"], "team": "Adults", "place": "Devon", "created_at": now - timedelta(days=400)},
            *({"id": f"filler-{i:04d}", "tags": ["housing"], "team": "Housing", "place": "Exeter", "created_at": now - timedelta(minutes=i)} for i in range(1200)),
            {"id": "pending", "tags": ["housing"], "team": "Adults", "place": "Devon", "status": "pending", "created_at": now - timedelta(days=2)},
            {"id": "rejected", "tags": ["housing"], "team": "Adults", "place": "Plymouth", "status": "rejected", "created_at": now - timedelta(days=3)},
        ],
    )
    listed = services.reflections.list
    assert [r.id for r in listed(tag="Pooled Budgets", limit=5)] == ["old-tagged"]  # behind 1,200 newer rows
    assert [r.id for r in listed(place="Devon")] == ["pending", "old-tagged"]
    assert [r.id for r in listed(team="Adults", status="published")] == ["old-tagged"]
    assert [r.id for r in listed(status="rejected")] == ["rejected"]
    recent = listed(since=now - timedelta(minutes=9, seconds=30), limit=500)
    assert [r.id for r in recent] == [f"filler-{i:04d}" for i in range(10)]
    assert [r.id for r in listed(tag="housing", limit=3)] == ["filler-0000", "filler-0001", "filler-0002"]
    assert listed(tag="no-such-tag") == []
    services.catalog.engine.dispose()


@pytest.mark.parametrize("field", ["what_happened", "what_we_learned", "what_next", "author", "team", "place"])
def test_personal_data_is_refused_in_every_free_text_field(tmp_path: Path, field: str) -> None:
    services = small_services(tmp_path, f"sqlite:///{tmp_path / 'pii.db'}")
    for personal in ("write to sam.example@devon.gov.uk", "ring 01392 123456"):
        data = {"what_happened": "We met.", "what_we_learned": "It helped.", field: personal}
        with pytest.raises(InputRejected) as refused:
            services.reflections.create(ReflectionCreate(**data))
        assert refused.value.field == field
    assert services.reflections.list() == []
    services.catalog.engine.dispose()
