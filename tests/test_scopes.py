"""API scopes (read < write < admin) through a real server: the route matrix, review that a write key
cannot bypass, what each scope may see, settings that refuse unknown scopes, and `serve` refusing an
open API on a public interface."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from starlette.requests import Request
from typer.testing import CliRunner

from bot.cli.main import app as cli
from bot.http.app import create_app
from bot.http.guesses import WINDOW_S, WRONG_KEYS, KeyGuessLimit, TooManyWrongKeys, client_address
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from bot.settings import SAFE_KEY_CHARS, Settings
from tests.conftest import LiveServer, small_services, throwaway_database

KEYS = "reader:read,writer:write,boss:admin,plain"
BEARER = {scope: {"Authorization": f"Bearer {key}"} for scope, key in [("read", "reader"), ("write", "writer"), ("admin", "boss"), ("plain", "plain")]}
LESSON = {
    "what_happened": "We ran a quarterly learning conversation with three providers instead of monthly returns.",
    "what_we_learned": "Providers raised failures early once the conversation was not tied to payment.",
}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    root = tmp_path_factory.mktemp("scopes")
    with throwaway_database("sqlite", root) as url:
        yield small_services(root, url, api_keys=SecretStr(KEYS), review=True)


@pytest.fixture(scope="module")
def api(services: Services) -> Iterator[httpx.Client]:
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def published(services: Services) -> str:
    return services.reflections.set_status(services.reflections.create(_lesson("published one")).id, "published").id


def _lesson(marker: str) -> ReflectionCreate:
    return ReflectionCreate(what_happened=f"{LESSON['what_happened']} ({marker})", what_we_learned=LESSON["what_we_learned"])


def _routes(services: Services, published: str) -> list[tuple[str, str, dict, str]]:
    """(method, path, request kwargs, least scope) for every keyed route; calls that change nothing when allowed."""
    document = services.catalog.list_documents(None, 1, 0)[0].id
    chunk = services.searcher.search("commissioning", 1)[0].chunk_id
    return [
        ("post", "/ask", {"json": {"question": "What helps collaboration?"}}, "read"),
        ("get", "/search", {"params": {"q": "collaboration"}}, "read"),
        ("get", "/documents", {}, "read"),
        ("get", f"/documents/{document}", {}, "read"),
        ("get", f"/chunks/{chunk}", {}, "read"),
        ("get", "/reflections", {}, "read"),
        ("get", f"/reflections/{published}", {}, "read"),
        ("get", "/reflections", {"params": {"status": "published"}}, "read"),
        ("post", "/feedback", {"json": {"question_id": "no-such-question", "helpful": True}}, "write"),
        ("post", "/reflections", {"json": {**LESSON, "what_next": "matrix"}}, "write"),
        ("get", "/gaps", {}, "admin"),
        ("get", "/reflections", {"params": {"status": "pending"}}, "admin"),
        ("get", "/reflections", {"params": {"status": "rejected"}}, "admin"),
        ("patch", "/reflections/no-such-id", {"json": {"status": "published"}}, "admin"),
        ("delete", "/reflections/no-such-id", {}, "admin"),
    ]


RANK = {"read": 0, "write": 1, "plain": 1, "admin": 2}


def test_scope_matrix(api: httpx.Client, services: Services, published: str) -> None:
    """Every keyed route: 401 without a key, 403 below its scope, served at or above it."""
    for method, path, kwargs, least in _routes(services, published):
        assert api.request(method, path, **kwargs).status_code == 401, (method, path)
        for scope, headers in BEARER.items():
            status = api.request(method, path, headers=headers, **kwargs).status_code
            if RANK[scope] < RANK[least]:
                assert status == 403, (method, path, scope, status)
            else:
                assert status not in (401, 403) and status < 500, (method, path, scope, status)


def test_health_needs_no_key(api: httpx.Client) -> None:
    assert api.get("/healthz").status_code == 200


def test_write_key_cannot_approve_its_own_pending_reflection(api: httpx.Client) -> None:
    created = api.post("/reflections", json={**LESSON, "what_next": "own approval"}, headers=BEARER["write"])
    assert created.status_code == 201 and created.json()["status"] == "pending"
    own = created.json()["id"]
    refused = api.patch(f"/reflections/{own}", json={"status": "published"}, headers=BEARER["write"])
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert api.get(f"/reflections/{own}", headers=BEARER["admin"]).json()["status"] == "pending"
    approved = api.patch(f"/reflections/{own}", json={"status": "published"}, headers=BEARER["admin"])
    assert approved.status_code == 200 and approved.json()["status"] == "published"


def test_only_admin_deletes(api: httpx.Client, services: Services) -> None:
    theirs = services.reflections.set_status(services.reflections.create(_lesson("someone else's")).id, "published").id
    for scope in ("read", "write", "plain"):
        assert api.delete(f"/reflections/{theirs}", headers=BEARER[scope]).status_code == 403
    assert api.get(f"/reflections/{theirs}", headers=BEARER["read"]).status_code == 200
    assert api.delete(f"/reflections/{theirs}", headers=BEARER["admin"]).status_code == 204
    assert services.reflections.get(theirs) is None


def test_read_and_write_keys_see_only_published_reflections(api: httpx.Client, services: Services, published: str) -> None:
    pending = services.reflections.create(_lesson("pending")).id
    rejected = services.reflections.set_status(services.reflections.create(_lesson("rejected")).id, "rejected").id
    for scope in ("read", "write"):
        listed = api.get("/reflections", headers=BEARER[scope])
        assert listed.status_code == 200
        assert {r["status"] for r in listed.json()} == {"published"} and published in {r["id"] for r in listed.json()}
        for hidden in (pending, rejected):
            assert api.get(f"/reflections/{hidden}", headers=BEARER[scope]).status_code == 404
        assert api.get("/reflections", params={"status": "pending"}, headers=BEARER[scope]).status_code == 403
    everything = {r["id"]: r["status"] for r in api.get("/reflections", headers=BEARER["admin"]).json()}
    assert everything[pending] == "pending" and everything[rejected] == "rejected"
    assert api.get(f"/reflections/{pending}", headers=BEARER["admin"]).json()["status"] == "pending"


def test_a_key_without_a_scope_is_write(api: httpx.Client) -> None:
    assert api.post("/reflections", json={**LESSON, "what_next": "plain key"}, headers=BEARER["plain"]).status_code == 201
    assert api.get("/gaps", headers=BEARER["plain"]).status_code == 403


def test_open_api_allows_everything_on_loopback(tmp_path: Path) -> None:
    with throwaway_database("sqlite", tmp_path) as url:
        services = small_services(tmp_path, url, review=True)
        pending = services.reflections.create(_lesson("open")).id
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as api:
            assert api.get("/reflections", params={"status": "pending"}).json()[0]["id"] == pending
            assert api.get(f"/reflections/{pending}").status_code == 200
            assert api.get("/gaps").status_code == 200
            assert api.patch(f"/reflections/{pending}", json={"status": "published"}).json()["status"] == "published"
            assert api.delete(f"/reflections/{pending}").status_code == 204


def test_openapi_has_bearer_security_and_documents_errors(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["HTTPBearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    expected = {
        ("post", "/ask"): {"401", "413", "422"},
        ("get", "/search"): {"401", "422"},
        ("get", "/documents/{document_id}"): {"401", "404", "422"},
        ("post", "/feedback"): {"401", "403", "404", "413", "422"},
        ("post", "/reflections"): {"401", "403", "413", "422"},
        ("get", "/reflections"): {"401", "403", "422"},
        ("get", "/reflections/{reflection_id}"): {"401", "404", "422"},
        ("patch", "/reflections/{reflection_id}"): {"401", "403", "404", "413", "422"},
        ("delete", "/reflections/{reflection_id}"): {"401", "403", "404", "422"},
        ("get", "/gaps"): {"401", "403"},
    }
    for (method, path), codes in expected.items():
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        assert codes <= set(operation["responses"]), (method, path, set(operation["responses"]))
        for code in codes:
            assert "detail" in operation["responses"][code]["content"]["application/json"]["example"], (method, path, code)
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_settings_parse_scopes() -> None:
    settings = Settings(api_keys=SecretStr("a:read, b ,c:ADMIN,d:write,"))
    assert settings.api_key_scopes() == {"a": "read", "b": "write", "c": "admin", "d": "write"}
    assert Settings().api_key_scopes() == {}


@pytest.mark.parametrize("keys", ["secret:readonly", "good:read,secret:all", "secret:", "good,:admin"])
def test_settings_refuse_an_unknown_scope_naming_the_entry(keys: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(api_keys=SecretStr(keys))
    message = str(caught.value)
    entry = len(keys.split(","))
    assert f"entry {entry}" in message and "key:admin" in message
    assert "secret" not in message and "readonly" not in message, "no part of an entry is echoed"


def _learnloop(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNLOOP_", "SLACK_"))}
    command = [str(Path(sys.executable).parent / "learnloop"), *args]
    return subprocess.run(command, env={**clean, "LEARNLOOP_HOME": str(tmp_path), **env}, capture_output=True, text=True, timeout=60)


def test_serve_refuses_an_unknown_scope(tmp_path: Path) -> None:
    result = _learnloop(tmp_path, "serve", LEARNLOOP_API_KEYS="fine:read,hush:readonly")
    assert result.returncode != 0
    assert "entry 2" in result.stderr and "unknown scope" in result.stderr and "hush" not in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_serve_refuses_an_open_api_on_a_public_interface(tmp_path: Path, host: str) -> None:
    result = _learnloop(tmp_path, "serve", "--host", host)
    assert result.returncode != 0
    assert "LEARNLOOP_API_KEYS" in result.stderr and host in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("host", "keys"), [("0.0.0.0", "k:admin"), ("127.0.0.1", ""), ("::1", ""), ("localhost", "")])
def test_serve_starts_when_keys_are_set_or_bound_to_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, keys: str) -> None:
    """Only the server loop is replaced: the command's checks and app construction run for real."""
    import uvicorn

    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **options: started.append(host))
    env = {"LEARNLOOP_HOME": str(tmp_path), "LEARNLOOP_API_KEYS": keys}
    result = CliRunner().invoke(cli, ["serve", "--host", host], env=env)
    assert result.exit_code == 0, result.output
    assert started == [host]


@pytest.mark.parametrize(("keys", "warned"), [("qzxj:read,vwyp", "2 of the API keys"), (f"{'k' * SAFE_KEY_CHARS}:admin,bqrz", "1 of the API keys"), (f"{'k' * SAFE_KEY_CHARS}", None)])
def test_serve_warns_of_short_keys_without_showing_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: str, warned: str | None) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **options: None)
    monkeypatch.setattr("bot.serving.tune_for_serving", lambda threads: None)  # no torch thread settings in the test process
    result = CliRunner().invoke(cli, ["serve"], env={"LEARNLOOP_HOME": str(tmp_path), "LEARNLOOP_API_KEYS": keys})
    assert result.exit_code == 0, result.output
    if warned is None:
        assert "warning" not in result.output
    else:
        assert warned in result.output and "token_urlsafe" in result.output
        assert not any(key in result.output for key in ("qzxj", "vwyp", "bqrz", "k" * SAFE_KEY_CHARS)), "no key is echoed"


def test_wrong_keys_are_limited_per_address(services: Services) -> None:
    """Ten wrong keys within a minute, then no key is checked, not even a right one: 429 with
    Retry-After. Requests without a key are no guesses and do not count."""
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as api:
        for _ in range(WRONG_KEYS + 5):
            assert api.get("/documents").status_code == 401
        assert api.get("/documents", headers=BEARER["read"]).status_code == 200
        for n in range(WRONG_KEYS):
            assert api.get("/documents", headers={"Authorization": f"Bearer guess-{n}"}).status_code == 401
        for headers in ({"Authorization": "Bearer guess-again"}, BEARER["admin"]):
            blocked = api.get("/documents", headers=headers)
            assert blocked.status_code == 429 and "Too many wrong API keys" in blocked.json()["detail"]
            assert 1 <= int(blocked.headers["Retry-After"]) <= WINDOW_S
        assert api.get("/documents").status_code == 401  # still told it needs a key


def _request_from(host: str) -> Request:
    return Request({"type": "http", "client": (host, 5000), "headers": [], "app": None})


def test_a_blocked_address_may_try_again_once_its_window_passes() -> None:
    """The window slides: once the address's wrong keys fall out of it, it may present keys again;
    another address is never held up meanwhile."""
    limit = KeyGuessLimit(wrong_keys=2, window_s=2)
    caller, other = _request_from("192.0.2.7"), _request_from("192.0.2.8")
    for _ in range(2):
        assert limit.checked(caller, "wrong", lambda key: None) is None
    with pytest.raises(TooManyWrongKeys) as refused:
        limit.checked(caller, "right", lambda key: "read")
    assert 1 <= refused.value.wait_s <= 4
    assert limit.checked(other, "right", lambda key: "read") == "read"
    deadline = time.monotonic() + 15
    while True:  # polled on the condition itself, within a deadline (a right key is never counted)
        try:
            assert limit.checked(caller, "right", lambda key: "read") == "read"
            break
        except TooManyWrongKeys:
            assert time.monotonic() < deadline, "the window never moved on"
            time.sleep(0.05)


def test_parallel_guesses_cannot_slip_past_the_count() -> None:
    """Twenty wrong keys at once from one address: exactly the limit's worth are compared."""
    limit, compared = KeyGuessLimit(wrong_keys=5), []
    start = threading.Barrier(20)

    def guess(n: int) -> str:
        start.wait(10)
        try:
            limit.checked(_request_from("192.0.2.9"), f"guess-{n}", lambda key: compared.append(key))
        except TooManyWrongKeys:
            return "refused"
        return "compared"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(guess, range(20)))
    assert len(compared) == 5 and outcomes.count("refused") == 15


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("testclient", "unparsed"),
        ("not an address, 10.0.0.1", "unparsed"),
    ],
)
def test_addresses_are_counted_by_client_or_ipv6_network(host: str, counted_as: str) -> None:
    assert client_address(_request_from(host)) == counted_as
