"""The Jinja environment (our templates, then the GOV.UK Frontend macros) and one render helper
that gives every page the visitor's scope, the navigation and the CSRF token its forms need."""

from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.http.deps import RANK
from bot.settings import ApiScope
from bot.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, WebSecurity
from bot.web.text import highlight, linked_markers, pages

SERVICE_NAME = "Learnloop"
NAVIGATION = (("/", "Home", "read"), ("/precedents", "Precedents", "read"), ("/learning", "Learning", "read"),
              ("/knowledge-gaps", "Knowledge gaps", "admin"), ("/review", "Review", "admin"))


def make_environment() -> Environment:
    """Autoescaping everywhere: every string a page shows may come from a user or a file."""
    loader = ChoiceLoader([
        PackageLoader("bot.web", "templates"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}),
    ])
    env = Environment(  # auto_reload off: templates ship in the package, and checking them cost 32 stat calls a page
        loader=loader, autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True, lstrip_blocks=True, auto_reload=False
    )
    env.globals.update(highlight=highlight, linked=linked_markers, pages=pages)
    return env


class Renderer:
    def __init__(self, security: WebSecurity) -> None:
        self.env = make_environment()
        self.security = security

    def render(self, request: Request, template: str, context: dict[str, Any], scope: ApiScope | None, status: int = 200) -> HTMLResponse:
        """The page as HTML; sets the visitor's CSRF cookie on the first visit so its forms can post."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not cookie or len(cookie) > 128:
            cookie = fresh = self.security.new_csrf_cookie()
        navigation = [
            {"href": href, "text": text, "active": request.url.path == href}
            for href, text, needed in NAVIGATION
            if scope is not None and RANK[scope] >= RANK[needed]  # type: ignore[index]
        ]
        page = self.env.get_template(template).render(
            request_path=request.url.path, scope=scope, navigation=navigation, service_name=SERVICE_NAME,
            signed_in=not self.security.open and scope is not None, keyed=not self.security.open,
            csrf_field=CSRF_FIELD, csrf_token=self.security.csrf_token(cookie, request.cookies.get(SESSION_COOKIE)), **context,
        )
        response = HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
        if fresh:
            response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
        return response
