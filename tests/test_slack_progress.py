"""Progress in Slack while an LLM writes: the real Bolt app on signed requests, against the Slack
stand-in and a scripted LLM that holds its first token and the rest until the test lets them go, so
each step is seen before the next can happen."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.http.app import create_app
from tests.conftest import LiveServer, clone_services
from tests.llm_standin import LLMStandIn, first_sentence_of_source, serve_llm
from tests.slack_standin import SlackStandIn, serve_standin
from tests.test_slack import SECRET, fixture, send_event, unique

pytestmark = pytest.mark.slow

QUESTION = "What does Selwyn say about salami slicing?"
MENTION_THREAD = "1595926230.009600"  # the fixture mention's ts: the reply's thread
ASSISTANT_THREAD = "1726133698.626339"


@contextmanager
def slack_app(ingested, home: Path, llm_url: str = "") -> Iterator[tuple[httpx.Client, SlackStandIn]]:
    """The API with the Slack app on a private catalog; in LLM mode when `llm_url` is given."""
    with serve_standin() as standin:
        llm = {"llm_base_url": llm_url, "llm_model": "held:good", "llm_timeout": 30.0} if llm_url else {}
        services = clone_services(
            ingested, home, slack_bot_token=SecretStr("xoxb-test"), slack_signing_secret=SecretStr(SECRET), slack_api_url=f"{standin.url}/api/", **llm
        )
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            yield client, standin


@pytest.fixture
def llm() -> Iterator[tuple[LLMStandIn, str]]:
    with serve_llm({"good": lambda messages: f"{first_sentence_of_source(messages, 1)} [1]"}) as served:
        yield served


def test_a_mention_gets_a_placeholder_that_the_answer_replaces(ingested, llm, tmp_path: Path) -> None:
    stand_in, url = llm
    with slack_app(ingested, tmp_path / "var", url) as (client, slack):
        send_event(client, unique(fixture("events/app_mention.json"), f"<@W111> {QUESTION}"))
        (placeholder,) = slack.wait_for("chat.postMessage")
        assert placeholder["text"] == "Looking through the reports…" and placeholder["thread_ts"] == MENTION_THREAD
        assert slack.of("chat.update") == []  # the LLM has not written a word yet

        stand_in.first_token.set()
        (writing,) = slack.wait_for("chat.update")
        assert writing["text"] == "Writing the answer…" and writing["ts"] == slack.posted[0]

        stand_in.rest.set()
        answer = slack.wait_for("chat.update", 2)[1]
        assert answer["ts"] == slack.posted[0] and answer["channel"] == "C111"
        assert "[1]" in answer["text"] and "Sources" in json.dumps(answer["blocks"])
        assert len(slack.of("chat.postMessage")) == 1  # replaced in place, not posted again


def test_the_assistant_panel_status_says_reading_then_writing(ingested, llm, tmp_path: Path) -> None:
    stand_in, url = llm
    with slack_app(ingested, tmp_path / "var", url) as (client, slack):
        send_event(client, unique(fixture("events/message_im_assistant_thread.json"), QUESTION))
        (reading,) = slack.wait_for("assistant.threads.setStatus")
        assert reading["status"] == "is reading the reports…" and reading["thread_ts"] == ASSISTANT_THREAD

        stand_in.first_token.set()
        writing = slack.wait_for("assistant.threads.setStatus", 2)[1]
        assert writing["status"] == "is writing…"
        assert slack.of("chat.postMessage") == []

        stand_in.rest.set()
        (answer,) = slack.wait_for("chat.postMessage")  # Slack clears the status when the reply is posted
        assert answer["thread_ts"] == ASSISTANT_THREAD and "[1]" in answer["text"] and "Sources" in json.dumps(answer["blocks"])
        assert slack.of("chat.update") == []  # the panel has its status line, so no placeholder


def test_an_answer_slack_refuses_is_replaced_by_an_apology_in_the_placeholder(ingested, llm, tmp_path: Path) -> None:
    stand_in, url = llm
    with slack_app(ingested, tmp_path / "var", url) as (client, slack):
        send_event(client, unique(fixture("events/app_mention.json"), f"<@W111> {QUESTION}"))
        slack.wait_for("chat.postMessage")
        stand_in.first_token.set()
        slack.wait_for("chat.update")
        slack.fail_next["chat.update"] = "invalid_blocks"
        stand_in.rest.set()

        apology = slack.wait_for("chat.update", 2)[1]  # the refused update is recorded as chat.update:invalid_blocks
        assert apology["ts"] == slack.posted[0] and apology["text"].startswith("Sorry, something went wrong")
        assert len(slack.of("chat.postMessage")) == 1


def test_extractive_answers_are_posted_at_once_without_a_placeholder(ingested, tmp_path: Path) -> None:
    with slack_app(ingested, tmp_path / "var") as (client, slack):
        send_event(client, unique(fixture("events/app_mention.json"), f"<@W111> {QUESTION}"))
        (answer,) = slack.wait_for("chat.postMessage")
        assert answer["thread_ts"] == MENTION_THREAD and "Sources" in json.dumps(answer["blocks"])
        assert slack.of("chat.update") == []
