"""Schemathesis fuzzes every operation of a real server (keys set, an admin key supplied) over a small
catalog, on SQLite and on PostgreSQL: no 5xx, every status code documented, every body and header as
the OpenAPI schema says, and no operation served without a key.

The schema comes from the app factory at import (no services are built for that); each database gets
its own live server, passed to every case as its base URL. Left out on purpose: checks that FastAPI's
own conventions fail (unknown query parameters are ignored, not refused; a 405 lists only the first
route matching the path in `Allow`).
"""

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.http.app import create_app
from bot.http.guesses import KeyGuessLimit
from bot.settings import Settings
from tests.conftest import DATABASES, LiveServer, small_services, throwaway_database

pytestmark = pytest.mark.slow
KEYS = SecretStr("fuzz-reader:read,fuzz-writer:write,fuzz-admin:admin")
ADMIN = {"Authorization": "Bearer fuzz-admin"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance, ignored_auth]
schema = schemathesis.openapi.from_dict(create_app(Settings(api_keys=KEYS)).openapi())


@pytest.fixture(scope="module", params=DATABASES)
def server_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with throwaway_database(request.param, root) as url:
        services = small_services(root, url, api_keys=KEYS, review=True)
        app = create_app(services.settings, services)
        # schemathesis's ignored_auth check sends a wrong key after every case: with the real limit,
        # the admin key would be refused (429) from the tenth case on, and little else be fuzzed
        app.state.key_guesses = KeyGuessLimit(wrong_keys=1_000_000)
        with LiveServer(app) as server:
            yield server.url
        services.catalog.engine.dispose()


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_and_never_fails(case: schemathesis.Case, server_url: str) -> None:
    case.call_and_validate(base_url=server_url, headers=ADMIN, checks=CHECKS, timeout=30)
