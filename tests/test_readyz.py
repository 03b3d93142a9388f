"""/readyz: 503 with Retry-After until the indexes are loaded, while they catch up with a write made
by another process, and while the database is down; 200 otherwise. /healthz is unchanged."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from bot.http.app import create_app
from bot.reflection_models import ReflectionCreate
from bot.services import build_services
from tests.conftest import PG_ADMIN, FakeEmbedder, LiveServer, make_settings, small_services, throwaway_database


def wait_until_ready(client: httpx.Client, timeout: float = 15.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while (response := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    return response


def test_not_ready_before_the_lifespan_has_loaded_the_indexes(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "var", tmp_path / "corpus"))
    response = TestClient(app).get("/readyz")  # outside `with`, the lifespan never runs: nothing is loaded
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5" and "not loaded" in response.json()["detail"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_ready_then_catching_up_with_another_process(tmp_path: Path, kind: str) -> None:
    with throwaway_database(kind, tmp_path) as url:
        services = small_services(tmp_path, url)
        other = build_services(services.settings, embedder=FakeEmbedder())  # another replica on the same database
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json() == {"status": "ready", "revision": services.catalog.revision()}
            reflection = other.reflections.create(ReflectionCreate(what_happened="A replica wrote this.", what_we_learned="Readiness follows the catalog."))
            behind = client.get("/readyz")
            assert behind.status_code == 503 and behind.headers["retry-after"] == "1"
            assert "catching up" in behind.json()["detail"]
            caught_up = wait_until_ready(client)
            assert caught_up.status_code == 200 and caught_up.json()["revision"] == other.catalog.revision()
            assert services.reflections.document_id(reflection.id) in {h.document_id for h in services.searcher.search("Readiness follows the catalog", 5)}
            assert client.get("/healthz").json()["status"] == "ok"
        for engine in (services.catalog.engine, other.catalog.engine):
            engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_not_ready_while_the_database_is_down(tmp_path: Path) -> None:
    with throwaway_database("postgresql", tmp_path) as url:
        services = small_services(tmp_path, url)
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            down = client.get("/readyz")
            assert down.status_code == 503 and down.headers["retry-after"] == "5"
            assert down.json() == {"detail": "The database is not answering."}
        services.catalog.engine.dispose()
