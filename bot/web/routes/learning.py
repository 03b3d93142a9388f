"""Published learning, filtered, and the share form: the API's ReflectionCreate checks what is sent."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bot.http.deps import RANK
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from bot.settings import ApiScope
from bot.web.access import CheckedForm, PageServices, ReadPage, RendererDep
from bot.web.forms import ShortText, field_errors, summary
from bot.web.templating import Renderer
from index import InputRejected

router = APIRouter(include_in_schema=False)
LABELS = {
    "what_happened": "What happened", "what_we_learned": "What you learned", "what_next": "What you will do next",
    "tags": "Tags", "author": "Your name", "team": "Team", "place": "Place",
}
FILTERS = {"tag": "Tag", "team": "Team", "place": "Place"}
SHOWN = 50


def _page(request: Request, services: Services, scope: ApiScope, renderer: Renderer, form: dict[str, str], errors: dict[str, str], status: int = 200) -> HTMLResponse:
    filters = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    filter_errors: dict[str, str] = {}
    for name, value in filters.items():
        try:
            ShortText.validate_python(value)
        except ValidationError as error:
            filter_errors.update(field_errors(error, {name: FILTERS[name]}, prefix="filter-"))
            filters[name] = ""
    reflections = services.reflections.list(filters["tag"] or None, filters["team"] or None, filters["place"] or None, None, "published", SHOWN)
    all_errors = {**filter_errors, **errors}
    context = {
        "reflections": reflections, "filters": filters, "form": form, "errors": all_errors, "error_list": summary(all_errors),
        "can_share": RANK[scope] >= RANK["write"], "review": services.settings.review, "shared": request.query_params.get("shared", "") in ("published", "pending"),
        "shared_status": request.query_params.get("shared", ""), "labels": LABELS,
    }
    return renderer.render(request, "learning.html", context, scope, status=422 if all_errors and status == 200 else status)


@router.get("/learning", response_class=HTMLResponse)
def learning(request: Request, services: PageServices, scope: ReadPage, renderer: RendererDep) -> HTMLResponse:
    return _page(request, services, scope, renderer, {}, {})


@router.post("/learning", response_class=HTMLResponse)
def share(request: Request, form: CheckedForm, services: PageServices, scope: ReadPage, renderer: RendererDep) -> Response:
    """Store a reflection as POST /reflections would; on a problem the form comes back filled in,
    with an error summary linking to each field."""
    if RANK[scope] < RANK["write"]:
        return _page(request, services, scope, renderer, {}, {"what_happened": "Your key can read but not share: sign in with a write key to share what you learned"}, status=403)
    sent = {name: str(form.get(name, "")) for name in LABELS}
    data = {**sent, "tags": [t for t in sent["tags"].split(",") if t.strip()]}
    try:
        created = services.reflections.create(ReflectionCreate.model_validate(data), "web")
    except ValidationError as error:
        return _page(request, services, scope, renderer, sent, field_errors(error, LABELS), status=422)
    except InputRejected as error:
        field = error.field if error.field in LABELS else "what_happened"
        text = str(error).replace(f"'{field}'", LABELS[field])
        return _page(request, services, scope, renderer, sent, {field: text}, status=422)
    return RedirectResponse(f"/learning?shared={created.status}#shared", status_code=303)
