"""Buttons on answers: feedback (helpful / not helpful) and sharing an ephemeral answer in the channel.

Sharing goes through the button's response_url, not chat.postMessage: a response_url may post in
the conversation it came from whether or not the bot was invited there, so /ask can be shared in
any channel (chat.postMessage would fail there with not_in_channel)."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks import answer_message, missing_modal, reflection_modal
from bot.slack.responder import Responder, Tell, to_user

log = logging.getLogger(__name__)


def _channel(body: dict) -> str:
    return body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id", "")


def register(app: App, responder: Responder) -> None:
    def tell(body: dict, client: WebClient, respond: Respond | None) -> Tell:
        return to_user(client, body.get("user", {}).get("id", ""), respond)

    @app.action("feedback_helpful")
    def on_helpful(ack: Ack, action: dict, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with responder.replying(tell(body, client, respond), "recording helpful feedback"):
            responder.services.feedback.record(action["value"], helpful=True)
            respond(response_type="ephemeral", replace_original=False, text=responder.prompts.text("slack", "helpful_thanks"))

    @app.action("feedback_not_helpful")
    def on_not_helpful(ack: Ack, action: dict, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with responder.replying(tell(body, client, respond), "recording unhelpful feedback"):
            responder.services.feedback.record(action["value"], helpful=False)
            client.views_open(trigger_id=body["trigger_id"], view=missing_modal(responder.prompts, action["value"]))
            respond(response_type="ephemeral", replace_original=False, text=responder.prompts.text("slack", "not_helpful_thanks"))

    @app.action("share_what_you_know")
    def on_share_what_you_know(ack: Ack, action: dict, body: dict, client: WebClient, respond: Respond) -> None:
        """After an abstention: the reflection modal, pre-filled with the unanswered question."""
        ack()
        with responder.replying(tell(body, client, respond), "opening the reflection modal"):
            prefill = f"Someone asked: {action.get('value', '')}"
            client.views_open(trigger_id=body["trigger_id"], view=reflection_modal(responder.prompts, prefill, {"channel": _channel(body)}))

    @app.action("share_answer")
    def on_share(ack: Ack, action: dict, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with responder.replying(tell(body, client, respond), "sharing an answer"):
            answer = responder.services.answers.stored(action["value"])
            if answer is None:
                respond(response_type="ephemeral", replace_original=False, text=responder.prompts.text("slack", "error"))
                return
            shared = {"type": "context", "elements": [{"type": "mrkdwn", "text": responder.prompts.text("slack", "shared_by", user=body["user"]["id"])}]}
            message = answer_message(answer)
            posted = respond(response_type="in_channel", replace_original=False, text=message["text"], blocks=[*message["blocks"], shared])
            if posted.status_code != 200:  # Slack refused it there (an expired button, a channel closed to apps)
                log.warning("an answer was not shared in %s: %s %s", _channel(body), posted.status_code, posted.body)
                respond(response_type="ephemeral", replace_original=False, text=responder.prompts.text("slack", "share_failed"))
                return
            respond(delete_original=True)
