"""Text with a NUL character is refused with 422 naming the field, in bodies, query parameters and
paths alike, on SQLite and on PostgreSQL (which cannot store it); services refuse it too, so Slack
and CLI text is covered."""

from collections.abc import Iterator

import httpx
import pytest

from bot.http.app import create_app
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from index import InputRejected
from tests.conftest import DATABASES, LiveServer, small_services, throwaway_database

NUL = "a\u0000b"
LESSON = {
    "what_happened": "We ran a quarterly learning conversation with three providers instead of monthly returns.",
    "what_we_learned": "Providers raised failures early once the conversation was not tied to payment.",
}


@pytest.fixture(scope="module", params=DATABASES)
def services(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    root = tmp_path_factory.mktemp(f"nul-{request.param}")
    with throwaway_database(request.param, root) as url:
        built = small_services(root, url)
        yield built
        built.catalog.engine.dispose()


@pytest.fixture(scope="module")
def api(services: Services) -> Iterator[httpx.Client]:
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _refused(response: httpx.Response, *loc: object) -> None:
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["loc"] == list(loc) and "NUL" in p["msg"] for p in problems), problems


def test_question(api: httpx.Client) -> None:
    _refused(api.post("/ask", json={"question": NUL}), "body", "question")


def test_history_turn(api: httpx.Client) -> None:
    _refused(api.post("/ask", json={"question": "What helps?", "history": [{"role": "user", "text": NUL}]}), "body", "history", 0, "text")


def test_filter_tag(api: httpx.Client) -> None:
    _refused(api.post("/ask", json={"question": "What helps?", "filters": {"tag": NUL}}), "body", "filters", "tag")


@pytest.mark.parametrize("field", ["what_happened", "what_we_learned", "what_next", "author", "team", "place"])
def test_each_reflection_field(api: httpx.Client, services: Services, field: str) -> None:
    _refused(api.post("/reflections", json={**LESSON, field: NUL}), "body", field)
    assert services.reflections.list() == []


def test_reflection_tags(api: httpx.Client, services: Services) -> None:
    _refused(api.post("/reflections", json={**LESSON, "tags": ["fine", NUL]}), "body", "tags", 1)
    assert services.reflections.list() == []


@pytest.mark.parametrize("field", ["question_id", "comment"])
def test_feedback_fields(api: httpx.Client, field: str) -> None:
    _refused(api.post("/feedback", json={"question_id": "q", "helpful": False, field: NUL}), "body", field)


@pytest.mark.parametrize(("path", "params", "name"), [("/search", {"q": NUL}, "q"), ("/search", {"q": "risk", "tag": NUL}, "tag")] + [("/reflections", {name: NUL}, name) for name in ("tag", "team", "place")])
def test_query_parameters(api: httpx.Client, path: str, params: dict, name: str) -> None:
    _refused(api.get(path, params=params), "query", name)


@pytest.mark.parametrize(("method", "kwargs"), [("get", {}), ("patch", {"json": {"status": "published"}}), ("delete", {})])
def test_reflection_id_in_the_path(api: httpx.Client, method: str, kwargs: dict) -> None:
    _refused(api.request(method, "/reflections/a%00b", **kwargs), "path", "reflection_id")


def test_services_refuse_it_for_slack_and_cli(services: Services) -> None:
    """Slack and the CLI call the services directly: they refuse NUL by naming the field."""
    with pytest.raises(InputRejected) as caught:
        services.answers.answer(NUL, surface="slack")
    assert caught.value.field == "question"
    for field in ("what_happened", "what_we_learned", "what_next", "author", "team", "place"):
        unchecked = ReflectionCreate.model_construct(**{**LESSON, "what_next": "", "author": "", "team": "", "place": "", "tags": [], field: f"{LESSON.get(field, 'x')}\u0000"})
        with pytest.raises(InputRejected) as caught:
            services.reflections.create(unchecked, origin="slack")
        assert caught.value.field == field
    assert services.reflections.list() == []
