"""Sign in once with an API key; the browser then keeps a signed session cookie, never the key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.http.guesses import TooManyWrongKeys, key_guess_limit
from bot.web.access import CheckedForm, RendererDep, security_of
from bot.web.errors import local_path
from bot.web.forms import summary
from bot.web.security import SESSION_COOKIE, SESSION_MAX_AGE_S

router = APIRouter(include_in_schema=False)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, renderer: RendererDep) -> HTMLResponse:
    return renderer.render(request, "sign_in.html", {"next": local_path(request.query_params.get("next"))}, None)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, form: CheckedForm, renderer: RendererDep) -> Response:
    security = security_of(request)
    target = local_path(str(form.get("next", "/")))
    key = str(form.get("key", ""))[:1000]
    try:
        session = key_guess_limit(request).checked(request, key, security.sign_in) if key.strip() and not security.open else None
    except TooManyWrongKeys as refused:
        errors = {"key": str(refused)}
        page = renderer.render(request, "sign_in.html", {"next": target, "errors": errors, "error_list": summary(errors)}, None, status=429)
        page.headers["Retry-After"] = str(refused.wait_s)
        return page
    if session is None:
        errors = {"key": "Enter a valid API key" if key.strip() else "Enter your API key"}
        if security.open:
            errors = {"key": "This server has no keys set, so there is nothing to sign in to"}
        return renderer.render(request, "sign_in.html", {"next": target, "errors": errors, "error_list": summary(errors)}, None, status=401 if not security.open else 400)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/sign-out")
def sign_out(request: Request, form: CheckedForm) -> RedirectResponse:
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response
