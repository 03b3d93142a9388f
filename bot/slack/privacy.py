"""Which Slack questions are private: asked in a DM, a group DM, a private channel or the assistant panel.

Private questions are logged as such and never shown to anyone else (knowledge gaps, App Home). When a
payload does not say where it came from (an `app_mention` has no channel_type), Slack is asked; when
Slack cannot tell, the question counts as private: a missed gap is better than a leaked question.
"""

from __future__ import annotations

import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)

PRIVATE_CHANNEL_TYPES = frozenset({"im", "mpim", "group"})
PRIVATE_COMMAND_CHANNELS = frozenset({"directmessage", "privategroup"})
REMEMBER_FOR = 3600.0  # seconds; a channel can be made private, so its answer is asked again now and then


def private_by_id(channel: str) -> bool:
    """D: a direct message; G: a group DM or a private channel from before Slack gave those C ids too."""
    return channel.startswith(("D", "G"))


class ChannelPrivacy:
    """Whether an event's channel is private, from its channel_type, its id, or conversations.info (cached)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[bool, float]] = {}

    def of_event(self, client: WebClient, event: dict) -> bool:
        channel_type = event.get("channel_type")
        if channel_type:
            return channel_type in PRIVATE_CHANNEL_TYPES
        channel = event.get("channel", "")
        return private_by_id(channel) or self._ask(client, channel)

    def of_command(self, client: WebClient, command: dict) -> bool:
        """A slash command from a DM, group DM (`mpdm-...`) or private channel; otherwise Slack is asked,
        since a group DM's command may carry a C id and a name Slack does not document."""
        name = command.get("channel_name") or ""
        channel = command.get("channel_id", "")
        if name in PRIVATE_COMMAND_CHANNELS or name.startswith("mpdm-") or private_by_id(channel):
            return True
        return self._ask(client, channel)

    def _ask(self, client: WebClient, channel: str) -> bool:
        known = self._known.get(channel)
        if known and known[1] > time.monotonic():
            return known[0]
        try:
            info = client.conversations_info(channel=channel).get("channel") or {}
        except (SlackClientError, OSError) as error:
            log.warning("cannot tell whether %s is private (%s); treating it as private", channel, error)
            return True
        private = not info or any(info.get(flag) for flag in ("is_private", "is_im", "is_mpim", "is_group"))
        self._known[channel] = (private, time.monotonic() + REMEMBER_FOR)
        return private
