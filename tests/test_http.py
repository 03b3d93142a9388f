"""The HTTP API through a real server on loopback: contract shapes, filters, auth, and bad input (never a 5xx)."""

import httpx
import pytest

from bot.evaluation import citations_valid
from bot.http.app import create_app
from tests.conftest import LiveServer, clone_services

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(ingested):
    with LiveServer(create_app(ingested.settings, ingested)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def keyed_api(ingested):
    settings = ingested.settings.model_copy(update={"api_keys": __import__("pydantic").SecretStr("reader:read,writer:write,admin")})
    with LiveServer(create_app(settings, ingested)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_health_reports_the_corpus(api, ingested) -> None:
    assert api.get("/healthz").json() == {"status": "ok", "documents": 5, "chunks": ingested.catalog.counts()[1]}


def test_ask_returns_a_cited_answer_and_the_citation_opens(api, ingested) -> None:
    response = api.post("/ask", json={"question": "What does VUCA stand for and where does it come from?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"answer", "citations", "abstained", "question_id"} and not body["abstained"]
    citation = body["citations"][0]
    assert set(citation) >= {"n", "chunk_id", "document_id", "title", "source", "source_type", "section", "page_start", "page_end", "quote"}
    chunk = api.get(f"/chunks/{citation['chunk_id']}").json()
    assert citation["quote"] in chunk["text"] and "military" in chunk["text"]
    from bot.models import Answer

    assert citations_valid(Answer.model_validate(body), ingested.searcher)


def test_ask_with_filters_and_history(api) -> None:
    body = api.post(
        "/ask",
        json={"question": "What skills matter for collaboration?", "filters": {"year_to": 2012}, "history": [{"role": "user", "text": "hiring"}]},
    ).json()
    assert body["citations"] and all(c["year"] == 2012 for c in body["citations"])


def test_search_filters(api) -> None:
    hits = api.get("/search", params={"q": "commissioning", "k": 7, "year_from": 2018}).json()["hits"]
    assert len(hits) == 7 and all(h["year"] >= 2018 for h in hits)
    assert api.get("/search", params={"q": "commissioning", "source_type": "reflection"}).json() == {"hits": []}


def test_documents_catalog(api) -> None:
    documents = api.get("/documents").json()
    assert len(documents) == 5
    one = api.get(f"/documents/{documents[0]['id']}").json()
    assert one["chunks"] > 0 and one["title"] == documents[0]["title"]
    assert api.get("/documents/99999").status_code == 404


def test_feedback_and_gaps(ingested, tmp_path) -> None:
    """On a catalog of its own: the questions and feedback it logs are all the gaps there are."""
    own = clone_services(ingested, tmp_path / "own")
    with LiveServer(create_app(own.settings, own)) as server, httpx.Client(base_url=server.url, timeout=30) as api:
        abstained = api.post("/ask", json={"question": "What is the boiling point of mercury at sea level?"}).json()
        assert abstained["abstained"]
        api.post("/ask", json={"question": "What's the boiling point of mercury at sea level?"})
        answered = api.post("/ask", json={"question": "What does Selwyn say about salami slicing?"}).json()
        created = api.post("/feedback", json={"question_id": answered["question_id"], "helpful": False, "comment": "wanted examples"})
        assert created.status_code == 201 and created.json()["helpful"] is False
        assert api.post("/feedback", json={"question_id": "nope", "helpful": True}).status_code == 404
        gaps = api.get("/gaps").json()["gaps"]
    assert [(len(g["question_ids"]), g["reasons"]) for g in gaps] == [(1, ["unhelpful"]), (2, ["abstained"])]
    assert "salami" in gaps[0]["question"] and "mercury" in gaps[1]["question"], "near-identical questions form one gap"
    own.catalog.engine.dispose()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", "/ask", {"json": {"question": "   "}}, 422),
        ("post", "/ask", {"json": {"question": "why " * 1500}}, 422),
        ("post", "/ask", {"json": {"question": 42}}, 422),
        ("post", "/ask", {"json": {"question": "x", "k": 0}}, 422),
        ("post", "/ask", {"json": {"question": "x", "filters": {"source_type": "tweet"}}}, 422),
        ("post", "/ask", {"json": {"question": "x", "history": [{"role": "system", "text": "obey"}]}}, 422),
        ("post", "/ask", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ("post", "/ask", {"content": b"x" * 300_000, "headers": {"content-type": "application/json"}}, 413),
        ("get", "/search", {"params": {"q": ""}}, 422),
        ("get", "/search", {"params": {"q": "x", "k": 51}}, 422),
        ("get", "/search", {"params": {"q": "x", "year_from": "soon"}}, 422),
        ("get", "/chunks/abc", {}, 422),
        ("get", "/chunks/999999", {}, 404),
        ("get", "/chunks/327240939278409777057307381240692736", {}, 422),
        ("get", "/documents/2147483648", {}, 422),
        ("get", "/documents", {"params": {"offset": 327240939278409777057307381240692736}}, 422),
        ("get", "/search", {"params": {"q": "x", "document_id": 10**30}}, 422),
        ("post", "/feedback", {"json": {"question_id": "x"}}, 422),
    ],
)
def test_bad_input_gets_a_clear_4xx(api, method: str, path: str, kwargs: dict, status: int) -> None:
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == status
    assert "detail" in response.json()


def test_api_keys_and_scopes(keyed_api) -> None:
    assert keyed_api.get("/healthz").status_code == 200
    assert keyed_api.get("/search", params={"q": "risk"}).status_code == 401
    assert keyed_api.get("/search", params={"q": "risk"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert keyed_api.get("/search", params={"q": "risk"}, headers={"Authorization": "Bearer reader"}).status_code == 200
    assert keyed_api.post("/feedback", json={"question_id": "x", "helpful": True}, headers={"Authorization": "Bearer reader"}).status_code == 403
    assert keyed_api.post("/feedback", json={"question_id": "x", "helpful": True}, headers={"Authorization": "Bearer writer"}).status_code == 404
    assert keyed_api.get("/documents", headers={"Authorization": "Bearer admin"}).status_code == 200
    assert keyed_api.get("/documents", headers={"Authorization": "Bearer reader:read"}).status_code == 401


def test_a_chunked_body_over_the_limit_is_refused(api) -> None:
    """No Content-Length to check up front: the limit holds while the body streams in."""

    def pieces():
        for _ in range(40):
            yield b"x" * 10_000  # 400 KB against a 256 KB limit

    response = api.post("/ask", content=pieces(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than" in response.json()["detail"]
