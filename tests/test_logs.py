"""Structured logs: `learnloop serve --log-format json` run for real, its standard error parsed line
by line (request ids, the Slack event id, no query strings, nothing on standard output)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.logs import MAX_REQUEST_ID, DropQueryString, request_id_from
from index.db import make_engine
from tests.conftest import REPO, free_port
from tests.slack_standin import SlackStandIn, serve_standin
from tests.test_slack import SECRET, fixture, send_event, unique

# The fake embedder is registered by tests.conftest, so the server starts without the real model.
LAUNCH = "import sys, tests.conftest; from bot.cli.main import app; sys.argv[0] = 'learnloop'; app()"


@pytest.mark.parametrize("header", ["req-42", "a.b_c:D-9", "x" * MAX_REQUEST_ID])
def test_a_plain_request_id_is_kept(header: str) -> None:
    assert request_id_from(header) == header


@pytest.mark.parametrize("header", [None, "", "x" * (MAX_REQUEST_ID + 1), "two words", "line\nbreak", 'quote"', "ünicode", "<script>"])
def test_any_other_request_id_is_replaced(header: str | None) -> None:
    replaced = request_id_from(header)
    assert replaced != header and len(replaced) == 32 and all(c in "0123456789abcdef" for c in replaced)


def test_the_access_log_drops_query_strings() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "GET", "/search?q=my+question", "1.1", 200), None)
    assert DropQueryString().filter(record)
    assert record.getMessage() == '1.2.3.4:5 - "GET /search HTTP/1.1" 200'


def test_a_database_error_does_not_carry_the_question_into_the_log(tmp_path: Path) -> None:
    """SQLAlchemy puts a failed statement's parameters in its message, and a traceback logged at
    ERROR would then hold the question or reflection being stored: the engines hide them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE asked (question TEXT)")
        connection.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON asked BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    question = "my private question about a named family"
    with pytest.raises(SQLAlchemyError) as raised, engine.begin() as connection:
        connection.execute(text("INSERT INTO asked VALUES (:q)"), {"q": question})
    logged = "".join(traceback.format_exception(raised.value))
    assert "disk trouble" in logged and "named family" not in logged
    engine.dispose()
    assert make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none").hide_parameters  # not connected: the engine is lazy


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with serve_standin() as stand_in:
        yield stand_in


@pytest.fixture
def json_server(tmp_path: Path, standin: SlackStandIn) -> Iterator[tuple[httpx.Client, subprocess.Popen]]:
    port = free_port()
    (tmp_path / "corpus").mkdir()
    env = os.environ | {
        "PYTHONPATH": str(REPO),
        "LEARNLOOP_HOME": str(tmp_path / "var"),
        "LEARNLOOP_CORPUS": str(tmp_path / "corpus"),
        "LEARNLOOP_EMBED_MODEL": "fake",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "LEARNLOOP_SLACK_API_URL": f"{standin.url}/api/",
    }
    command = [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--log-format", "json"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
            yield client, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


@pytest.mark.slow
def test_serve_logs_json_lines_with_request_and_slack_event_ids(json_server, standin) -> None:
    client, process = json_server
    searched = client.get("/search", params={"q": "a private question about redundancy"}, headers={"X-Request-ID": "req-42"})
    assert searched.status_code == 200 and searched.headers["x-request-id"] == "req-42"
    generated = client.get("/healthz", headers={"X-Request-ID": "x" * 500}).headers["x-request-id"]
    assert len(generated) == 32

    standin.fail_next["chat.postMessage"] = "internal_error"  # the answer fails to post: an ERROR line
    event = unique(fixture("events/app_mention.json"), "<@W111> What do leaders need?")
    assert send_event(client, event).status_code == 200
    standin.wait_for("chat.postMessage")  # the apology, posted after the failure was logged

    process.terminate()
    stdout, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # every line is one JSON object
    assert stdout == "", "logs go to standard error"
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert "redundancy" not in stderr and "?q=" not in stderr, "no question text, no query string"

    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert [line["request_id"] for line in access if "GET /search HTTP" in line["message"]] == ["req-42"]
    assert [line["request_id"] for line in access if "GET /healthz HTTP" in line["message"]][-1] == generated
    failed = [line for line in lines if line["level"] == "ERROR" and line["logger"] == "bot.slack.responder"]
    assert len(failed) == 1 and failed[0]["slack_event_id"] == event["event_id"] and len(failed[0]["request_id"]) == 32
    assert "slack_event_id" not in access[0]
