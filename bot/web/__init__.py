"""Web pages for people without Slack, in GOV.UK Frontend, served by the API's own FastAPI app.

`install_web(app, settings)` adds the page routes, the assets (shipped in this package) at /assets,
and the HTML error pages; `start_web(app, engine)` loads their signing secret once the database is
open. The JSON API keeps its own JSON errors.
"""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from bot.settings import Settings
from bot.web.errors import PageError, SignInRequired
from bot.web.routes import admin, find, learning, sign_in
from bot.web.secret import web_secret
from bot.web.security import SESSION_COOKIE, WebSecurity
from bot.web.templating import Renderer

__all__ = ["install_web", "start_web"]
ASSETS = files("bot.web") / "static"


def install_web(app: FastAPI, settings: Settings) -> None:
    security = WebSecurity(settings.api_key_scopes())  # its secret comes from the database at start (`start_web`)
    app.state.web_security = security
    app.state.web_renderer = renderer = Renderer(security)
    for module in (find, learning, admin, sign_in):
        app.include_router(module.router)
    app.mount("/assets", StaticFiles(directory=str(ASSETS)), name="assets")

    @app.exception_handler(PageError)
    async def page_error(request: Request, error: PageError) -> HTMLResponse:
        scope = security.session_scope(request.cookies.get(SESSION_COOKIE))
        return renderer.render(request, "error.html", {"title": error.title, "message": error.message}, scope, status=error.status)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(_: Request, error: SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"/sign-in?next={quote(error.next_path, safe='')}", status_code=303)


def start_web(app: FastAPI, engine: Engine) -> None:
    """Load the pages' signing secret from the database (made there on the first start)."""
    app.state.web_security.use_secret(web_secret(engine))
