"""The web pages in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; never a
downloaded browser): axe-core finds no WCAG 2.2 AA violation on any page, a keyboard-only path
works, everything works with JavaScript off, sign-in keeps an HttpOnly SameSite=Strict cookie, and
no page asks any other host for anything. Screenshots of each page go to var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from pydantic import SecretStr

from bot.http.app import create_app
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from tests.conftest import REPO, LiveServer, clone_services

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / "var" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
ANSWERED = "How should a funder think about risk in complexity-friendly funding?"
UNANSWERED = "What is the parking permit fee for zebra crossings in Wales?"
KEYS = "reader:read,boss:admin"


@pytest.fixture(scope="module")
def services(ingested: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The bundled corpus (real model) with review on, a published and a pending reflection, and
    questions that left gaps."""
    built = clone_services(ingested, tmp_path_factory.mktemp("web-browser") / "var", review=True)
    lesson = ReflectionCreate(
        what_happened="We swapped monthly KPI returns for a quarterly learning conversation with three providers.",
        what_we_learned="Providers raised failures early once the conversation was not tied to payment.",
        tags=["commissioning", "learning"], team="Adult commissioning", place="Devon",
    )
    built.reflections.set_status(built.reflections.create(lesson, "api").id, "published")
    built.reflections.create(lesson.model_copy(update={"what_next": "Try it with the homelessness contracts."}), "api")
    for question in (UNANSWERED, "Who co-chairs the steering group?", ANSWERED):
        built.answers.answer(question, surface="api")
    yield built
    built.gap_rechecks.wait()
    built.catalog.engine.dispose()


@pytest.fixture(scope="module")
def server(services: Services) -> Iterator[LiveServer]:
    with LiveServer(create_app(services.settings, services)) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Fails, never skips, without the browser or axe-core: `make install` puts both there."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium package", pytrace=False)
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` runs npm ci", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


def new_context(browser: Browser, server: LiveServer, **options: object) -> BrowserContext:
    """A context that records every request it makes, so a test can check none leaves the server."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 900}, **options)
    context.requested = []  # type: ignore[attr-defined]
    context.on("request", lambda request: context.requested.append(request.url))  # type: ignore[attr-defined]
    return context


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    assert len(result["passes"]) > 10, "axe-core checked almost nothing: is the page empty?"
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in result["violations"]]


def shoot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def first_passage(services: Services) -> int:
    return services.searcher.search("salami slicing", 1)[0].chunk_id


def pages(services: Services) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("answer-page", f"/answer?q={ANSWERED}"),
        ("answer-related", "/answer?q=Who co-chairs the steering group?"),
        ("answer-abstain", f"/answer?q={UNANSWERED}"),
        ("precedents-page", "/precedents?q=salami+slicing&source_type=report&year_from=2010&year_to=2023"),
        ("precedents-errors", "/precedents?q=salami&year_from=abc&year_to=1700"),
        ("passage", f"/passages/{first_passage(services)}?q=salami+slicing"),
        ("learning", "/learning"),
        ("knowledge-gaps", "/knowledge-gaps"),
        ("review", "/review"),
        ("sign-in", "/sign-in"),
        ("not-found", "/passages/999999"),
    ]


def test_every_page_has_no_axe_violations_and_uses_only_this_server(browser: Browser, server: LiveServer, services: Services) -> None:
    context = new_context(browser, server)
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    for name, path in pages(services):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        shoot(page, name)
        found[name] = axe_violations(page)
    errors = context.new_page()
    errors.goto("/learning")
    errors.get_by_role("button", name="Share").click()
    expect(errors.locator(".govuk-error-summary")).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    shoot(errors, "learning-errors")
    found["learning-errors"] = axe_violations(errors)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert context.requested and all(url.startswith(server.url + "/") for url in context.requested), context.requested  # type: ignore[attr-defined]


def test_the_answer_page_links_each_mark_to_its_citation_and_passage(browser: Browser, server: LiveServer) -> None:
    context = new_context(browser, server)
    page = context.new_page()
    page.goto(f"/answer?q={ANSWERED}")
    marks = page.locator("#answer-text a[href^='#citation-']")
    assert marks.count() >= 1
    marks.first.click()
    target = page.url.split("#")[1]
    citation = page.locator(f"#{target}")
    expect(citation.locator("blockquote")).to_be_visible()
    expect(citation).to_contain_text("Year")
    citation.get_by_role("link", name=re.compile("Open passage")).click()
    expect(page).to_have_url(re.compile(r"/passages/\d+"))
    expect(page.locator("#reference")).to_contain_text("(")
    context.close()


def test_search_open_and_share_work_without_javascript(browser: Browser, server: LiveServer, services: Services) -> None:
    context = new_context(browser, server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Search for precedents").fill("salami slicing")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-count")).to_contain_text("passage")
    expect(page.locator("mark").first).to_be_visible()
    page.locator("ol.govuk-list a[href^='/passages/']").first.click()
    expect(page.get_by_role("heading", name="This passage", exact=True)).to_be_visible()
    page.goto("/learning")
    page.get_by_label("What happened").fill("We ran the no-script test of the share form in a library.")
    page.get_by_label("What you learned", exact=False).first.fill("Forms post and come back with a banner without any script.")
    page.get_by_role("button", name="Share").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("waiting for review")
    assert any(r.what_happened.startswith("We ran the no-script test") for r in services.reflections.list(status="pending", limit=500))
    context.close()


def tab_to(page: Page, test: str, presses: int = 60) -> None:
    """Press Tab until the focused element satisfies the JS predicate `test` (given the element)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {test})(document.activeElement)"):
            return
    raise AssertionError(f"focus never reached an element where {test}")


def test_keyboard_only_search_open_and_share(browser: Browser, server: LiveServer, services: Services) -> None:
    context = new_context(browser, server)
    page = context.new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    tab_to(page, "el.id === 'search-q'")
    page.keyboard.type("salami slicing")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/precedents\?q=salami"))
    tab_to(page, "el.matches('ol.govuk-list a[href^=\"/passages/\"]')")
    focus = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
    assert focus == "rgb(255, 221, 0)", f"no visible focus on the result link: {focus}"  # GOV.UK's yellow focus state
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/passages/\d+"))
    tab_to(page, "el.textContent.trim() === 'Learning'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/learning"))
    tab_to(page, "el.id === 'what_happened'")
    page.keyboard.type("We tried the keyboard-only path through the pages with a screen reader user.")
    page.keyboard.press("Tab")
    page.keyboard.type("Every step can be done without a mouse.")
    tab_to(page, "el.textContent.trim() === 'Share'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/learning\?shared=pending"))
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    assert any(r.what_we_learned == "Every step can be done without a mouse." for r in services.reflections.list(status="pending", limit=500))
    context.close()


def test_review_approves_in_the_browser(browser: Browser, server: LiveServer, services: Services) -> None:
    pending = services.reflections.create(ReflectionCreate(what_happened="A reviewer's browser test happened here today.", what_we_learned="Approving from the page publishes it."), "api")
    context = new_context(browser, server)
    page = context.new_page()
    page.goto("/review")
    page.locator(f"form[action='/review/{pending.id}']").get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("approved")
    assert services.reflections.get(pending.id).status == "published"
    context.close()


def test_sign_in_keeps_an_httponly_strict_cookie(browser: Browser, services: Services) -> None:
    settings = services.settings.model_copy(update={"api_keys": SecretStr(KEYS)})
    with LiveServer(create_app(settings, services)) as keyed:
        context = new_context(browser, keyed)
        page = context.new_page()
        page.goto("/knowledge-gaps")
        expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fknowledge-gaps"))
        page.get_by_label("API key").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a valid API key")
        assert axe_violations(page) == []
        page.get_by_label("API key").fill("boss")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/knowledge-gaps$"))
        expect(page.locator("svg.app-chart")).to_be_visible()
        cookie = next(c for c in context.cookies() if c["name"] == "learnloop_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and "boss" not in cookie["value"]
        assert "learnloop_session" not in page.evaluate("document.cookie")  # scripts cannot read it
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/sign-in$"))
        context.close()


def test_the_api_docs_work_offline(browser: Browser, server: LiveServer) -> None:
    """/docs renders every operation from this server's own copy of Swagger UI: FastAPI's default
    page loads it from a CDN, a blank page offline and a third-party request online."""
    context = new_context(browser, server)
    page = context.new_page()
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/ask").first).to_be_visible()
    assert page.locator(".opblock").count() >= 10
    assert server.url + "/openapi.json" in context.requested  # type: ignore[attr-defined]
    assert all(url.startswith(server.url + "/") or url.startswith("data:") for url in context.requested), context.requested  # type: ignore[attr-defined]
    context.close()
    assert httpx.get(f"{server.url}/redoc").status_code == 404  # CDN-only: not offered
