"""Approve and Reject on pending reflections in the review channel (LEARNLOOP_REVIEW_CHANNEL)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.responder import Responder, to_user
from bot.slack.review import Press, ReviewDesk


def register(app: App, responder: Responder) -> None:
    desk = ReviewDesk(responder.services.reflections, responder.prompts, responder.services.settings.review_channel)

    def deciding(status: str) -> Callable[..., None]:
        def on_press(ack: Ack, action: dict, body: dict, client: WebClient, respond: Respond) -> None:
            ack()
            with responder.replying(to_user(client, body.get("user", {}).get("id", ""), respond), f"reviewing a reflection ({status})"):
                notice = desk.decide(client, Press.of(action, body), status)
                if notice:
                    respond(response_type="ephemeral", replace_original=False, text=notice)

        return on_press

    app.action("review_approve")(deciding("published"))
    app.action("review_reject")(deciding("rejected"))
