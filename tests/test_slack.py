"""The real Bolt app in HTTP mode, on signed requests built from Slack's own payloads, against a stand-in Web API."""

import copy
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlmodel import Session

from bot.http.app import create_app
from bot.records import QueryLog
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from tests.conftest import FIXTURES, LiveServer, clone_services
from tests.slack_standin import SlackStandIn, serve_standin

pytestmark = pytest.mark.slow

SECRET = "test-signing-secret"
SLACK = FIXTURES / "slack"


def fixture(name: str) -> dict:
    return json.loads((SLACK / name).read_text())


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with serve_standin() as stand_in:
        yield stand_in


@contextmanager
def slack_server(ingested, standin, home: Path) -> Iterator[tuple[httpx.Client, Services]]:
    """The API with the Slack app, on a private copy of the ingested catalog."""
    services = clone_services(
        ingested, home, slack_bot_token=SecretStr("xoxb-test"), slack_signing_secret=SecretStr(SECRET), slack_api_url=f"{standin.url}/api/"
    )
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, services


@pytest.fixture(scope="module")
def slack(ingested, standin, tmp_path_factory):
    """Shared by tests whose writes (their own question log rows) no other test reads."""
    with slack_server(ingested, standin, tmp_path_factory.mktemp("slack") / "var") as served:
        yield served


@pytest.fixture
def own_slack(ingested, standin, tmp_path: Path):
    """A Slack app on its own catalog, for a test that stores reflections, feedback or gaps."""
    with slack_server(ingested, standin, tmp_path / "var") as served:
        yield served


@pytest.fixture(autouse=True)
def fresh_calls(standin):
    standin.calls.clear()


def send(client: httpx.Client, body: bytes, content_type: str, *, secret: str = SECRET, timestamp: int | None = None, headers: dict | None = None) -> httpx.Response:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body.decode())
    sent = {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": signature, **(headers or {})}
    return client.post("/slack/events", content=body, headers=sent)


def send_event(client: httpx.Client, payload: dict, **kwargs) -> httpx.Response:
    return send(client, json.dumps(payload).encode(), "application/json", **kwargs)


def send_interaction(client: httpx.Client, payload: dict) -> httpx.Response:
    return send(client, urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


def unique(payload: dict, text: str | None = None, **event_fields) -> dict:
    body = copy.deepcopy(payload)
    body["event_id"] = f"Ev{time.time_ns()}"
    if text is not None:
        body["event"]["text"] = text
    body["event"].update(event_fields)
    return body


def test_signature_vector_matches_slack_docs() -> None:
    vector = fixture("signature/slack_signature_test_vector.json")
    signature = SignatureVerifier(vector["signing_secret"]).generate_signature(timestamp=vector["timestamp"], body=vector["body"])
    assert signature == vector["expected_x_slack_signature"]


def test_unsigned_bad_and_replayed_requests_get_401(slack) -> None:
    client, _ = slack
    body = json.dumps(fixture("events/app_mention.json")).encode()
    assert client.post("/slack/events", content=body, headers={"content-type": "application/json"}).status_code == 401
    assert send(client, body, "application/json", secret="wrong-secret").status_code == 401
    assert send(client, body, "application/json", timestamp=int(time.time()) - 3600).status_code == 401


def test_url_verification_is_answered(slack) -> None:
    client, _ = slack
    payload = fixture("events/url_verification.json")
    response = send_event(client, payload)
    assert response.status_code == 200 and payload["challenge"] in response.text


def test_mention_is_answered_in_its_thread_with_sources_and_feedback(slack, standin) -> None:
    client, _ = slack
    event = unique(fixture("events/app_mention.json"), "<@W111> What does Selwyn say about salami slicing?")
    started = time.monotonic()
    response = send_event(client, event)
    assert response.status_code == 200 and time.monotonic() - started < 3
    (message,) = standin.wait_for("chat.postMessage")
    assert message["channel"] == "C111" and message["thread_ts"] == event["event"]["ts"]
    blocks = message["blocks"]
    text = json.dumps(blocks)
    assert "*Sources*" in text and "Outcomes &amp; Efficiency Leadership Handbook - Richard Selwyn (2012)" in text
    buttons = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["feedback_helpful", "feedback_not_helpful"]
    assert len(blocks) <= 50 and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_retried_event_is_not_answered_twice(slack, standin) -> None:
    client, _ = slack
    event = unique(fixture("events/app_mention.json"), "<@W111> What does VUCA stand for?")
    assert send_event(client, event).status_code == 200
    standin.wait_for("chat.postMessage")
    assert send_event(client, event, headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}).status_code == 200
    standin.no_more("chat.postMessage", 1)


@pytest.mark.parametrize(
    "name", ["message_bot.json", "message_classic_bot.json", "message_im_from_bot.json", "message_changed.json", "message_deleted.json", "message_im_bot_thread_reply.json"]
)
def test_bot_messages_edits_and_deletions_are_ignored(slack, standin, name: str) -> None:
    client, _ = slack
    assert send_event(client, unique(fixture(f"events/{name}"))).status_code == 200
    standin.no_more("chat.postMessage", 0)


def test_direct_message_is_answered_in_the_dm_thread(slack, standin) -> None:
    client, _ = slack
    event = unique(fixture("events/message_im.json"), "What skills should we hire for collaboration?")
    send_event(client, event)
    (message,) = standin.wait_for("chat.postMessage")
    assert message["channel"] == "D111" and message["thread_ts"] == event["event"]["ts"]
    assert "Sources" in json.dumps(message["blocks"])


def test_follow_up_in_an_answered_thread_uses_the_thread(slack, standin) -> None:
    client, services = slack
    mention = unique(fixture("events/app_mention.json"), "<@W111> What does Selwyn say about salami slicing?", ts=f"{time.time():.6f}")
    send_event(client, mention)
    standin.wait_for("chat.postMessage")
    reply = unique(fixture("events/message_channel_thread_reply.json"), "and what does he suggest instead?", thread_ts=mention["event"]["ts"], channel="C111")
    send_event(client, reply)
    messages = standin.wait_for("chat.postMessage", 2)
    assert messages[1]["thread_ts"] == mention["event"]["ts"]
    assert "Outcomes &amp; Efficiency" in json.dumps(messages[1]["blocks"])  # escaped for Slack, shown as "&"
    stranger = unique(fixture("events/message_channel_thread_reply.json"), "unrelated chatter", thread_ts="1111.2222")
    send_event(client, stranger)
    labelled = unique(fixture("events/message_channel_thread_reply.json"), "<@W111|learnloop> and the budget?", thread_ts=mention["event"]["ts"], channel="C111")
    send_event(client, labelled)  # a mention: its app_mention twin answers it, so this copy must not
    standin.no_more("chat.postMessage", 2)


def test_slash_ask_answers_ephemerally_and_can_be_shared(slack, standin) -> None:
    client, _ = slack
    command = fixture("commands/slash_command.parsed.json") | {
        "command": "/ask",
        "text": "How should a funder think about risk in complexity-friendly funding?",
        "response_url": f"{standin.url}/response/commands/T111/1/x",
    }
    assert send(client, urlencode(command).encode(), "application/x-www-form-urlencoded").status_code == 200
    (reply,) = standin.wait_for("response:commands/T111/1/x")
    assert reply["response_type"] == "ephemeral"
    share = next(e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "share_answer")
    action = fixture("interactivity/block_actions_button.json")
    action["actions"][0] |= {"action_id": "share_answer", "value": share["value"], "block_id": "feedback"}
    action["response_url"] = f"{standin.url}/response/actions/share"
    assert send_interaction(client, action).status_code == 200
    posted, removed = standin.wait_for("response:actions/share", 2)  # through the response_url: see tests/test_slack_share.py
    assert posted["response_type"] == "in_channel" and "Shared by <@W111>" in json.dumps(posted["blocks"])
    assert removed.get("delete_original") is True


def test_slash_learned_and_shortcuts_open_the_reflection_modal(slack, standin) -> None:
    client, _ = slack
    command = fixture("commands/slash_command.parsed.json") | {"command": "/learned", "text": ""}
    send(client, urlencode(command).encode(), "application/x-www-form-urlencoded")
    (opened,) = standin.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "reflection_modal"
    assert [b["block_id"] for b in view["blocks"]] == ["what_happened", "what_we_learned", "what_next", "tags"]
    assert all(b["element"]["action_id"] == b["block_id"] for b in view["blocks"])

    send_interaction(client, fixture("interactivity/global_shortcut.json") | {"callback_id": "share_learning"})
    standin.wait_for("views.open", 2)

    shortcut = fixture("interactivity/message_action.json") | {"callback_id": "capture_learning"}
    send_interaction(client, shortcut)
    standin.wait_for("chat.getPermalink")
    prefilled = standin.wait_for("views.open", 3)[2]["view"]
    assert prefilled["blocks"][0]["element"]["initial_value"] == "<@W222> test"
    assert json.loads(prefilled["private_metadata"])["permalink"].endswith("p1583636382000300")


def submission(values: dict, metadata: dict | None = None) -> dict:
    payload = fixture("interactivity/view_submission.json")
    payload["view"]["callback_id"] = "reflection_modal"
    payload["view"]["private_metadata"] = json.dumps(metadata or {})
    payload["view"]["state"] = {"values": {k: {k: {"type": "plain_text_input", "value": v}} for k, v in values.items()}}
    return payload


TORBAY = {
    "what_happened": "We ran a community conversation in Torbay before re-tendering the carers service.",
    "what_we_learned": "Carers wanted flexible respite more than extra assessment capacity; the spec changed.",
    "what_next": "",
    "tags": "carers, Co-production",
}


def test_modal_submission_is_acknowledged_before_the_reflection_is_stored(own_slack, standin, monkeypatch) -> None:
    client, services = own_slack
    store, release = services.reflections.create, threading.Event()

    def slow_store(*args, **kwargs):
        assert release.wait(15), "the modal was not acknowledged while the store waited"
        return store(*args, **kwargs)

    monkeypatch.setattr(services.reflections, "create", slow_store)
    permalink = "https://learnloop-test.slack.com/archives/C111/p1583636382000300"
    response = send_interaction(client, submission(TORBAY, {"channel": "C111", "permalink": permalink}))
    assert response.status_code == 200 and response.text in ("", "{}")
    assert not any("Torbay" in r.what_happened for r in services.reflections.list())  # acknowledged first, stored after
    release.set()
    confirmation = standin.wait_for("chat.postMessage")[0]
    assert confirmation["channel"] == "W111" and "searchable now" in confirmation["text"]
    stored = next(r for r in services.reflections.list() if "Torbay" in r.what_happened)
    assert stored.origin == "slack" and stored.permalink == permalink and stored.tags == ["carers", "co-production"]
    assert any("Torbay" in h.text for h in services.searcher.search("flexible respite for carers Torbay", 5))


def test_a_reflection_that_fails_to_store_after_the_ack_gets_an_apology(own_slack, standin, monkeypatch, caplog) -> None:
    client, services = own_slack

    def broken(*args, **kwargs):
        raise KeyError("embedding worker gone")

    monkeypatch.setattr(services.reflections, "create", broken)
    response = send_interaction(client, submission(TORBAY))
    assert response.status_code == 200 and response.text in ("", "{}")
    (apology,) = standin.wait_for("chat.postMessage")
    assert apology["channel"] == "W111" and "Sorry" in apology["text"] and "embedding worker" not in apology["text"]
    assert any("saving a reflection failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"what_happened": "It went well.", "what_we_learned": "   ", "what_next": "", "tags": ""}, "what_we_learned"),
        ({"what_happened": "Email me at a.person@example.org", "what_we_learned": "Something useful.", "what_next": "", "tags": ""}, "what_happened"),
    ],
)
def test_modal_errors_show_on_the_field(slack, values: dict, field: str) -> None:
    client, _ = slack
    response = send_interaction(client, submission(values))
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors" and field in body["errors"]


def test_feedback_buttons_store_feedback(own_slack, standin) -> None:
    client, services = own_slack
    answer = services.answers.answer("What does Selwyn say about salami slicing?", surface="slack")
    action = fixture("interactivity/block_actions_button.json")
    action["response_url"] = f"{standin.url}/response/actions/fb"
    action["actions"][0] |= {"action_id": "feedback_not_helpful", "value": answer.question_id}
    send_interaction(client, action)
    (modal,) = standin.wait_for("views.open")
    assert modal["view"]["callback_id"] == "feedback_modal"
    gaps = services.gaps.gaps()
    assert any(answer.question_id in g.question_ids and "unhelpful" in g.reasons for g in gaps)
    action["actions"][0] |= {"action_id": "feedback_helpful"}
    send_interaction(client, action)
    assert len(standin.wait_for("response:actions/fb", 2)) == 2


def test_assistant_thread_gets_prompts_status_and_answer(slack, standin) -> None:
    client, _ = slack
    send_event(client, unique(fixture("events/assistant_thread_started.json")))
    prompts = standin.wait_for("assistant.threads.setSuggestedPrompts")[0]
    assert len(json.loads(prompts["prompts"]) if isinstance(prompts["prompts"], str) else prompts["prompts"]) == 3
    standin.calls.clear()
    send_event(client, unique(fixture("events/message_im_assistant_thread.json"), "What is Total Place?"))
    status = standin.wait_for("assistant.threads.setStatus")[0]
    assert status["status"] == "Searching the reports..."
    answer = standin.wait_for("chat.postMessage")[0]
    assert answer["thread_ts"] == "1726133698.626339" and "Sources" in json.dumps(answer["blocks"])


def home_opened(user: str) -> dict:
    return {"token": "t", "team_id": "T111", "api_app_id": "A111", "type": "event_callback", "event_id": f"Ev{time.time_ns()}", "event_time": 1,
            "event": {"type": "app_home_opened", "user": user, "channel": "D111", "tab": "home", "event_ts": "1.2"}}


def test_app_home_shows_reflections_and_gaps(own_slack, standin) -> None:
    client, _ = own_slack
    send_event(client, home_opened("W222"))
    published = standin.wait_for("views.publish")[0]
    assert published["user_id"] == "W222" and "Open knowledge gaps" in json.dumps(published["view"])


def test_rate_limited_post_is_retried(slack, standin) -> None:
    client, _ = slack
    standin.rate_limit_next["chat.postMessage"] = 1
    send_event(client, unique(fixture("events/app_mention.json"), "<@W111> What is Total Place?"))
    standin.wait_for("chat.postMessage", timeout=20)
    assert [n for n, _ in standin.calls if n.startswith("chat.postMessage")] == ["chat.postMessage:429", "chat.postMessage"]


@pytest.mark.parametrize("error", [RuntimeError("index unavailable"), KeyError("index unavailable")])
def test_failure_while_answering_apologises_in_the_thread(slack, standin, monkeypatch, error: Exception) -> None:
    client, services = slack

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(services.answers, "answer", broken)
    event = unique(fixture("events/app_mention.json"), "<@W111> anything")
    send_event(client, event)
    (message,) = standin.wait_for("chat.postMessage")
    assert message["thread_ts"] == event["event"]["ts"] and "Sorry" in message["text"] and "index unavailable" not in message["text"]


def test_slack_refusing_the_answer_leads_to_an_apology_attempt(slack, standin, caplog) -> None:
    client, _ = slack
    standin.fail_next["chat.postMessage"] = "msg_blocks_too_long"
    event = unique(fixture("events/app_mention.json"), "<@W111> What is Total Place?")
    send_event(client, event)
    apology = standin.wait_for("chat.postMessage")[0]
    assert [n for n, _ in standin.calls if n.startswith("chat.postMessage")] == ["chat.postMessage:msg_blocks_too_long", "chat.postMessage"]
    assert apology["thread_ts"] == event["event"]["ts"] and "Sorry" in apology["text"]
    assert any("msg_blocks_too_long" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_too_long_ask_is_explained_ephemerally(slack, standin) -> None:
    client, services = slack
    limit = services.settings.max_question_chars
    command = fixture("commands/slash_command.parsed.json") | {
        "command": "/ask", "text": "why " * limit, "response_url": f"{standin.url}/response/commands/T111/1/long",
    }
    assert send(client, urlencode(command).encode(), "application/x-www-form-urlencoded").status_code == 200
    (reply,) = standin.wait_for("response:commands/T111/1/long")
    assert reply["response_type"] == "ephemeral" and "too long" in reply["text"] and str(limit) in reply["text"]


def test_socket_mode_starts_beside_the_api(ingested, standin, tmp_path: Path) -> None:
    services = clone_services(
        ingested, tmp_path / "var", slack_bot_token=SecretStr("xoxb-test"), slack_signing_secret=SecretStr(SECRET),
        slack_app_token=SecretStr("xapp-test"), slack_api_url=f"{standin.url}/api/",
    )
    with LiveServer(create_app(services.settings, services)) as server:
        standin.wait_for("apps.connections.open")
        assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_slack_endpoint_without_slack_settings_is_404(ingested) -> None:
    with LiveServer(create_app(ingested.settings, ingested)) as server:
        assert httpx.post(f"{server.url}/slack/events", json={}).status_code == 404


def test_abstention_offers_to_share_what_you_know(slack, standin) -> None:
    client, _ = slack
    event = unique(fixture("events/app_mention.json"), "<@W111> What is the boiling point of mercury at sea level?")
    send_event(client, event)
    (message,) = standin.wait_for("chat.postMessage")
    assert "I could not find" in message["text"]
    offer = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "share_what_you_know")
    action = fixture("interactivity/block_actions_button.json")
    action["actions"][0] |= {"action_id": "share_what_you_know", "value": offer["value"]}
    send_interaction(client, action)
    (opened,) = standin.wait_for("views.open")
    assert opened["view"]["callback_id"] == "reflection_modal"
    assert "boiling point of mercury" in opened["view"]["blocks"][0]["element"]["initial_value"]


ANSWERED = {
    "app_mention.json": 1, "app_mention_org_install.json": 1, "message_im.json": 1, "assistant_thread_started.json": 1,
    "message_im_assistant_thread.json": 1, "message_im_file_share.json": 1,  # Bolt passes a file shared in an assistant thread on as a message
}
"""Messages each real payload leads to (a greeting or an answer); every other payload is left alone."""


@pytest.mark.parametrize("name", sorted(p.name for p in (SLACK / "events").glob("*.json")))
def test_every_real_event_payload_is_handled(slack, standin, caplog, name: str) -> None:
    client, _ = slack
    payload = fixture(f"events/{name}")
    if "event" in payload:
        payload = unique(payload)
    response = send_event(client, payload)
    assert response.status_code == 200, response.text
    expected = ANSWERED.get(name, 0)
    if expected:
        assert "Sorry" not in standin.wait_for("chat.postMessage", expected)[-1]["text"]
    standin.no_more("chat.postMessage", expected, within=0.5)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"payload=%7Bbroken", "application/x-www-form-urlencoded"), (b"", "application/json"), (b"\xff\xfe", "application/json")],
)
def test_signed_garbage_gets_a_4xx_not_a_5xx(slack, body: bytes, content_type: str) -> None:
    client, _ = slack
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body.decode("utf-8", "replace"))
    response = client.post("/slack/events", content=body, headers={"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": signature})
    assert response.status_code == 400 and "detail" in response.json()


RAW = ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|NHS guidance>"]
ESCAPED = ["&lt;!channel&gt;", "&lt;!here&gt;", "&lt;@U123&gt;", "&lt;https://evil.example|NHS guidance&gt;"]


def strings(value: object) -> Iterator[str]:
    """Every string in a recorded payload, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def test_stored_text_cannot_ping_or_hide_a_link(own_slack, standin) -> None:
    client, services = own_slack
    services.reflections.create(
        ReflectionCreate(
            what_happened="Our Wakefield team trialled a hydrotherapy pool rota for carers with <@U123> and <https://evil.example|NHS guidance>.",
            what_we_learned="Hydrotherapy pool rotas worked when carers booked the slots themselves <!channel> <!here> <@U123> <https://evil.example|NHS guidance>.",
            team="Wakefield <!here> <@U123>",
            place="<https://evil.example|NHS guidance> <!channel>",
        )
    )
    send_event(client, unique(fixture("events/app_mention.json"), "<@W111> What worked for hydrotherapy pool rotas for carers?"))
    (answer,) = standin.wait_for("chat.postMessage")
    assert "Wakefield" in json.dumps(answer["blocks"]), "the reflection was not cited"
    send_event(client, home_opened("W222"))
    (home,) = standin.wait_for("views.publish")
    sent = list(strings([payload for _, payload in standin.calls]))
    assert [s for s in sent if any(raw in s for raw in RAW)] == []
    # Team and place are in the answer's attribution and sources; App Home shows the lesson, team and place.
    for surface in (answer["blocks"], home):
        shown = list(strings(surface))
        assert [e for e in ESCAPED if not any(e in s for s in shown)] == [], json.dumps(surface)[:3000]
    assert "&lt;!here&gt;" in answer["text"]


def abstains(message: dict) -> bool:
    return "I could not find" in message["text"]


def test_a_private_question_never_reaches_another_members_app_home(own_slack, standin) -> None:
    client, _ = own_slack
    send_event(client, unique(fixture("events/message_im.json"), "What is the boiling point of mercury at sea level?"))
    send_event(client, unique(fixture("events/app_mention.json"), "<@W111> What is the airspeed velocity of an unladen swallow?"))
    assert all(abstains(m) for m in standin.wait_for("chat.postMessage", 2))
    send_event(client, home_opened("W333"))
    home = json.dumps(standin.wait_for("views.publish")[0]["view"])
    assert "unladen swallow" in home and "mercury" not in home


def question_id(message: dict) -> str:
    return next(e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "feedback_helpful")


def logged_private(services: Services, message: dict) -> bool:
    with Session(services.catalog.engine) as session:
        return session.get(QueryLog, question_id(message)).private


@pytest.mark.parametrize(
    ("name", "fields", "private"),
    [
        ("app_mention.json", {}, False),
        ("app_mention.json", {"channel": "G123"}, True),
        ("app_mention.json", {"channel": "C999PRIV"}, True),  # conversations.info says private
        ("message_im.json", {}, True),
        ("message_im_assistant_thread.json", {}, True),
    ],
)
def test_questions_from_private_places_are_logged_private(slack, standin, name: str, fields: dict, private: bool) -> None:
    client, services = slack
    standin.private_channels.add("C999PRIV")
    send_event(client, unique(fixture(f"events/{name}"), "What is Total Place?", **fields))
    assert logged_private(services, standin.wait_for("chat.postMessage")[0]) is private


@pytest.mark.parametrize(
    ("channel", "private"), [({"channel_id": "C111", "channel_name": "random"}, False), ({"channel_id": "D111", "channel_name": "directmessage"}, True),
                             ({"channel_id": "C222", "channel_name": "privategroup"}, True), ({"channel_id": "G111", "channel_name": "secret"}, True),
                             ({"channel_id": "C333", "channel_name": "mpdm-alice--bob-1"}, True),  # a group DM with a C id
                             ({"channel_id": "C999PRIV", "channel_name": "secret-project"}, True)]  # Slack says private
)
def test_ask_in_a_dm_or_private_channel_is_logged_private(slack, standin, channel: dict, private: bool) -> None:
    client, services = slack
    standin.private_channels.add("C999PRIV")
    command = fixture("commands/slash_command.parsed.json") | channel | {
        "command": "/ask", "text": "What is Total Place?", "response_url": f"{standin.url}/response/commands/T111/1/private",
    }
    send(client, urlencode(command).encode(), "application/x-www-form-urlencoded")
    assert logged_private(services, standin.wait_for("response:commands/T111/1/private")[0]) is private
