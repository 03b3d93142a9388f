"""Slash commands: /ask (ephemeral answer with a share button) and /learned (the reflection modal)."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.blocks import reflection_modal
from bot.slack.responder import Responder, to_user


def register(app: App, responder: Responder) -> None:
    @app.command("/ask")
    def on_ask(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with responder.replying(to_user(client, command.get("user_id", ""), respond), "/ask"):
            question = (command.get("text") or "").strip()
            if not question:
                respond(response_type="ephemeral", text=responder.prompts.text("slack", "empty_question"))
                return
            answer = responder.ask(question, private=responder.privacy.of_command(client, command))
            respond(response_type="ephemeral", **responder.message(answer, question, share=True))

    @app.command("/learned")
    def on_learned(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with responder.replying(to_user(client, command.get("user_id", ""), respond), "/learned"):
            view = reflection_modal(responder.prompts, command.get("text", ""), {"channel": command.get("channel_id", "")})
            client.views_open(trigger_id=command["trigger_id"], view=view)
