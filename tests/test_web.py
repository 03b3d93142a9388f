"""The web pages in process (no browser): what each page says, escaping, CSRF, sign-in, validation
shared with the API, filters, review, the weekly chart, and that the JSON API is unchanged.

The browser tests (real Chromium, axe-core, keyboard, JavaScript off) are in test_web_browser.py."""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session

from bot.http.app import create_app
from bot.http.guesses import WINDOW_S, WRONG_KEYS
from bot.records import QueryLog
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from bot.web.chart import weekly_outcomes, weekly_svg
from bot.web.errors import local_path
from bot.web.secret import web_secret
from bot.web.security import CSRF_COOKIE, SESSION_COOKIE, WebSecurity
from bot.web.text import highlight, linked_markers, reference
from tests.conftest import REPO, small_services, throwaway_database

LESSON = {
    "what_happened": "We swapped monthly KPI returns for a quarterly learning conversation with three providers.",
    "what_we_learned": "Providers raised failures early once the conversation was not tied to payment.",
}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    root = tmp_path_factory.mktemp("web")
    with throwaway_database("sqlite", root) as url:
        built = small_services(root, url, review=True)
        yield built
        built.gap_rechecks.wait()
        built.catalog.engine.dispose()


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services), follow_redirects=False) as c:
        yield c


def token(client: TestClient, path: str = "/learning") -> str:
    page = client.get(path)
    assert page.status_code in (200, 401), page.text[:300]
    return TOKEN.search(page.text).group(1)


def chunk_id(services: Services, query: str = "collaboration") -> int:
    return services.searcher.search(query, 1)[0].chunk_id


def test_every_page_renders_as_html(client: TestClient, services: Services) -> None:
    for path in ("/", "/answer?q=How+do+partners+collaborate", "/precedents?q=collaboration", f"/passages/{chunk_id(services)}",
                 "/learning", "/knowledge-gaps", "/review", "/sign-in"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="en"' in page.text and 'id="main-content"' in page.text
        assert "govuk-crest" not in page.text and "GDS Transport" not in page.text  # not a GOV.UK service: no crown, no font


def test_the_json_api_keeps_its_json_errors(client: TestClient) -> None:
    missing = client.get("/chunks/999999")
    assert missing.status_code == 404 and missing.json() == {"detail": "No chunk with id 999999."}
    assert client.get("/search", params={"q": ""}).headers["content-type"] == "application/json"
    page = client.get("/passages/999999")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html") and "Passage not found" in page.text
    for bad in ("/passages/abc", "/passages/99999999999999999999"):
        assert client.get(bad).status_code == 404


def test_assets_come_from_the_package_and_match_npm(client: TestClient) -> None:
    """The script is govuk-frontend's own build from package.json's version; nothing is fetched from elsewhere."""
    shipped = files("bot.web") / "static"
    served = client.get("/assets/govuk-frontend.min.js")
    assert served.status_code == 200 and served.content == (shipped / "govuk-frontend.min.js").read_bytes()
    npm = REPO / "node_modules" / "govuk-frontend" / "dist" / "govuk" / "govuk-frontend.min.js"
    assert npm.is_file(), "node_modules is missing: `make install` runs npm ci"
    assert served.content == npm.read_bytes()
    css = client.get("/assets/learnloop.css")
    assert css.status_code == 200 and ".govuk-button" in css.text and "arial" in css.text.lower()
    page = client.get("/").text
    assert not re.search(r'(src|href)="(https?:)?//', page), "a page refers to another site"


def test_text_is_escaped_everywhere(client: TestClient, services: Services) -> None:
    hostile = "<script>alert(1)</script> & <b>bold</b>"
    services.reflections.set_status(services.reflections.create(ReflectionCreate(what_happened=LESSON["what_happened"], what_we_learned=f"{LESSON['what_we_learned']} {hostile}", team=hostile)).id, "published")
    for path in ("/learning", "/", f"/answer?q={hostile}", f"/precedents?q={hostile}"):
        text = client.get(path).text
        assert "<script>alert(1)</script>" not in text and "<b>bold</b>" not in text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/learning").text


def test_highlight_and_citation_links_escape_first() -> None:
    marked = str(highlight("Partners <i>collaborate</i> & go on collaborating", "collaboration"))
    assert marked == "Partners &lt;i&gt;<mark>collaborate</mark>&lt;/i&gt; &amp; go on <mark>collaborating</mark>"
    assert str(highlight("<b>", "")) == "&lt;b&gt;"
    linked = str(linked_markers("Trust grows <slowly> [1] and [12]."))
    assert linked == ('Trust grows &lt;slowly&gt; <a class="govuk-link" href="#citation-1" aria-label="source 1">[1]</a> and '
                      '<a class="govuk-link" href="#citation-12" aria-label="source 12">[12]</a>.')
    assert reference(["Toby Lowe", "Max French"], 2021, "Human Learning Systems", "Centre for Public Impact", "Part 2", 4, 5) == (
        "Toby Lowe, Max French (2021) Human Learning Systems. Centre for Public Impact. Part 2, pp. 4-5."
    )
    assert reference([], None, "Notes", "", "", None, None) == "Unknown author (n.d.) Notes."


def test_answer_page_cites_and_links_each_mark(client: TestClient) -> None:
    page = client.get("/answer", params={"q": "What helps partners behave like a system and collaborate?"})
    assert page.status_code == 200
    marks = set(re.findall(r'href="#citation-(\d+)"', page.text))
    assert marks, page.text[:2000]
    for n in marks:
        assert f'id="citation-{n}"' in page.text
    assert re.search(r'href="/passages/\d+\?q=', page.text)


def test_answer_page_sends_an_empty_question_back_with_an_error(client: TestClient) -> None:
    page = client.get("/answer", params={"q": "   "})
    assert page.status_code == 422
    assert "There is a problem" in page.text and 'href="#question"' in page.text and 'id="question"' in page.text
    assert page.text.count("<title>Error: ") == 1
    long = client.get("/answer", params={"q": "why " * 1200})
    assert long.status_code == 422 and "4000 characters or fewer" in long.text


def test_precedents_filters_counts_highlight_and_pages(client: TestClient, services: Services) -> None:
    page = client.get("/precedents", params={"q": "collaboration", "source_type": "report", "year_from": "2000", "year_to": "2030"})
    assert page.status_code == 200
    count = int(re.search(r'id="results-count">\s*(\d+) passage', page.text).group(1))
    reports = sum(1 for i in services.catalog.chunk_ids() if services.searcher.meta(i).source_type == "report")
    assert count == reports == 30 and "<mark>collaboration</mark>" in page.text.lower()
    assert 'aria-label="Page 3"' in page.text and 'aria-label="Page 4"' not in page.text
    assert 'value="report" checked' in page.text
    assert re.search(r'href="/precedents\?q=collaboration&amp;source_type=report&amp;year_from=2000&amp;year_to=2030&amp;page=2"', page.text)
    second = client.get("/precedents", params={"q": "collaboration", "source_type": "report", "page": "2"})
    assert "Showing 11 to 20" in second.text
    for odd in ("0", "99", "x", "9" * 5000):
        assert client.get("/precedents", params={"q": "collaboration", "page": odd}).status_code == 200
    reflections_only = client.get("/precedents", params={"q": "collaboration", "source_type": "reflection"})
    assert "No passages found" in reflections_only.text or "Reflections" in reflections_only.text
    assert "Report" not in re.findall(r'govuk-tag--grey">\s*(\w+)', reflections_only.text)
    assert set(re.findall(r'govuk-tag--grey">\s*(\w+)', page.text)) == {"Report"}


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"year_from": "abc"}, "year_from", "Year from must be a whole number"),
        ({"year_to": "1700"}, "year_to", "Year to must be between 1800 and 2200"),
        ({"year_from": "2020", "year_to": "2010"}, "year_from", "Year from must be the same as or before year to"),
        ({"source_type": "memo"}, "source_type", "Choose source type from the list"),
        ({"source_type": ["report", "learning_log", "memo"]}, "source_type", "Choose source type from the list"),
        ({"tag": "t" * 65}, "tag", "Tag must be 64 characters or fewer"),
        ({"tag": "a\x00b"}, "tag", "Tag must not contain a NUL character"),
    ],
)
def test_precedent_filters_are_checked_like_the_api(client: TestClient, params: dict, field: str, text: str) -> None:
    api = client.get("/search", params={"q": "collaboration", **params})
    page = client.get("/precedents", params={"q": "collaboration", **params})
    if field != "year_from" or "year_to" not in params:  # the page also checks the range's order, which /search leaves to the caller
        assert api.status_code == 422
    assert page.status_code == 422 and f'href="#{field}"' in page.text and text in html.unescape(page.text)


def test_passage_page_shows_neighbours_and_a_reference(client: TestClient, services: Services) -> None:
    chunks = sorted(services.catalog.chunk_ids())
    middle = chunks[len(chunks) // 2]
    page = client.get(f"/passages/{middle}", params={"q": "system"})
    assert page.status_code == 200
    assert "This passage" in page.text and "Before" in page.text and "After" in page.text
    assert re.search(r"Passage \d+ of \d+ in this document", page.text)
    assert 'id="reference"' in page.text and "(2015)" in page.text
    assert f'href="/passages/{chunks[len(chunks) // 2 - 1]}?q=system"' in page.text


def share(client: TestClient, **fields: str) -> object:
    return client.post("/learning", data={"csrf_token": token(client), **LESSON, **fields})


def test_share_form_needs_its_csrf_token(client: TestClient, services: Services) -> None:
    before = len(services.reflections.list(status="pending", limit=500))
    assert client.post("/learning", data=LESSON).status_code == 400
    assert client.post("/learning", data={**LESSON, "csrf_token": "forged"}).status_code == 400
    stolen = token(client)
    with TestClient(client.app, follow_redirects=False) as stranger:  # a token without its cookie is worthless
        assert stranger.post("/learning", data={**LESSON, "csrf_token": stolen}).status_code == 400
    assert len(services.reflections.list(status="pending", limit=500)) == before
    assert client.cookies.get(CSRF_COOKIE)
    with TestClient(client.app, follow_redirects=False) as odd:  # a cookie the browser sent as Latin-1 bytes: refused, not a 500
        odd_token = token(odd)
        odd.cookies.clear()
        assert odd.post("/learning", data={**LESSON, "csrf_token": odd_token}, headers={"cookie": f"{CSRF_COOKIE}=caf\xe9".encode("latin-1")}).status_code == 400


def test_shared_learning_waits_for_review_and_is_approved_on_the_review_page(client: TestClient, services: Services) -> None:
    sent = share(client, what_next="web review", tags="Commissioning, learning", team="Adult care", place="Devon")
    assert sent.status_code == 303 and sent.headers["location"] == "/learning?shared=pending#shared"
    pending = [r for r in services.reflections.list(status="pending", limit=500) if r.what_next == "web review"]
    assert len(pending) == 1 and pending[0].origin == "web" and pending[0].tags == ["commissioning", "learning"]
    queue = client.get("/review")
    assert f'action="/review/{pending[0].id}"' in queue.text
    assert client.post(f"/review/{pending[0].id}", data={"decision": "published"}).status_code == 400  # no token
    bad = client.post(f"/review/{pending[0].id}", data={"decision": "maybe", "csrf_token": token(client)})
    assert bad.status_code == 400
    done = client.post(f"/review/{pending[0].id}", data={"decision": "published", "csrf_token": token(client)})
    assert done.status_code == 303 and done.headers["location"] == "/review?done=published"
    assert services.reflections.get(pending[0].id).status == "published"
    listed = client.get("/learning", params={"team": "Adult care", "tag": "commissioning"})
    assert "web review" in listed.text and "1 published reflection" in listed.text
    assert client.post("/review/no-such-id", data={"decision": "rejected", "csrf_token": token(client)}).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"what_happened": "   "}, "what_happened", "What happened is required and cannot be empty."),
        ({"what_we_learned": "x" * 4001}, "what_we_learned", "What you learned must be 4000 characters or fewer"),
        ({"what_next": "Call me on 07700 900123"}, "what_next", "Please remove e-mail addresses and phone numbers"),
        ({"team": "a\x00b"}, "team", "Team must not contain a NUL character"),
        ({"tags": "t" * 61}, "tags", "Tags: Value error, each tag must be at most 60 characters"),
    ],
)
def test_share_form_validates_like_the_api(client: TestClient, fields: dict, field: str, text: str) -> None:
    api_body = {**LESSON, **fields}
    if "tags" in fields:
        api_body["tags"] = [fields["tags"]]
    assert client.post("/reflections", json=api_body).status_code == 422
    page = share(client, **fields)
    assert page.status_code == 422
    body = html.unescape(page.text)
    assert "There is a problem" in body and f'href="#{field}"' in body and text in body
    assert f'id="{field}-error"' in body  # the message sits with its field too
    assert LESSON["what_happened"] in body or field == "what_happened"  # what was typed comes back


def test_knowledge_gaps_page_groups_and_charts(client: TestClient, services: Services) -> None:
    client.get("/answer", params={"q": "What is the procurement threshold in Wales for zebra crossings?"})
    page = client.get("/knowledge-gaps")
    assert page.status_code == 200
    assert "zebra crossings" in page.text and "<svg" in page.text and 'role="img"' in page.text
    assert "Questions per week by outcome (the chart&#39;s numbers)" in page.text or "the chart's numbers" in page.text


def test_weekly_outcomes_count_by_week_and_outcome(tmp_path: Path) -> None:
    with throwaway_database("sqlite", tmp_path) as url:
        built = small_services(tmp_path, url)
        now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday
        rows = [(now, True, False), (now - timedelta(days=1), False, False), (now - timedelta(days=2), False, True),
                (now - timedelta(days=7), True, False), (now - timedelta(weeks=9), True, False)]
        with Session(built.catalog.engine) as session:
            for created, answered, abstained in rows:
                session.add(QueryLog(question="q", answered=answered, abstained=abstained, latency_ms=1.0, created_at=created))
            session.add(QueryLog(question="private", answered=True, abstained=False, latency_ms=1.0, created_at=now, private=True))
            session.commit()
        weeks = weekly_outcomes(built.catalog.engine, weeks=8, now=now)
        built.catalog.engine.dispose()
    assert [w.start.isoformat() for w in weeks][-2:] == ["2026-11-16", "2026-11-23"]
    assert weeks[-1].counts == {"answer": 1, "related": 1, "abstain": 1}
    assert weeks[-2].counts == {"answer": 1, "related": 0, "abstain": 0}
    assert sum(w.total for w in weeks) == 4  # nine weeks ago and the private question are left out
    svg = str(weekly_svg(weeks))
    assert svg.count("<rect") == 4 and "<title" in svg and "<desc" in svg


def test_local_path_refuses_other_sites() -> None:
    assert local_path("/precedents?q=a") == "/precedents?q=a"
    for bad in ("//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/a\nb", None, ""):
        assert local_path(bad) == "/"


KEYS = "reader:read,writer:write,boss:admin"


@pytest.fixture(scope="module")
def keyed(services: Services) -> Iterator[TestClient]:
    settings = services.settings.model_copy(update={"api_keys": SecretStr(KEYS)})
    with TestClient(create_app(settings, services), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, key: str, next_path: str = "/") -> object:
    client.cookies.clear()
    return client.post("/sign-in", data={"csrf_token": token(client, "/sign-in"), "key": key, "next": next_path})


def test_pages_need_sign_in_when_keys_are_set(keyed: TestClient) -> None:
    keyed.cookies.clear()
    for path in ("/", "/precedents?q=a", "/learning", "/knowledge-gaps"):
        response = keyed.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=%2F"), path
    wrong = sign_in(keyed, "not-a-key")
    assert wrong.status_code == 401 and 'href="#key"' in wrong.text and "Enter a valid API key" in wrong.text
    assert SESSION_COOKIE not in keyed.cookies
    assert keyed.get("/search", params={"q": "a"}).status_code == 401  # the API still wants its bearer key


def test_sign_in_stops_checking_keys_after_too_many_wrong_ones(services: Services) -> None:
    """The sign-in form counts wrong keys like the API: past the limit it says how long to wait
    (429, Retry-After) and checks no key, not even a right one."""
    settings = services.settings.model_copy(update={"api_keys": SecretStr(KEYS)})
    with TestClient(create_app(settings, services), follow_redirects=False) as fresh:
        assert sign_in(fresh, "").status_code == 401  # an empty form is no guess
        for n in range(WRONG_KEYS):
            assert sign_in(fresh, f"guess-{n}").status_code == 401
        for key in ("guess-again", "boss"):
            blocked = sign_in(fresh, key)
            assert blocked.status_code == 429 and "Too many wrong API keys" in blocked.text and 'href="#key"' in blocked.text
            assert 1 <= int(blocked.headers["Retry-After"]) <= WINDOW_S and SESSION_COOKIE not in fresh.cookies


def test_sign_in_keeps_a_signed_httponly_strict_cookie_not_the_key(keyed: TestClient) -> None:
    signed = sign_in(keyed, "reader", "/precedents?q=collaboration")
    assert signed.status_code == 303 and signed.headers["location"] == "/precedents?q=collaboration"
    header = signed.headers["set-cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in header and "SameSite=strict" in header.replace("Strict", "strict")
    assert "reader" not in header
    assert keyed.get("/precedents", params={"q": "collaboration"}).status_code == 200
    refused = keyed.get("/knowledge-gaps")
    assert refused.status_code == 403 and "needs a key with admin scope" in refused.text
    assert "Share what you learned" in keyed.get("/learning").text and "Your key can read but not share" in keyed.get("/learning").text
    assert sign_in(keyed, "evil", "//evil.example").headers.get("location") is None
    assert sign_in(keyed, "boss", "//evil.example").headers["location"] == "/"
    assert keyed.get("/knowledge-gaps").status_code == 200
    out = keyed.post("/sign-out", data={"csrf_token": token(keyed, "/")})
    assert out.status_code == 303 and keyed.get("/").status_code == 303


def test_a_session_ends_when_its_key_is_revoked_or_forged() -> None:
    secret = b"s" * 32
    before = WebSecurity({"reader": "read", "boss": "admin"}, secret)
    cookie = before.sign_in("reader")
    assert cookie and before.session_scope(cookie) == "read"
    assert before.sign_in("nobody") is None
    after = WebSecurity({"boss": "admin"}, secret)
    assert after.session_scope(cookie) is None
    assert before.session_scope(cookie[:-2] + "xx") is None
    assert before.session_scope("garbage") is None and before.session_scope(None) is None
    csrf = before.new_csrf_cookie()
    assert before.csrf_valid(csrf, before.csrf_token(csrf))
    assert not before.csrf_valid(before.new_csrf_cookie(), before.csrf_token(csrf))
    assert not before.csrf_valid(csrf, None) and not before.csrf_valid(None, before.csrf_token(csrf))


def test_a_csrf_token_is_bound_to_its_session(keyed: TestClient, services: Services) -> None:
    """A visitor without a key gets a CSRF cookie and token from /sign-in; planted in an admin's
    browser (a sibling subdomain can set cookies), that pair must not approve or reject anything."""
    pending = services.reflections.create(ReflectionCreate(**LESSON), "web")
    assert sign_in(keyed, "boss").status_code == 303
    session = keyed.cookies.get(SESSION_COOKIE)
    with TestClient(keyed.app, follow_redirects=False) as stranger:
        planted_token = token(stranger, "/sign-in")
        planted_cookie = stranger.cookies.get(CSRF_COOKIE)
    keyed.cookies.clear()
    keyed.cookies.set(SESSION_COOKIE, session)
    keyed.cookies.set(CSRF_COOKIE, planted_cookie)
    forged = keyed.post(f"/review/{pending.id}", data={"csrf_token": planted_token, "decision": "rejected"})
    assert forged.status_code == 400 and services.reflections.get(pending.id).status == "pending"
    own = token(keyed, "/review")  # the admin's own page, with the same cookies, still works
    assert keyed.post(f"/review/{pending.id}", data={"csrf_token": own, "decision": "rejected"}).status_code == 303
    assert services.reflections.get(pending.id).status == "rejected"
    keyed.cookies.clear()


@pytest.mark.parametrize("odd", ["²", "①", "٣", "１"])
def test_digits_other_than_ascii_are_not_numbers_here(client: TestClient, odd: str) -> None:
    """str.isdigit() says yes to '²' and int() then fails: a passage id or page number is ASCII digits or nothing."""
    assert client.get(f"/passages/{odd}").status_code == 404
    page = client.get("/precedents", params={"q": "collaboration", "page": odd})
    assert page.status_code == 200 and 'aria-current="page"' in page.text


def test_passage_pages_follow_the_catalog_as_it_changes(client: TestClient, services: Services) -> None:
    """Documents kept in reading order are read again after any write: a new reflection opens, an erased one is gone."""
    first = sorted(services.catalog.chunk_ids())[0]
    assert client.get(f"/passages/{first}").status_code == 200  # one document now kept
    created = services.reflections.create(ReflectionCreate(what_happened="Kestrel pilot in Torbay happened this spring.", what_we_learned="Kestrel worked."))
    services.reflections.set_status(created.id, "published")
    chunk = next(h.chunk_id for h in services.searcher.search("Kestrel pilot Torbay", 5) if h.source_type == "reflection")
    page = client.get(f"/passages/{chunk}")
    assert page.status_code == 200 and "Kestrel" in page.text and "Passage 1 of 1" in page.text
    assert services.reflections.delete(created.id)
    assert client.get(f"/passages/{chunk}").status_code == 404
    assert client.get(f"/passages/{first}").status_code == 200


def test_the_signing_secret_is_random_shared_by_replicas_and_not_made_from_the_keys(services: Services, tmp_path: Path) -> None:
    """Two apps on one database (two replicas) accept each other's sign-in; an app with the same keys
    on another database does not, and a CSRF token signed with a secret made from the keys, as
    before b0004, does not verify: a token handed to anyone no longer lets the keys be guessed."""
    settings = services.settings.model_copy(update={"api_keys": SecretStr(KEYS)})
    with TestClient(create_app(settings, services), follow_redirects=False) as first, TestClient(create_app(settings, services), follow_redirects=False) as second:
        assert sign_in(first, "boss").status_code == 303
        second.cookies.set(SESSION_COOKIE, first.cookies.get(SESSION_COOKIE))
        assert second.get("/knowledge-gaps").status_code == 200
        csrf, csrf_token = first.cookies.get(CSRF_COOKIE), token(first, "/")
        from_keys = WebSecurity(settings.api_key_scopes(), hashlib.sha256(b"learnloop-web\x00" + KEYS.encode()).digest())
        assert first.app.state.web_security.csrf_valid(csrf, csrf_token, first.cookies.get(SESSION_COOKIE))
        assert not from_keys.csrf_valid(csrf, csrf_token, first.cookies.get(SESSION_COOKIE))
    assert web_secret(services.catalog.engine) == web_secret(services.catalog.engine)
    with throwaway_database("sqlite", tmp_path) as url:
        elsewhere = small_services(tmp_path, url)
        assert web_secret(elsewhere.catalog.engine) != web_secret(services.catalog.engine)


def test_replicas_starting_together_store_one_secret(tmp_path: Path) -> None:
    """Each of several threads asks a fresh database for the secret at once: one is stored, all get it."""
    with throwaway_database("sqlite", tmp_path) as url:
        engine = small_services(tmp_path, url).catalog.engine
        start = threading.Barrier(4)

        def ask() -> bytes:
            start.wait(10)
            return web_secret(engine)

        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda _: ask(), range(4)))
        assert len(set(got)) == 1 and len(got[0]) == 32
