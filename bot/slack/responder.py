"""The work behind the Slack listeners: answer into a thread, save a reflection, with errors handled.

Listeners stay thin: they read the payload and call one of these methods. Whatever goes wrong, the
user hears back: the reason when their input is rejected, otherwise a short apology (the cause is
logged, never shown), in the thread, ephemerally, or as a direct message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.models import Answer, Turn
from bot.progress import Sink, reporting
from bot.prompts import Prompts
from bot.records import Reflection
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from bot.slack.blocks import answer_message, safe_text
from bot.slack.conversation import ThreadMemory
from bot.slack.privacy import ChannelPrivacy
from bot.slack.reply import ThreadReply
from index import InputRejected

log = logging.getLogger(__name__)

SLACK_ID_MAX = 32  # Reflection.author_slack_id's column width

Tell = Callable[[str], object]
"""Sends one line of mrkdwn to the user a listener is serving."""


def in_thread(client: WebClient, channel: str, thread_ts: str) -> Tell:
    return lambda text: client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)


def to_user(client: WebClient, user: str, respond: Respond | None = None) -> Tell:
    """Ephemerally where the payload has a response_url (Bolt's `respond`), else as a direct message."""
    if respond is not None and respond.response_url:
        return lambda text: respond(response_type="ephemeral", replace_original=False, text=text)
    return lambda text: client.chat_postMessage(channel=user, text=text)


@dataclass
class Responder:
    services: Services
    threads: ThreadMemory
    privacy: ChannelPrivacy = field(default_factory=ChannelPrivacy)

    @property
    def prompts(self) -> Prompts:
        return self.services.prompts

    @contextmanager
    def replying(self, tell: Tell, doing: str) -> Iterator[None]:
        """Run a listener's work so the user always hears back when it fails (counted as handled, or
        as failed when it ends in an apology)."""
        try:
            yield
        except InputRejected as error:
            self._tell(tell, safe_text(str(error)), doing)
        except Exception:  # a listener's last line: anything unexpected becomes an apology, not silence
            self.services.metrics.slack_failed.inc()
            log.exception("Slack: %s failed", doing)
            self._tell(tell, self.prompts.text("slack", "error"), doing)
            return
        self.services.metrics.slack_handled.inc()

    @staticmethod
    def _tell(tell: Tell, text: str, doing: str) -> None:
        try:
            tell(text)
        except Exception:  # Slack itself is failing; the log is all that is left
            log.exception("Slack: %s failed and the user could not be told", doing)

    def ask(self, question: str, private: bool, history: list[Turn] | None = None) -> Answer:
        return self.services.answers.answer(question, history=history or [], surface="slack", private=private)

    def answer_in_thread(self, client: WebClient, channel: str, thread_ts: str, question: str, private: bool, set_status: Tell | None = None) -> None:
        """Answer `question` in the thread and remember the turn. The thread is claimed before answering,
        so a follow-up sent while this answer is on its way is recognised as one. `set_status` is the
        assistant panel's status line, where there is one."""
        reply = ThreadReply(client, channel, thread_ts)
        with self.replying(reply.tell, f"answering in {channel}/{thread_ts}"):
            on_writing = self._show_progress(reply, set_status)
            history = self.threads.history(channel, thread_ts)
            self.threads.claim(channel, thread_ts)
            with reporting(on_writing):
                answer = self.ask(question, private, history)
            reply.send(**self.message(answer, question))
            self.threads.remember(channel, thread_ts, question, answer)

    def _show_progress(self, reply: ThreadReply, set_status: Tell | None) -> Sink | None:
        """Show that an answer is on its way; returns what to show once the LLM starts writing.

        Extractive answers take tens of milliseconds: the assistant panel's status as ever, and no
        placeholder, which would cost a round trip to Slack. An LLM takes seconds: the status (or a
        placeholder reply, which the answer replaces) says it is reading, then that it is writing."""
        text = lambda name: self.prompts.text("slack", name)  # noqa: E731 - a local shorthand
        if not self.services.settings.llm_enabled:
            if set_status is not None:
                self._courtesy(set_status, text("thinking"))
            return None
        if set_status is None:
            reply.hold(text("placeholder"))
            return lambda: reply.progress(text("placeholder_writing"))
        self._courtesy(set_status, text("reading"))
        return lambda: set_status(text("writing"))

    @staticmethod
    def _courtesy(set_status: Tell, text: str) -> None:
        try:
            set_status(text)
        except SlackApiError as error:  # the status is a courtesy; the answer matters
            log.warning("no assistant status shown: %s", error.response.get("error"))

    def message(self, answer: Answer, question: str, share: bool = False) -> dict:
        """The answer's `text` and `blocks`; a share button when it is ephemeral."""
        share_label = self.prompts.text("slack", "share_button") if share else None
        return answer_message(answer, share_label, question, self.prompts.text("slack", "share_what_you_know"))

    def save_reflection(self, data: ReflectionCreate, channel: str, permalink: str, author: str) -> Reflection:
        """Stored with the author's Slack user id, so they can be told when a reviewer decides."""
        author = author if len(author) <= SLACK_ID_MAX else ""  # no Slack id is this long; a cut one could name someone else
        return self.services.reflections.create(data, origin="slack", channel=channel, permalink=permalink, author_slack_id=author)

    def permalink(self, client: WebClient, channel: str, message_ts: str) -> str:
        try:
            return client.chat_getPermalink(channel=channel, message_ts=message_ts).get("permalink", "")
        except SlackApiError as error:
            log.warning("no permalink for %s/%s: %s", channel, message_ts, error.response.get("error"))
            return ""
