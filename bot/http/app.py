"""The FastAPI app factory: settings in, app out; services are built in the lifespan, not at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier

from bot.http.guesses import KeyGuessLimit
from bot.http.instrument import instrument
from bot.http.limits import BodySizeLimit
from bot.http.request_id import RequestId
from bot.http.responses import errors
from bot.http.routes import ask, docs, documents, feedback, health, ops, reflections, search, slack
from bot.retention import RetentionSweeper
from bot.services import Services, build_services
from bot.settings import Settings
from bot.slack.app import create_slack_app, start_socket_mode
from bot.web import install_web, start_web
from index import InputRejected, LearnloopError, SearchError
from index.outage import DATABASE_UNAVAILABLE, RETRY_AFTER_S

log = logging.getLogger(__name__)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """An app for `settings`; pass `services` to share already-loaded models and indexes (tests, bench)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ready = services or build_services(settings, serving=True)
        ready.searcher.sync()  # load indexes now, not on the first question
        ready.embedder.embed_batch(["warm-up"])
        app.state.services = ready
        start_web(app, ready.catalog.engine)
        app.state.slack = create_slack_app(settings, ready) if settings.slack_enabled else None
        app.state.slack_verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value()) if app.state.slack else None
        socket = start_socket_mode(app.state.slack, settings) if app.state.slack and settings.slack_app_token.get_secret_value() else None
        retention = RetentionSweeper(ready.catalog.engine, settings.retention_days)
        retention.start()
        yield
        retention.stop()
        if socket is not None:
            socket.close()

    app = FastAPI(
        title="Learnloop",
        version="0.1.0",
        summary="Cited answers and precedent search over public-service reform reports and learning logs.",
        lifespan=lifespan,
        docs_url=None,  # bot.http.routes.docs serves /docs without a CDN; ReDoc, CDN-only, is not offered
        redoc_url=None,
    )
    app.state.api_scopes = settings.api_key_scopes()
    app.state.key_guesses = KeyGuessLimit()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    instrument(app)
    app.add_middleware(RequestId)  # outermost: even a refused body's response carries the id
    for module in (health, ask, search, documents, feedback, reflections, slack):
        app.include_router(module.router, responses=errors(503))  # every route that reads the database may meet an outage
    app.include_router(ops.router)
    app.include_router(docs.router)
    install_web(app, settings)  # the pages (HTML) and their assets; API paths keep JSON errors
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputRejected)
    async def rejected(_: Request, error: InputRejected) -> JSONResponse:
        detail = [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}] if error.field else str(error)
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(SearchError)
    async def search_error(_: Request, error: SearchError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(error)})

    @app.exception_handler(LearnloopError)
    async def learnloop_error(_: Request, error: LearnloopError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(error)})

    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        """A database outage is the server's trouble but not a bug: 503 with Retry-After, never 500.
        Pooled connections are pinged before use, so the first request after the outage succeeds."""
        log.warning("%s %s: the database is not answering (%s)", request.method, request.url.path, type(error).__name__)
        detail = "The database is not answering just now; try again in a few seconds."
        return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": str(RETRY_AFTER_S)})

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, database_unavailable)
