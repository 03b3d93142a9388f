"""Review in Slack: pending reflections from every surface reach the review channel with Approve and
Reject; the real Bolt app, on signed requests against the stand-in Web API, decides a press through
the same ReflectionService calls as PATCH /reflections/{id}, updates the message and tells the author.
Only members of the review channel may decide, and a Slack outage never costs a reflection."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from bot.http.app import create_app
from bot.prompts import Prompts
from bot.records import Reflection
from bot.services import Services
from bot.settings import Settings
from bot.slack.blocks import SECTION_LIMIT, review_decided_message, review_message
from tests.conftest import REPO, LiveServer, small_services, throwaway_database
from tests.slack_standin import SlackStandIn, serve_standin
from tests.test_slack import SECRET, fixture, send_interaction, strings, submission

REVIEW = "CREVIEW0001"
AUTHOR = "W111"  # the user in the stand-in's modal submission
REVIEWER = "W900"
PROMPTS = Prompts.load()

CARERS = {
    "what_happened": "We asked Torbay carers what respite they wanted before re-tendering the service.",
    "what_we_learned": "Carers wanted flexible respite slots they book themselves more than extra assessments.",
    "what_next": "",
    "tags": "carers",
}


API_BODY = CARERS | {"tags": ["carers"]}


def slack_settings(standin: SlackStandIn, **overrides: object) -> dict:
    return {
        "slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET), "slack_api_url": f"{standin.url}/api/",
        "review": True, "review_channel": REVIEW, **overrides,
    }


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with serve_standin() as stand_in:
        yield stand_in


@pytest.fixture(autouse=True)
def fresh_calls(request: pytest.FixtureRequest) -> None:
    """Each Slack test reads only the calls it caused (the stand-in is shared by the module)."""
    if "standin" in request.fixturenames:
        request.getfixturevalue("standin").calls.clear()


@contextmanager
def served(services: Services) -> Iterator[httpx.Client]:
    """The API with the Slack app, on a real server over `services`."""
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def review_slack(request: pytest.FixtureRequest, standin, tmp_path: Path) -> Iterator[tuple[httpx.Client, Services]]:
    """A small catalog with review on and a review channel, on SQLite and PostgreSQL, served with its Slack app."""
    with throwaway_database(request.param, tmp_path) as url:
        services = small_services(tmp_path, url, **slack_settings(standin))
        try:
            with served(services) as client:
                yield client, services
        finally:
            services.catalog.engine.dispose()


def posted_for_review(standin: SlackStandIn, count: int = 1) -> list[dict]:
    """Review-channel posts, once `count` of them have arrived."""
    return standin.wait_for("chat.postMessage", count, where=lambda post: post["channel"] == REVIEW)


def buttons(message: dict) -> dict[str, str]:
    return {e["action_id"]: e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def press(client: httpx.Client, standin, action_id: str, reflection_id: str, user: str = REVIEWER, channel: str = REVIEW, hook: str = "review") -> None:
    payload = fixture("interactivity/block_actions_button.json")
    payload["user"] = {"id": user, "username": "reviewer", "name": "reviewer", "team_id": "T111"}
    payload["channel"] = {"id": channel, "name": "reviews"}
    payload["container"] = {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel, "is_ephemeral": False}
    payload["response_url"] = f"{standin.url}/response/actions/{hook}"
    payload["actions"][0] |= {"action_id": action_id, "value": reflection_id, "block_id": "review"}
    assert send_interaction(client, payload).status_code == 200


def status_of(services: Services, reflection_id: str) -> str:
    reflection = services.reflections.get(reflection_id)
    return reflection.status if reflection else "gone"


def found(services: Services, words: str, reflection_id: str) -> bool:
    return any(f"reflection:{reflection_id}" in h.source for h in services.searcher.search(words, 10))


@pytest.mark.slow
def test_a_slack_reflection_is_reviewed_in_the_channel_and_its_author_told(review_slack, standin) -> None:
    client, services = review_slack
    standin.members[REVIEW] = ["W100", "W101", REVIEWER]  # one a page: the reviewer is found on the third
    send_interaction(client, submission(CARERS, {"channel": "C111"}))
    (post,) = posted_for_review(standin)
    (thanks,) = standin.wait_for("chat.postMessage", where=lambda message: message["channel"] == AUTHOR)
    assert "once a reviewer approves it" in thanks["text"]
    reflection_id = buttons(post)["review_approve"]
    assert buttons(post) == {"review_approve": reflection_id, "review_reject": reflection_id}
    assert "flexible respite slots" in json.dumps(post["blocks"]) and status_of(services, reflection_id) == "pending"
    assert not found(services, "flexible respite slots carers book", reflection_id)
    standin.calls.clear()

    press(client, standin, "review_approve", reflection_id)
    (update,) = standin.wait_for("chat.update")
    assert update["channel"] == REVIEW and update["ts"] == "1700000000.000100"
    assert f"Approved by <@{REVIEWER}>" in update["text"] and "actions" not in [b["type"] for b in update["blocks"]]
    assert status_of(services, reflection_id) == "published"
    assert found(services, "flexible respite slots carers book", reflection_id)
    (told,) = standin.wait_for("chat.postMessage")
    assert told["channel"] == AUTHOR and "approved" in told["text"] and "flexible respite" in told["text"]
    assert services.reflections.get(reflection_id).author_slack_id == AUTHOR


@pytest.mark.slow
def test_reject_erases_and_a_second_press_changes_nothing(review_slack, standin) -> None:
    client, services = review_slack
    standin.members[REVIEW] = [REVIEWER]
    created = client.post("/reflections", json=API_BODY)
    assert created.status_code == 201 and created.json()["status"] == "pending"
    reflection_id = created.json()["id"]
    assert buttons(posted_for_review(standin)[0])["review_reject"] == reflection_id
    standin.calls.clear()

    press(client, standin, "review_reject", reflection_id)
    (update,) = standin.wait_for("chat.update")
    assert f"Rejected by <@{REVIEWER}>" in update["text"]
    assert not any("respite" in s for s in strings(update)), "a rejected reflection's words stay out of the channel"
    assert status_of(services, reflection_id) == "rejected" and not found(services, "flexible respite slots carers book", reflection_id)

    press(client, standin, "review_approve", reflection_id, hook="again")
    (notice,) = standin.wait_for("response:actions/again")
    assert notice["response_type"] == "ephemeral" and "already rejected" in notice["text"]
    standin.no_more("chat.update", 1, within=0.5)
    assert status_of(services, reflection_id) == "rejected"
    assert standin.of("chat.postMessage") == [], "an API reflection has no Slack author to tell"


@pytest.mark.slow
@pytest.mark.parametrize(("user", "channel"), [("W999", REVIEW), (REVIEWER, "C111")], ids=["not-a-member", "not-the-review-channel"])
def test_only_members_of_the_review_channel_may_decide(review_slack, standin, user: str, channel: str) -> None:
    client, services = review_slack
    standin.members[REVIEW] = ["W100", REVIEWER]
    reflection_id = client.post("/reflections", json=API_BODY).json()["id"]
    posted_for_review(standin)
    press(client, standin, "review_approve", reflection_id, user=user, channel=channel, hook="refused")
    (refusal,) = standin.wait_for("response:actions/refused")
    assert refusal["response_type"] == "ephemeral" and "Only members of the review channel" in refusal["text"]
    standin.no_more("chat.update", 0, within=0.5)
    assert status_of(services, reflection_id) == "pending"


@pytest.mark.slow
def test_a_slow_or_failing_slack_never_holds_up_or_loses_a_reflection(review_slack, standin, caplog) -> None:
    client, services = review_slack
    standin.held["chat.postMessage"] = threading.Event()
    try:
        created = client.post("/reflections", json=API_BODY)  # returns while Slack still holds the post
        assert created.status_code == 201 and status_of(services, created.json()["id"]) == "pending"
    finally:
        standin.held.pop("chat.postMessage").set()
    posted_for_review(standin)

    logged = threading.Event()
    catch = CatchLog(logged, "stays pending")
    logging.getLogger("bot.slack.review").addHandler(catch)
    try:
        standin.fail_next["chat.postMessage"] = "fatal_error"
        failed = client.post("/reflections", json=API_BODY | {"what_happened": "A second trial in Paignton."})
        assert failed.status_code == 201
        assert logged.wait(15), "the failed post was not logged"
    finally:
        logging.getLogger("bot.slack.review").removeHandler(catch)
    assert status_of(services, failed.json()["id"]) == "pending"


class CatchLog(logging.Handler):
    """Sets `event` when a record containing `text` is logged (from any thread)."""

    def __init__(self, event: threading.Event, text: str) -> None:
        super().__init__()
        self.event, self.text = event, text

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


CLI_REFLECT = """
from tests.conftest import FakeEmbedder
from bot.reflection_models import ReflectionCreate
from bot.services import build_services
from bot.settings import Settings

services = build_services(Settings(), embedder=FakeEmbedder())
services.reflections.create(ReflectionCreate(what_happened="A CLI trial in Brixham.", what_we_learned="Posted before exit."), origin="cli")
"""


@pytest.mark.slow
def test_a_reflection_stored_by_a_short_lived_process_is_posted_before_it_exits(standin, tmp_path: Path) -> None:
    """The CLI stores a reflection and exits at once: the background post still happens."""
    env = os.environ | {
        "LEARNLOOP_HOME": str(tmp_path / "var"), "LEARNLOOP_CORPUS": str(tmp_path / "corpus"), "LEARNLOOP_REVIEW": "true",
        "LEARNLOOP_REVIEW_CHANNEL": REVIEW, "SLACK_BOT_TOKEN": "xoxb-test", "LEARNLOOP_SLACK_API_URL": f"{standin.url}/api/",
    }
    done = subprocess.run([sys.executable, "-c", CLI_REFLECT], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (post,) = [p for p in standin.of("chat.postMessage") if p["channel"] == REVIEW]
    assert "Posted before exit." in json.dumps(post["blocks"]) and "from cli" in json.dumps(post["blocks"])


@pytest.mark.parametrize("value", ["#reviews", "reviews", "c0123456789", "U0123456789", "C01234<!channel>", "C" * 40])
def test_a_review_channel_that_is_not_a_channel_id_is_a_clear_settings_error(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(review_channel=value)
    (error,) = raised.value.errors()
    assert error["msg"].startswith("LEARNLOOP_REVIEW_CHANNEL must be a Slack channel id") and "\n" not in error["msg"]


def test_a_channel_id_is_accepted_as_given() -> None:
    assert Settings(review_channel=" C0123456789 ").review_channel == "C0123456789"
    assert Settings(review_channel="G01ABCDEF23").review_channel == "G01ABCDEF23"
    assert Settings().review_channel == ""


HOSTILE = "<!channel> <@U123> <https://evil.example|NHS guidance> & more"


def hostile_reflection(status: str = "pending") -> Reflection:
    return Reflection(
        id="r1", what_happened=HOSTILE + " " + "x" * 4000, what_we_learned=HOSTILE, what_next=HOSTILE, tags=["carers"],
        author=HOSTILE, team="Torbay", place="Devon", origin="slack", permalink="https://x.slack.com/archives/C1/p1", status=status,
    )


def test_the_review_message_escapes_every_stored_string_and_carries_the_buttons() -> None:
    message = review_message(PROMPTS, hostile_reflection())
    assert buttons(message) == {"review_approve": "r1", "review_reject": "r1"}
    sent = list(strings(message))
    assert [s for s in sent if any(raw in s for raw in ("<!channel>", "<@U123>", "<https://evil"))] == []
    assert any("&lt;!channel&gt;" in s for s in sent) and any("Torbay · Devon" in s for s in sent)
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in message["blocks"] if b["type"] == "section")


def test_a_decided_message_names_who_and_keeps_a_rejected_reflections_words_out() -> None:
    approved = review_decided_message(PROMPTS, hostile_reflection("published"), REVIEWER)
    assert "Approved by <@W900>" in approved["text"] and "&lt;!channel&gt;" in json.dumps(approved["blocks"])
    rejected = review_decided_message(PROMPTS, hostile_reflection("rejected"), "<!channel>")
    assert "Rejected by &lt;!channel&gt;" in rejected["text"] and "NHS" not in json.dumps(rejected)
    assert not any(b["type"] == "actions" for b in approved["blocks"] + rejected["blocks"])
