"""Modal submissions: the reflection modal and the "what was missing?" feedback modal.

Slack wants a modal acknowledged within 3 seconds, and field errors can only be shown in that
acknowledgement: so the cheap checks run first, the modal is acknowledged, and only then is the
reflection stored and embedded (slow), with the outcome sent to the user as a direct message.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.reflection_models import ReflectionCreate
from bot.slack.blocks import escape
from bot.slack.responder import Responder, to_user
from index import InputRejected

FIELDS = ("what_happened", "what_we_learned", "what_next", "tags")


def modal_values(view: dict) -> dict[str, str]:
    values = view.get("state", {}).get("values", {})
    return {field: (values.get(field, {}).get(field, {}).get("value") or "") for field in FIELDS}


def field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "what_we_learned"
        errors.setdefault(field if field in FIELDS else "what_we_learned", problem["msg"])
    return errors


def reflection_from(view: dict, user: dict) -> ReflectionCreate:
    values = modal_values(view)
    return ReflectionCreate(
        what_happened=values["what_happened"],
        what_we_learned=values["what_we_learned"],
        what_next=values["what_next"],
        tags=[t for t in values["tags"].split(",") if t.strip()],
        author=user.get("name", "") or user.get("username", ""),
    )


def register(app: App, responder: Responder) -> None:
    @app.view("reflection_modal")
    def on_reflection(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user = body.get("user", {})
        with responder.replying(to_user(client, user.get("id", "")), "saving a reflection"):
            try:
                data = reflection_from(view, user)
                responder.services.reflections.validate(data)
            except ValidationError as error:
                ack(response_action="errors", errors=field_errors(error))
                return
            except InputRejected as error:
                ack(response_action="errors", errors={error.field if error.field in FIELDS else "what_we_learned": str(error)})
                return
            ack()
            metadata = json.loads(view.get("private_metadata") or "{}")
            reflection = responder.save_reflection(data, metadata.get("channel", ""), metadata.get("permalink", ""), user.get("id", ""))
            template = "reflection_saved" if reflection.status == "published" else "reflection_pending"
            title = escape(reflection.what_we_learned[:60])
            client.chat_postMessage(channel=user.get("id", ""), text=responder.prompts.text("slack", template, title=title))

    @app.view("feedback_modal")
    def on_missing(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        ack()
        with responder.replying(to_user(client, body.get("user", {}).get("id", "")), "saving a feedback comment"):
            comment = view.get("state", {}).get("values", {}).get("comment", {}).get("comment", {}).get("value") or ""
            responder.services.feedback.add_comment(view.get("private_metadata", ""), comment)
