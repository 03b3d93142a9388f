"""Operations: Prometheus metrics, and readiness apart from liveness (/healthz). Neither needs a key."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from bot.http.responses import ERRORS

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)
RETRY_STARTING_S = 5
RETRY_CATCHING_UP_S = 1
METRICS_EXAMPLE = '# HELP learnloop_answers_total Answers given, by outcome and by surface\n# TYPE learnloop_answers_total counter\nlearnloop_answers_total{outcome="answer",surface="api"} 12.0\n'


class Ready(BaseModel):
    status: str
    revision: int


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {"example": METRICS_EXAMPLE}}}},
)
def metrics(request: Request) -> Response:
    """Request latency and counts per route, answers by outcome and surface, reflections, Slack
    events, ingest and queue counters."""
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)


NOT_READY = {503: ERRORS[503] | {"content": {"application/json": {"example": {"detail": "The in-memory indexes are catching up with the catalog (revision 41 of 42)."}}}}}


@router.get("/readyz", response_model=Ready, responses=NOT_READY)
def readyz(request: Request) -> Ready | JSONResponse:
    """200 once the database answers and the in-memory indexes hold the catalog's latest revision;
    503 with Retry-After otherwise. A replica that is behind starts catching up at once, so a load
    balancer that sends it nothing until it is ready does not keep it behind for good."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return not_ready("Starting: the indexes are not loaded yet.", RETRY_STARTING_S)
    try:
        revision = services.catalog.revision()
    except SQLAlchemyError as error:
        log.warning("readyz: the database is not answering (%s)", type(error).__name__)
        return not_ready("The database is not answering.", RETRY_STARTING_S)
    if services.searcher.revision != revision:
        services.index_catch_up.request()
        return not_ready(f"The in-memory indexes are catching up with the catalog (revision {services.searcher.revision} of {revision}).", RETRY_CATCHING_UP_S)
    return Ready(status="ready", revision=revision)


def not_ready(detail: str, retry_after: int) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": str(retry_after)})
