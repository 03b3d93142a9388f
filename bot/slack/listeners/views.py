"""Modal submissions: the reflection modal and the "what was missing?" feedback modal."""

from __future__ import annotations

import json

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.reflection_models import ReflectionCreate
from bot.slack.responder import Responder
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


def register(app: App, responder: Responder) -> None:
    @app.view("reflection_modal")
    def on_reflection(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        values = modal_values(view)
        user = body.get("user", {})
        metadata = json.loads(view.get("private_metadata") or "{}")
        try:
            data = ReflectionCreate(
                what_happened=values["what_happened"],
                what_we_learned=values["what_we_learned"],
                what_next=values["what_next"],
                tags=[t for t in values["tags"].split(",") if t.strip()],
                author=user.get("name", "") or user.get("username", ""),
            )
            reflection = responder.save_reflection(data, metadata.get("channel", ""), metadata.get("permalink", ""))
        except ValidationError as error:
            ack(response_action="errors", errors=field_errors(error))
            return
        except InputRejected as error:
            ack(response_action="errors", errors={error.field if error.field in FIELDS else "what_we_learned": str(error)})
            return
        ack()
        template = "reflection_saved" if reflection.status == "published" else "reflection_pending"
        title = reflection.what_we_learned[:60]
        client.chat_postMessage(channel=user.get("id", ""), text=responder.prompts.text("slack", template, title=title))

    @app.view("feedback_modal")
    def on_missing(ack: Ack, view: dict) -> None:
        ack()
        comment = view.get("state", {}).get("values", {}).get("comment", {}).get("comment", {}).get("value") or ""
        responder.services.feedback.add_comment(view.get("private_metadata", ""), comment)
