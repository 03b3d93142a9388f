"""Slack turnaround: from a signed app_mention reaching /slack/events to the answer posted (stand-in
Web API), against the same answer in process; cold (answer caches cleared before each) and warm."""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bench.common import REPO, alternate, clear_caches, compare, fresh_services, p50, questions
from bot.http.app import create_app
from tests.conftest import LiveServer
from tests.slack_standin import SlackStandIn

SECRET = "bench-secret"
EVENT = json.loads((REPO / "tests/fixtures/slack/events/app_mention.json").read_text())


def mention(client: httpx.Client, stand_in: SlackStandIn, acks: list[float]) -> Callable[[str], object]:
    """Post each question as a new thread's app_mention and wait until its answer is posted."""
    numbers = itertools.count()

    def ask(question: str) -> object:
        n = next(numbers)
        event = {**EVENT, "event_id": f"EvBench{n}", "event": {**EVENT["event"], "text": f"<@W111> {question}", "ts": f"1595926230.{n:06d}"}}
        body = json.dumps(event)
        ts = str(int(time.time()))
        headers = {"content-type": "application/json", "x-slack-request-timestamp": ts,
                   "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}
        before = len(stand_in.of("chat.postMessage"))
        start = time.perf_counter()
        client.post("/slack/events", content=body, headers=headers).raise_for_status()
        acks.append((time.perf_counter() - start) * 1000)
        return stand_in.wait_for("chat.postMessage", before + 1)

    return ask


def run(quick: bool) -> dict:
    asked = questions(("dev",))[: 4 if quick else None]
    stand_in = SlackStandIn()
    acks: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, LiveServer(stand_in.app) as slack_api:
        services = fresh_services(
            Path(tmp), slack_bot_token=SecretStr("xoxb-bench"), slack_signing_secret=SecretStr(SECRET), slack_api_url=f"{slack_api.url}/api/"
        )

        def answer(q: str) -> object:
            return services.answers.answer(q)

        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url) as client:
            slack = mention(client, stand_in, acks)
            slack(asked[0])  # warm-up
            acks.clear()
            cold = alternate(slack, answer, asked, before=clear_caches)
            for q in asked:
                answer(q)
            warm = alternate(slack, answer, asked)
    return {
        "questions": len(asked),
        "ack_ms_p50": p50(acks),
        "ack_ms_max": round(max(acks), 1),
        "turnaround_vs_in_process_cold": compare(*cold),
        "turnaround_vs_in_process_warm": compare(*warm),
        "turnaround_ms_max": round(max(cold[0] + warm[0]), 1),
    }
