"""Slack turnaround: from a signed app_mention reaching /slack/events to the answer posted (stand-in Web API)."""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bench.common import timed
from bot.http.app import create_app
from bot.services import build_services
from bot.settings import Settings
from tests.conftest import LiveServer
from tests.slack_standin import SlackStandIn

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
QUESTION = "What does Selwyn say about salami slicing?"


def run() -> dict:
    stand_in = SlackStandIn()
    with tempfile.TemporaryDirectory() as tmp, LiveServer(stand_in.app) as slack_api:
        shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")
        settings = Settings(
            home=Path(tmp) / "var", corpus=Path(tmp) / "corpus", slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET), slack_api_url=f"{slack_api.url}/api/",
        )
        services = build_services(settings)
        services.pipeline.run()
        in_process = [timed(lambda: services.answers.answer(QUESTION)) for _ in range(10)]
        turnaround, ack = [], []
        with LiveServer(create_app(settings, services)) as server, httpx.Client(base_url=server.url) as client:
            for i in range(10):
                event = json.loads((REPO / "tests/fixtures/slack/events/app_mention.json").read_text())
                event["event_id"] = f"EvBench{i}"
                event["event"]["text"] = f"<@W111> {QUESTION}"
                body = json.dumps(event)
                ts = str(int(time.time()))
                headers = {"content-type": "application/json", "x-slack-request-timestamp": ts,
                           "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}
                before = len(stand_in.of("chat.postMessage"))
                start = time.perf_counter()
                client.post("/slack/events", content=body, headers=headers).raise_for_status()
                ack.append((time.perf_counter() - start) * 1000)
                stand_in.wait_for("chat.postMessage", before + 1)
                turnaround.append((time.perf_counter() - start) * 1000)
    med = lambda values: round(statistics.median(values), 1)  # noqa: E731
    return {
        "ack_ms_p50": med(ack),
        "event_to_answer_posted_ms_p50": med(turnaround),
        "event_to_answer_posted_ms_max": round(max(turnaround), 1),
        "answer_in_process_ms_p50": med(in_process),
        "turnaround_vs_in_process_ratio": round(med(turnaround) / med(in_process), 2),
    }
