"""Home, answers, precedent search and passages: the read-only pages."""

from __future__ import annotations

from itertools import zip_longest
from typing import get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from bot.http.schemas import AskRequest, Filters, SourceType
from bot.services import Services
from bot.settings import ApiScope
from bot.web.access import PageServices, PassagesDep, ReadPage, RendererDep
from bot.web.errors import PageError
from bot.web.forms import SearchText, field_errors, summary
from bot.web.templating import Renderer
from bot.web.text import reference
from index import Hit, InputRejected

router = APIRouter(include_in_schema=False)
PER_PAGE = 10
MOST = 50  # GET /search's own ceiling: five pages
SOURCE_TYPES = {"report": "Reports", "learning_log": "Learning logs", "reflection": "Reflections"}
TYPE_NAMES = {"report": "Report", "learning_log": "Learning log", "reflection": "Reflection"}
FILTER_LABELS = {"q": "Search words", "source_type": "Source type", "tag": "Tag", "year_from": "Year from", "year_to": "Year to"}
RECENT = 5


@router.get("/", response_class=HTMLResponse)
def home(request: Request, services: PageServices, scope: ReadPage, renderer: RendererDep) -> HTMLResponse:
    recent = services.reflections.list(status="published", limit=RECENT)
    return renderer.render(request, "home.html", {"recent": recent}, scope)


@router.get("/answer", response_class=HTMLResponse)
def answer(request: Request, services: PageServices, scope: ReadPage, renderer: RendererDep) -> HTMLResponse:
    """The answer with its citations; an empty or invalid question goes back to the ask box with the error."""
    question = request.query_params.get("q", "").strip()
    try:
        asked = AskRequest.model_validate({"question": question})
        result = services.answers.answer(asked.question, None, None, None, "web")
    except ValidationError as error:
        return _home_with_error(request, services, scope, renderer, field_errors(error, {"question": "Your question"}))
    except InputRejected as error:
        return _home_with_error(request, services, scope, renderer, {"question": str(error)})
    closest: list[Hit] = []
    if result.outcome == "abstain":
        closest = services.searcher.search(asked.question, 3)
    return renderer.render(request, "answer.html", {"question": asked.question, "answer": result, "closest": closest}, scope)


def _home_with_error(request: Request, services: Services, scope: ApiScope, renderer: Renderer, errors: dict[str, str]) -> HTMLResponse:
    recent = services.reflections.list(status="published", limit=RECENT)
    context = {"recent": recent, "errors": errors, "error_list": summary(errors), "question": request.query_params.get("q", "")[:4000]}
    return renderer.render(request, "home.html", context, scope, status=422)


def _filters(request: Request) -> tuple[list[Filters], dict[str, str]]:
    """The search's filters, checked by the API's Filters model: one per ticked source type (none
    ticked, or all, means no type filter)."""
    params = request.query_params
    raw = {name: params.get(name, "").strip() for name in ("tag", "year_from", "year_to")}
    types = sorted(set(params.getlist("source_type")))
    try:
        base = Filters.model_validate({name: value for name, value in raw.items() if value})
        each = [Filters.model_validate({**base.model_dump(), "source_type": t}) for t in types]
        return ([base] if len(each) in (0, len(get_args(SourceType))) else each), {}
    except ValidationError as error:
        return [], field_errors(error, {name: FILTER_LABELS[name] for name in ("source_type", "tag", "year_from", "year_to")})


def _interleave(lists: list[list[Hit]]) -> list[Hit]:
    """Several ranked lists as one, taking each list's next best in turn: scores of separate searches
    are not comparable, ranks are."""
    return [hit for row in zip_longest(*lists) for hit in row if hit is not None][:MOST]


@router.get("/precedents", response_class=HTMLResponse)
def precedents(request: Request, services: PageServices, scope: ReadPage, renderer: RendererDep) -> HTMLResponse:
    params = request.query_params
    query = params.get("q", "").strip()
    filters, errors = _filters(request)
    if filters and filters[0].year_from and filters[0].year_to and filters[0].year_from > filters[0].year_to:
        errors["year_from"] = "Year from must be the same as or before year to"
    if query:
        try:
            SearchText.validate_python(query)
        except ValidationError as error:
            errors = {**field_errors(error, {"q": FILTER_LABELS["q"]}), **errors}
    asked_page = params.get("page", "1")
    page = int(asked_page) if asked_page.isascii() and asked_page.isdigit() and len(asked_page) <= 3 else 1  # '²'.isdigit() too
    page = min(max(page, 1), MOST // PER_PAGE)
    hits: list[Hit] = []
    if query and not errors:
        found = [services.searcher.search(query, MOST, f.to_search()) for f in filters]
        hits = _interleave(found)
    pages = max((len(hits) + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(page, pages)
    ticked = set(params.getlist("source_type"))
    context = {
        "query": query[:2000], "hits": hits[(page - 1) * PER_PAGE : page * PER_PAGE], "total": len(hits), "most": MOST,
        "first": (page - 1) * PER_PAGE + 1, "pages_count": pages, "pagination": _pagination(request, page, pages), "type_names": TYPE_NAMES,
        "source_type_items": [{"value": value, "text": text, "checked": value in ticked} for value, text in SOURCE_TYPES.items()],
        "tag": params.get("tag", "")[:200], "year_from": params.get("year_from", "")[:10], "year_to": params.get("year_to", "")[:10],
        "errors": errors, "error_list": summary(errors),
    }
    return renderer.render(request, "precedents.html", context, scope, status=422 if errors else 200)


def _pagination(request: Request, page: int, pages: int) -> dict:
    """GOV.UK pagination links that keep the search and its filters."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def href(n: int) -> str:
        return "/precedents?" + urlencode([*kept, ("page", str(n))])

    return {
        "previous": {"href": href(page - 1)} if page > 1 else None,
        "next": {"href": href(page + 1)} if page < pages else None,
        "items": [{"number": n, "href": href(n), "current": n == page} for n in range(1, pages + 1)],
    }


@router.get("/passages/{chunk_id}", response_class=HTMLResponse)
def passage(chunk_id: str, request: Request, services: PageServices, passages: PassagesDep, scope: ReadPage, renderer: RendererDep) -> HTMLResponse:
    """A passage between its neighbours, with its document, its place and a reference to paste."""
    missing = PageError(404, "Passage not found", "There is no passage with that number. It may have been deleted; search again from the precedents page.")
    if not (chunk_id.isascii() and chunk_id.isdigit()) or len(chunk_id) > 10:  # '²' and '٣' are digits to str.isdigit()
        raise missing
    meta = services.searcher.meta(int(chunk_id))  # in memory, once the searcher has caught up with the catalog
    place = passages.place_of(meta.document_id, meta.chunk_id, services.searcher.revision) if meta else None
    if meta is None or place is None:
        raise missing
    cite = reference(meta.authors, meta.year, meta.title, place.publisher, meta.section, meta.page_start, meta.page_end)
    shown = place.around
    at = next(i for i, n in enumerate(shown) if n.chunk_id == meta.chunk_id)
    query = request.query_params.get("q", "")[:2000]
    suffix = f"?{urlencode({'q': query})}" if query else ""
    passage_pages = {
        "previous": {"href": f"/passages/{shown[at - 1].chunk_id}{suffix}"} if at > 0 else None,
        "next": {"href": f"/passages/{shown[at + 1].chunk_id}{suffix}"} if at + 1 < len(shown) else None,
    }
    context = {"meta": meta, "place": place, "neighbours": shown, "neighbour_index": at, "cite": cite,
               "query": query, "passage_pages": passage_pages, "type_names": TYPE_NAMES}
    return renderer.render(request, "passage.html", context, scope)
