"""The assistant panel: suggested prompts when a thread starts, a status while working, then the answer."""

from __future__ import annotations

from slack_bolt import App, Assistant, Say, SetStatus, SetSuggestedPrompts
from slack_sdk import WebClient

from bot.slack.listeners.events import question_text
from bot.slack.responder import Responder


def register(app: App, responder: Responder) -> None:
    assistant = Assistant()

    @assistant.thread_started
    def on_thread_started(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        with responder.replying(say, "starting an assistant thread"):
            say(responder.prompts.text("slack", "home_intro"))
            prompts = responder.prompts.messages["slack"]["suggested_prompts"]
            set_suggested_prompts(prompts=[{"title": title, "message": message} for title, message in prompts])

    @assistant.user_message
    def on_user_message(payload: dict, set_status: SetStatus, client: WebClient) -> None:
        """Always private: the assistant panel is a conversation with the bot alone. The responder keeps
        the panel's status line up to date while it answers."""
        channel, thread_ts, question = payload.get("channel", ""), payload.get("thread_ts", ""), question_text(payload.get("text", ""))
        responder.answer_in_thread(client, channel, thread_ts, question, private=True, set_status=set_status)

    app.use(assistant)
