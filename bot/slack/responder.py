"""The work behind the Slack listeners: answer into a thread, save a reflection, with errors handled.

Listeners stay thin: they read the payload and call one of these methods. Any failure while
answering becomes a short apology in the thread (and a logged cause), never silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.models import Answer
from bot.prompts import Prompts
from bot.records import Reflection
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from bot.slack.blocks import answer_blocks
from bot.slack.conversation import ThreadMemory
from index import InputRejected, LearnloopError

log = logging.getLogger(__name__)
FALLBACK_TEXT_LIMIT = 3000


@dataclass
class Responder:
    services: Services
    threads: ThreadMemory

    @property
    def prompts(self) -> Prompts:
        return self.services.prompts

    def answer(self, question: str, channel: str = "", thread_ts: str = "") -> Answer:
        history = self.threads.history(channel, thread_ts) if channel and thread_ts else None
        return self.services.answers.answer(question, history=history or [], surface="slack")

    def answer_in_thread(self, client: WebClient, channel: str, thread_ts: str, question: str) -> None:
        """Answer `question` in the thread, remembering the turn; apologise in the thread on failure."""
        try:
            answer = self.answer(question, channel, thread_ts)
        except InputRejected as error:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=str(error))
            return
        except (LearnloopError, SQLAlchemyError, OSError, RuntimeError, ValueError):
            log.exception("answering in %s/%s failed", channel, thread_ts)
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=self.prompts.text("slack", "error"))
            return
        client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=answer.answer[:FALLBACK_TEXT_LIMIT], blocks=self.blocks(answer, question), unfurl_links=False
        )
        self.threads.remember(channel, thread_ts, question, answer.answer)

    def blocks(self, answer: Answer, question: str, share: bool = False) -> list[dict]:
        share_label = self.prompts.text("slack", "share_button") if share else None
        return answer_blocks(answer, share_label, question, self.prompts.text("slack", "share_what_you_know"))

    def save_reflection(self, data: ReflectionCreate, channel: str, permalink: str) -> Reflection:
        return self.services.reflections.create(data, origin="slack", channel=channel, permalink=permalink)

    def permalink(self, client: WebClient, channel: str, message_ts: str) -> str:
        try:
            return client.chat_getPermalink(channel=channel, message_ts=message_ts).get("permalink", "")
        except SlackApiError as error:
            log.warning("no permalink for %s/%s: %s", channel, message_ts, error.response.get("error"))
            return ""
