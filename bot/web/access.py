"""Page dependencies: who the visitor is (from the sign-in cookie) and whether a posted form is theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from bot.http.deps import RANK
from bot.services import Services
from bot.settings import ApiScope
from bot.web.errors import PageError, SignInRequired
from bot.web.passages import Passages
from bot.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, WebSecurity
from bot.web.templating import Renderer


def security_of(request: Request) -> WebSecurity:
    return request.app.state.web_security


async def services_of(request: Request) -> Services:
    """The app's services, as the API's get_services, but async: a page then costs one worker-thread
    hop (its handler), not one per dependency."""
    return request.app.state.services


async def passages_of(request: Request) -> Passages:
    """Made on first use: the catalog exists only once the lifespan has built the services."""
    state = request.app.state
    if getattr(state, "web_passages", None) is None:
        state.web_passages = Passages(state.services.catalog.engine)
    return state.web_passages


async def renderer_of(request: Request) -> Renderer:
    return request.app.state.web_renderer


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def page_scope(needed: ApiScope):  # noqa: ANN201 - a FastAPI dependency factory
    """A dependency giving the visitor's scope; signs them in first, and refuses (403) one below `needed`."""

    async def check(request: Request) -> ApiScope:  # async: no thread hop for a cookie check
        scope = security_of(request).session_scope(request.cookies.get(SESSION_COOKIE))
        if scope is None:
            raise SignInRequired(_here(request))
        if RANK[scope] < RANK[needed]:
            raise PageError(403, "You cannot see this page", f"This page needs a key with {needed} scope; you signed in with a {scope} key.")
        return scope

    return Depends(check)


ReadPage = Annotated[ApiScope, page_scope("read")]
AdminPage = Annotated[ApiScope, page_scope("admin")]
RendererDep = Annotated[Renderer, Depends(renderer_of)]
PageServices = Annotated[Services, Depends(services_of)]
PassagesDep = Annotated[Passages, Depends(passages_of)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the visitor's CSRF and session cookies; otherwise a 400 page."""
    form = await request.form()
    if not security_of(request).csrf_valid(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD), request.cookies.get(SESSION_COOKIE)):
        raise PageError(400, "This form has expired", "Go back, reload the page and send the form again.")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
