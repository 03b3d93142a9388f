"""Admin pages: knowledge gaps (with questions per week by outcome) and the review queue."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from bot.reflection_models import ReflectionUpdate
from bot.web.access import AdminPage, CheckedForm, PageServices, RendererDep
from bot.web.chart import COLOURS, LABELS, OUTCOMES, weekly_outcomes, weekly_svg
from bot.web.errors import PageError

router = APIRouter(include_in_schema=False)
QUEUE = 100


@router.get("/knowledge-gaps", response_class=HTMLResponse)
def knowledge_gaps(request: Request, services: PageServices, scope: AdminPage, renderer: RendererDep) -> HTMLResponse:
    """What GET /gaps returns, as a table, above the chart of every question's outcome by week."""
    groups = services.gaps.gaps()
    weeks = weekly_outcomes(services.catalog.engine)
    gap_rows = [
        [{"text": g.question}, {"text": g.count, "format": "numeric"}, {"text": g.last_asked.strftime("%-d %B %Y")}, {"text": ", ".join(sorted(g.reasons))}]
        for g in groups
    ]
    week_rows = [[{"text": w.start.strftime("%-d %B %Y")}, *({"text": w.counts[o], "format": "numeric"} for o in OUTCOMES)] for w in weeks]
    context = {
        "gaps": groups, "gap_rows": gap_rows, "chart": weekly_svg(weeks), "outcomes": OUTCOMES, "outcome_labels": LABELS, "colours": COLOURS,
        "week_head": [{"text": LABELS[o], "format": "numeric"} for o in OUTCOMES], "week_rows": week_rows,
    }
    return renderer.render(request, "knowledge_gaps.html", context, scope)


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, services: PageServices, scope: AdminPage, renderer: RendererDep) -> HTMLResponse:
    pending = services.reflections.list(status="pending", limit=QUEUE)
    done = request.query_params.get("done", "")
    context = {"pending": pending, "review": services.settings.review, "done": done if done in ("published", "rejected") else ""}
    return renderer.render(request, "review.html", context, scope)


@router.post("/review/{reflection_id}", response_class=HTMLResponse)
def decide(reflection_id: str, form: CheckedForm, services: PageServices, scope: AdminPage) -> RedirectResponse:
    """Approve or reject one pending reflection, as PATCH /reflections/{id} does."""
    try:
        update = ReflectionUpdate.model_validate({"status": form.get("decision")})
    except ValidationError as error:
        raise PageError(400, "Choose approve or reject", "The form did not say whether to approve or reject. Go back and choose one.") from error
    if len(reflection_id) > 64 or services.reflections.set_status(reflection_id, update.status) is None:
        raise PageError(404, "Reflection not found", "There is no reflection with that id: someone may have deleted it.")
    return RedirectResponse(f"/review?done={update.status}", status_code=303)
