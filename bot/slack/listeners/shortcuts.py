"""Shortcuts: global `share_learning` and message `capture_learning` open the reflection modal."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks import reflection_modal
from bot.slack.responder import Responder, to_user


def register(app: App, responder: Responder) -> None:
    @app.shortcut("share_learning")
    def on_share_learning(ack: Ack, shortcut: dict, client: WebClient, respond: Respond | None) -> None:
        ack()
        with responder.replying(to_user(client, shortcut.get("user", {}).get("id", ""), respond), "opening the reflection modal"):
            client.views_open(trigger_id=shortcut["trigger_id"], view=reflection_modal(responder.prompts))

    @app.shortcut("capture_learning")
    def on_capture_learning(ack: Ack, shortcut: dict, client: WebClient, respond: Respond | None) -> None:
        """Pre-fill from the message and keep its permalink as provenance."""
        ack()
        with responder.replying(to_user(client, shortcut.get("user", {}).get("id", ""), respond), "opening the reflection modal"):
            channel = shortcut.get("channel", {}).get("id", "")
            message = shortcut.get("message", {})
            permalink = responder.permalink(client, channel, shortcut.get("message_ts", message.get("ts", "")))
            view = reflection_modal(responder.prompts, message.get("text", ""), {"channel": channel, "permalink": permalink})
            client.views_open(trigger_id=shortcut["trigger_id"], view=view)
