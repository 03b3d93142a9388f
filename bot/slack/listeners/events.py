"""Mentions in channels, direct and group direct messages, and follow-ups in threads the bot answered."""

from __future__ import annotations

import re

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.responder import Responder, in_thread

MENTION = re.compile(r"<@([A-Z0-9]++)(?:\|[^<>]*+)?>")  # the user id, then an optional label that stops at `<`: linear time
# A DM with the bot is a conversation with it: every message is a question. A group DM is people
# talking to each other with the bot present: like a channel, it answers mentions and follow-ups in
# threads it answered (both private, by the channel's type).
DIRECT = "im"


def question_text(text: str) -> str:
    return " ".join(MENTION.sub(" ", text or "").split())


def register(app: App, responder: Responder) -> None:
    @app.event("app_mention")
    def on_mention(event: dict, client: WebClient) -> None:
        channel = event.get("channel", "")
        thread_ts = event.get("thread_ts") or event.get("ts", "")
        question = question_text(event.get("text", ""))
        if not question:
            with responder.replying(in_thread(client, channel, thread_ts), "greeting a bare mention"):
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=responder.prompts.text("slack", "home_intro"))
            return
        responder.answer_in_thread(client, channel, thread_ts, question, responder.privacy.of_event(client, event))

    @app.event("message")
    def on_message(event: dict, client: WebClient, context: dict) -> None:
        """Plain user messages only: edits, deletions, bot posts and file shares are ignored."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        text = event.get("text", "")
        if context.get("bot_user_id") in MENTION.findall(text):
            return  # app_mention answers it (labelled or not: "<@U123>" or "<@U123|learnloop>")
        channel, thread_ts = event.get("channel", ""), event.get("thread_ts")
        if event.get("channel_type") == DIRECT:
            responder.answer_in_thread(client, channel, thread_ts or event.get("ts", ""), question_text(text), private=True)
        elif thread_ts and responder.threads.history(channel, thread_ts) is not None:
            responder.answer_in_thread(client, channel, thread_ts, question_text(text), responder.privacy.of_event(client, event))
