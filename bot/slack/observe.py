"""A Bolt middleware that counts each Slack request and tags the logs of its work with the event id."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltResponse

from bot.logs import SLACK_EVENT_ID
from bot.metrics import Metrics

SlackMiddleware = Callable[[dict, Callable[[], BoltResponse | None]], BoltResponse | None]


def observe(metrics: Metrics) -> SlackMiddleware:
    def observing(body: dict, next: Callable[[], BoltResponse | None]) -> BoltResponse | None:  # noqa: A002 - Bolt's argument name
        """Runs after the signature check. Bolt starts the listeners after the whole middleware chain
        has returned, in this thread, so the id is set for the rest of this dispatch and not reset:
        the listeners' threads get a copy (bot.logs.ContextThreadPool), and the next request through
        this thread sets it again (empty when it is not an event)."""
        metrics.slack_request(body)
        SLACK_EVENT_ID.set(str(body.get("event_id", ""))[:64])
        return next()

    return observing
