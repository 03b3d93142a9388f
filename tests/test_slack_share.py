"""Sharing an /ask answer where the bot was never invited, group DMs, and the app manifest: the real
Bolt app on signed requests against the stand-in Web API (which answers not_in_channel to any post
in a channel the bot is not in, as Slack does)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from pydantic import SecretStr
from sqlmodel import Session, select

from bot.records import QueryLog
from bot.services import Services
from tests.conftest import REPO, small_services
from tests.slack_standin import SlackStandIn, serve_standin
from tests.test_slack import SECRET, fixture, home_opened, send, send_event, send_interaction, unique
from tests.test_slack_review import served

OUTSIDE = "COUTSIDE001"  # a public channel the bot was not invited to
QUESTION = "What do leaders need for collaboration across a system?"


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with serve_standin() as stand_in:
        stand_in.outside.add(OUTSIDE)
        yield stand_in


@pytest.fixture
def slack(standin: SlackStandIn, tmp_path: Path) -> Iterator[tuple[httpx.Client, Services]]:
    """A small catalog of its own (its logged questions are read back), served with its Slack app."""
    settings = {"slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET), "slack_api_url": f"{standin.url}/api/"}
    services = small_services(tmp_path, f"sqlite:///{tmp_path / 'learnloop.db'}", **settings)
    standin.calls.clear()
    with served(services) as client:
        yield client, services


def ask_and_press_share(client: httpx.Client, standin: SlackStandIn, hook: str) -> None:
    """/ask in the channel the bot is not in, then press the ephemeral answer's share button."""
    command = fixture("commands/slash_command.parsed.json") | {
        "command": "/ask", "text": QUESTION, "channel_id": OUTSIDE, "channel_name": "outside", "response_url": f"{standin.url}/response/commands/{hook}",
    }
    assert send(client, urlencode(command).encode(), "application/x-www-form-urlencoded").status_code == 200
    (reply,) = standin.wait_for(f"response:commands/{hook}")
    share = next(e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "share_answer")
    action = fixture("interactivity/block_actions_button.json")
    action["channel"] = {"id": OUTSIDE, "name": "outside"}
    action["container"] |= {"channel_id": OUTSIDE}
    action["actions"][0] |= {"action_id": "share_answer", "value": share["value"], "block_id": "feedback"}
    action["response_url"] = f"{standin.url}/response/actions/{hook}"
    assert send_interaction(client, action).status_code == 200


@pytest.mark.slow
def test_an_answer_is_shared_in_a_channel_the_bot_was_not_invited_to(slack, standin: SlackStandIn) -> None:
    client, _ = slack
    ask_and_press_share(client, standin, "outside")
    shared, removed = standin.wait_for("response:actions/outside", 2)
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    assert "Shared by <@W111>" in json.dumps(shared["blocks"]) and "Sources" in json.dumps(shared["blocks"])
    assert removed.get("delete_original") is True and "blocks" not in removed  # the ephemeral copy goes
    standin.no_more("chat.postMessage", 0, within=0.3)  # which would have failed there with not_in_channel


@pytest.mark.slow
def test_a_share_slack_refuses_is_explained_to_the_user(slack, standin: SlackStandIn) -> None:
    client, _ = slack
    standin.fail_next_response["actions/refused"] = (404, "expired_url")
    ask_and_press_share(client, standin, "refused")
    standin.wait_for("response:actions/refused:expired_url")
    (notice,) = standin.wait_for("response:actions/refused")
    assert notice["response_type"] == "ephemeral" and "could not share this answer" in notice["text"]
    standin.no_more("response:actions/refused", 1, within=0.3)  # the ephemeral answer stays: nothing was shared


def logged(services: Services) -> dict[str, bool]:
    with Session(services.catalog.engine) as session:
        return {q.question: q.private for q in session.exec(select(QueryLog))}


@pytest.mark.slow
def test_a_group_dm_is_answered_when_mentioned_and_kept_private(slack, standin: SlackStandIn) -> None:
    """People in a group DM talk to each other: a plain message there is not a question to the bot
    (a DM is). A mention is answered in its thread, and so is a follow-up there; both stay private."""
    client, services = slack
    chatter = unique(fixture("events/message_im.json"), "What time is the team lunch on Friday?", channel="G0GROUPDM1", channel_type="mpim")
    send_event(client, chatter)
    mention = unique(fixture("events/app_mention.json"), "<@W111> What is the boiling point of mercury at sea level?", channel="G0GROUPDM1")
    send_event(client, mention)
    (answer,) = standin.wait_for("chat.postMessage")  # the mention's answer, the only post: chatter came first
    assert answer["channel"] == "G0GROUPDM1" and answer["thread_ts"] == mention["event"]["ts"]
    follow_up = unique(
        fixture("events/message_im.json"), "And at the top of a mountain?", channel="G0GROUPDM1", channel_type="mpim", thread_ts=mention["event"]["ts"]
    )
    send_event(client, follow_up)
    assert standin.wait_for("chat.postMessage", 2)[1]["thread_ts"] == mention["event"]["ts"]
    send_event(client, unique(fixture("events/app_mention.json"), "<@W111> What is the airspeed velocity of an unladen swallow?"))
    standin.wait_for("chat.postMessage", 3)
    assert logged(services) == {  # the lunch chatter was never asked
        "What is the boiling point of mercury at sea level?": True,
        "And at the top of a mountain?": True,
        "What is the airspeed velocity of an unladen swallow?": False,
    }
    send_event(client, home_opened("W333"))
    home = json.dumps(standin.wait_for("views.publish")[0]["view"])
    assert "unladen swallow" in home and "mercury" not in home


MANIFEST = REPO / "slack" / "manifest.yaml"
EVENT_SCOPES = {
    "app_home_opened": None, "app_mention": "app_mentions:read", "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write", "message.channels": "channels:history", "message.groups": "groups:history",
    "message.im": "im:history", "message.mpim": "mpim:history",
}
USED_SCOPES = {
    "app_mentions:read", "assistant:write", "chat:write", "commands", "channels:history", "groups:history", "im:history", "mpim:history",
    "channels:read", "groups:read", "mpim:read",  # conversations.info (privacy) and conversations.members (review)
}


def test_the_manifest_asks_for_what_the_app_uses_and_nothing_else() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert set(events) == set(EVENT_SCOPES) and "message.mpim" in events
    assert {EVENT_SCOPES[e] for e in events} - {None} <= set(scopes)
    assert sorted(scopes) == sorted(USED_SCOPES), "a scope was added or dropped: say why in the manifest and here"


def test_every_manifest_comment_matches_its_lines() -> None:
    text = MANIFEST.read_text()
    oauth = text[text.index("oauth_config:") : text.index("\nsettings:")]
    scope_lines = [line for line in oauth.splitlines() if line.lstrip().startswith("- ")]
    assert len(scope_lines) == len(USED_SCOPES) and all("#" in line for line in scope_lines), "every scope says why"
    url_lines = [line for line in text.splitlines() if re.match(r"\s+(request_)?url: ", line)]
    assert len(url_lines) == 4 and "delete the four URL lines" in text
