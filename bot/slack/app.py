"""The Bolt app: built from settings and services; HTTP mode at /slack/events, or Socket Mode."""

from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.logs import ContextThreadPool
from bot.services import Services
from bot.settings import Settings
from bot.slack.client import web_client
from bot.slack.conversation import EventLedger, ThreadMemory
from bot.slack.listeners import actions, assistant, commands, events, home, review, shortcuts, views
from bot.slack.observe import observe
from bot.slack.responder import Responder

log = logging.getLogger(__name__)


def create_slack_app(settings: Settings, services: Services) -> App:
    app = App(
        client=web_client(settings), signing_secret=settings.slack_signing_secret.get_secret_value(), logger=logging.getLogger("learnloop.slack"),
        listener_executor=ContextThreadPool(max_workers=5),  # Bolt's default pool size; listeners log with the request's ids
    )
    app.middleware(observe(services.metrics))
    ledger = EventLedger(services.catalog.engine)

    @app.middleware
    def skip_retried_events(body: dict, next: callable) -> BoltResponse | None:  # noqa: A002 - Bolt's argument name
        """Slack re-sends events it thinks were missed; each event id is answered once."""
        event_id = body.get("event_id")
        if body.get("type") == "event_callback" and event_id and not ledger.first_time(event_id):
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(error: Exception, body: dict) -> None:
        """Failures outside a listener's own reply (listeners answer the user themselves): logged."""
        log.error("Slack request failed: %s (%s)", error, body.get("type"), exc_info=error)
        services.metrics.slack_failed.inc()

    responder = Responder(services, ThreadMemory(services.catalog.engine))
    for surface in (assistant, events, commands, shortcuts, views, actions, home, review):
        surface.register(app, responder)

    @app.event(re.compile(".*"))
    def acknowledge_others(event: dict) -> None:
        """Events no surface handles are acknowledged, so Slack does not retry them."""
        log.debug("ignoring %s event", event.get("type"))

    return app


def start_socket_mode(app: App, settings: Settings) -> SocketModeHandler:
    """Connect over Socket Mode (no public URL needed); returns the handler so the caller can close it."""
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    handler.connect()
    return handler
