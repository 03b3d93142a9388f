"""Paging of GET /reflections, /documents and /gaps through a real server, on SQLite and PostgreSQL:
X-Total-Count, RFC 8288 Link headers that walk every page exactly once, and 422 for bad bounds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.http.app import create_app
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from tests.conftest import LiveServer, small_services

pytestmark = pytest.mark.slow

QUESTIONS = ("What is the boiling point of mercury at sea level?", "Which trains run from Leeds to York on Sundays?", "How tall is the Eiffel Tower?")


def links(response: httpx.Response) -> dict[str, str]:
    """rel -> target of an RFC 8288 Link header."""
    found = {}
    for part in filter(None, response.headers.get("link", "").split(", ")):
        target, rel = part.split("; ")
        found[rel.removeprefix('rel="').removesuffix('"')] = target.strip("<>")
    return found


def walk(client: httpx.Client, url: str) -> tuple[list, set[int]]:
    """Every item, following rel="next" from `url`; and the totals each page reported."""
    items, totals = [], set()
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json()
        items += page["gaps"] if isinstance(page, dict) else page
        totals.add(int(response.headers["x-total-count"]))
        url = links(response).get("next", "")
    return items, totals


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, Services]]:
    services = small_services(tmp_path, database_url)
    for n in range(5):
        tags = ["paging"] if n % 2 == 0 else ["other"]
        services.reflections.create(ReflectionCreate(what_happened=f"Step {n} of a trial.", what_we_learned=f"Lesson number {n}.", tags=tags))
    for question in QUESTIONS:
        services.answers.answer(question)
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, services
    services.catalog.engine.dispose()


def test_reflections_page_with_total_and_links(served) -> None:
    client, _ = served
    everything = client.get("/reflections").json()
    assert len(everything) == 5
    first = client.get("/reflections", params={"limit": 2})
    assert [r["id"] for r in first.json()] == [r["id"] for r in everything[:2]]
    assert first.headers["x-total-count"] == "5" and links(first) == {"next": "/reflections?limit=2&offset=2"}
    middle = client.get("/reflections", params={"limit": 2, "offset": 2})
    assert links(middle) == {"next": "/reflections?limit=2&offset=4", "prev": "/reflections?limit=2&offset=0"}
    last = client.get("/reflections", params={"limit": 2, "offset": 4})
    assert len(last.json()) == 1 and links(last) == {"prev": "/reflections?limit=2&offset=2"}
    beyond = client.get("/reflections", params={"limit": 2, "offset": 9})
    assert beyond.json() == [] and beyond.headers["x-total-count"] == "5" and links(beyond) == {"prev": "/reflections?limit=2&offset=7"}
    walked, totals = walk(client, "/reflections?limit=2")
    assert [r["id"] for r in walked] == [r["id"] for r in everything] and totals == {5}


def test_a_tag_filter_pages_its_matches_and_links_keep_it(served) -> None:
    client, _ = served
    first = client.get("/reflections", params={"tag": "paging", "limit": 2})
    assert first.headers["x-total-count"] == "3" and all("paging" in r["tags"] for r in first.json())
    assert links(first) == {"next": "/reflections?tag=paging&limit=2&offset=2"}
    walked, totals = walk(client, "/reflections?tag=paging&limit=2")
    assert len({r["id"] for r in walked}) == 3 and totals == {3}


def test_documents_page_with_total_per_source_type(served) -> None:
    client, services = served
    walked, totals = walk(client, "/documents?limit=2")
    assert len({d["id"] for d in walked}) == len(walked) == 6 and totals == {6}  # one report, five reflections
    reflections = client.get("/documents", params={"source_type": "reflection", "limit": 4, "offset": 4})
    assert reflections.headers["x-total-count"] == "5" and len(reflections.json()) == 1
    assert links(reflections) == {"prev": "/documents?source_type=reflection&limit=4&offset=0"}
    assert services.catalog.count_documents("report") == 1


def test_gaps_page_with_total(served) -> None:
    client, services = served
    everything = client.get("/gaps").json()["gaps"]
    assert len(everything) == len(services.gaps.gaps()) >= 2
    page = client.get("/gaps", params={"limit": 1, "offset": 1})
    assert page.json()["gaps"] == everything[1:2] and page.headers["x-total-count"] == str(len(everything))
    walked, totals = walk(client, "/gaps?limit=1")
    assert walked == everything and totals == {len(everything)}


BAD_BOUNDS = [
    ("/reflections", {"limit": 0}),
    ("/reflections", {"limit": 501}),
    ("/reflections", {"offset": -1}),
    ("/reflections", {"offset": "soon"}),
    ("/reflections", {"offset": 2**31}),
    ("/documents", {"limit": 501}),
    ("/documents", {"offset": -5}),
    ("/gaps", {"limit": 1001}),
    ("/gaps", {"offset": "x"}),
]


def test_bad_bounds_get_422(served) -> None:
    client, _ = served
    for path, params in BAD_BOUNDS:
        response = client.get(path, params=params)
        assert response.status_code == 422 and "detail" in response.json(), (path, params, response.status_code)
