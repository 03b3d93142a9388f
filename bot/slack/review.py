"""Review in Slack: pending reflections go to the review channel (LEARNLOOP_REVIEW_CHANNEL) with
Approve and Reject, and a press there is decided through the same ReflectionService calls as
PATCH /reflections/{id}.

Only members of the review channel may decide, and only on the review channel's own message:
Slack is asked who the members are (conversations.members) at each press, and when it cannot
tell, nothing changes.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.prompts import Prompts
from bot.records import Reflection
from bot.reflections import ReflectionService
from bot.slack.blocks import escape, review_decided_message, review_message

log = logging.getLogger(__name__)

MEMBERS_PAGE = 1000  # conversations.members' largest page


class ReviewPoster:
    """The ReflectionService's `on_pending`: posts each pending reflection to the review channel.

    Posting runs on one background thread, so storing a reflection never waits for Slack, and a Slack
    outage leaves it stored and pending (logged; the CLI, API and /review page can still decide it).
    The worker is not a daemon thread: a CLI process that has just stored a reflection posts it
    before it exits."""

    def __init__(self, client: WebClient, channel: str, prompts: Prompts) -> None:
        self.client = client
        self.channel = channel
        self.prompts = prompts
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-review")

    def __call__(self, reflection: Reflection) -> None:
        self._worker.submit(self._post, reflection)

    def _post(self, reflection: Reflection) -> None:
        try:
            self.client.chat_postMessage(channel=self.channel, unfurl_links=False, **review_message(self.prompts, reflection))
        except Exception:  # a background job's last line: the reflection is stored and pending either way
            log.exception("reflection %s stays pending: it could not be posted to the review channel %s", reflection.id, self.channel)


@dataclass(frozen=True)
class Press:
    """One press of Approve or Reject: which reflection, by whom, on which message."""

    reflection_id: str
    user: str
    channel: str
    message_ts: str

    @classmethod
    def of(cls, action: dict, body: dict) -> Press:
        container = body.get("container", {})
        return cls(
            reflection_id=action.get("value", ""),
            user=body.get("user", {}).get("id", ""),
            channel=body.get("channel", {}).get("id") or container.get("channel_id", ""),
            message_ts=container.get("message_ts") or body.get("message", {}).get("ts", ""),
        )


class ReviewDesk:
    """Decides presses in the review channel: publish or reject, update the message, tell the author."""

    def __init__(self, reflections: ReflectionService, prompts: Prompts, channel: str) -> None:
        self.reflections = reflections
        self.prompts = prompts
        self.channel = channel
        self._deciding = threading.Lock()  # two presses at once in this process: the second finds it decided

    def decide(self, client: WebClient, press: Press, status: str) -> str | None:
        """Publish (`published`) or reject (`rejected`) the pressed reflection. Returns what to tell the
        person who pressed, or None when the updated review message says it all."""
        refusal = self._refusal(client, press)
        if refusal:
            return refusal
        with self._deciding:
            reflection = self.reflections.get(press.reflection_id)
            if reflection is None:
                return self.prompts.text("slack", "review_gone")
            if reflection.status != "pending":
                return self.prompts.text("slack", "review_already", status=reflection.status)
            decided = self.reflections.set_status(reflection.id, status)
        if decided is None:
            return self.prompts.text("slack", "review_gone")
        self._tell_author(client, decided)
        message = review_decided_message(self.prompts, decided, press.user)
        try:
            client.chat_update(channel=press.channel, ts=press.message_ts, **message)
        except SlackApiError as error:  # decided all the same: the presser hears it instead
            log.warning("review message %s/%s not updated: %s", press.channel, press.message_ts, error.response.get("error"))
            return message["text"]
        return None

    def _refusal(self, client: WebClient, press: Press) -> str | None:
        """Why this press may not decide anything, or None when it may."""
        if not self.channel or press.channel != self.channel:
            return self.prompts.text("slack", "review_not_member")
        try:
            member = self._is_member(client, press.user)
        except (SlackClientError, OSError) as error:
            log.warning("cannot tell whether %s may review in %s (%s); nothing changed", press.user, self.channel, error)
            return self.prompts.text("slack", "review_unchecked")
        return None if member else self.prompts.text("slack", "review_not_member")

    def _is_member(self, client: WebClient, user: str) -> bool:
        for page in client.conversations_members(channel=self.channel, limit=MEMBERS_PAGE):
            if user in page.get("members", []):
                return True
        return False

    def _tell_author(self, client: WebClient, reflection: Reflection) -> None:
        """A direct message to a Slack author; reflections from the API or CLI have no one to tell."""
        author = reflection.author_slack_id
        if not author:
            return
        template = "review_told_published" if reflection.status == "published" else "review_told_rejected"
        text = self.prompts.text("slack", template, title=escape(reflection.what_we_learned[:60]))
        try:
            client.chat_postMessage(channel=author, text=text)
        except SlackApiError as error:
            log.warning("the author of reflection %s was not told of its review: %s", reflection.id, error.response.get("error"))
