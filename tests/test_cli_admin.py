"""The admin commands through the real CLI, on a catalog each test builds (SQLite and PostgreSQL):
documents, reflections list/approve/reject/delete, gaps, --version, filters on search and ask,
and results on standard output with errors as one line on standard error."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session
from typer.testing import CliRunner, Result

from bot.cli.main import app
from bot.http.app import create_app
from bot.records import Reflection
from bot.reflection_models import ReflectionCreate
from bot.services import Services
from tests.conftest import LiveServer, small_services

REPORT_TITLE = "Behaving like a system? The preconditions for place-based systems change"
PENDING = [
    ReflectionCreate(what_happened="Torbay ran zanzibar huddles with carers every fortnight.", what_we_learned="Zanzibar huddles surfaced respite gaps early.", team="Carers", tags=["carers"]),
    ReflectionCreate(what_happened="We tried quokka panels for commissioning.", what_we_learned="Quokka panels slowed every decision down.", team="Commissioning"),
]


@pytest.fixture
def catalog(tmp_path: Path, database_url: str) -> Iterator[tuple[Services, dict[str, str]]]:
    """One report ingested (FakeEmbedder) and two reflections waiting for review; the env that points the CLI at them."""
    services = small_services(tmp_path, database_url, review=True)
    for data in PENDING:
        services.reflections.create(data, origin="api")
    env = {
        "LEARNLOOP_HOME": str(services.settings.home),
        "LEARNLOOP_CORPUS": str(services.settings.corpus),
        "LEARNLOOP_DATABASE_URL": database_url,
        "LEARNLOOP_EMBED_MODEL": "fake",
        "LEARNLOOP_REVIEW": "true",
    }
    yield services, env
    services.gap_rechecks.wait()
    services.catalog.engine.dispose()


def run(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def fails(env: dict[str, str], *args: str) -> str:
    """The one line a failing command prints on standard error (nothing on standard output, no traceback)."""
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


def as_json(env: dict[str, str], *args: str) -> object:
    return json.loads(run(env, *args, "--json").stdout)


def test_version_comes_from_the_package_metadata_even_with_bad_settings() -> None:
    result = CliRunner().invoke(app, ["--version"], env={"LEARNLOOP_LLM_TIMEOUT": "abc"})
    assert result.exit_code == 0 and result.stdout == f"learnloop {version('learnloop')}\n"


def test_a_bad_setting_is_one_line_naming_the_variable_not_a_traceback(tmp_path: Path) -> None:
    """Through the installed console script, so nothing but the real streams is seen."""
    learnloop = Path(sys.executable).parent / "learnloop"
    env = {"PATH": "/usr/bin:/bin", "LEARNLOOP_HOME": str(tmp_path), "LEARNLOOP_LLM_TIMEOUT": "abc"}
    done = subprocess.run([str(learnloop), "documents"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: invalid settings: LEARNLOOP_LLM_TIMEOUT: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_a_database_url_that_is_not_one_or_unreachable_is_one_line_without_the_url(tmp_path: Path) -> None:
    line = fails({"LEARNLOOP_HOME": str(tmp_path), "LEARNLOOP_DATABASE_URL": "not-a-url-secret"}, "documents")
    assert "LEARNLOOP_DATABASE_URL" in line and "secret" not in line
    unreachable = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/learnloop"
    line = fails({"LEARNLOOP_HOME": str(tmp_path), "LEARNLOOP_DATABASE_URL": unreachable}, "documents")
    assert "cannot be reached" in line and "hunter2" not in line


def test_documents_lists_the_catalog_in_the_api_shape(catalog) -> None:
    services, env = catalog
    documents = as_json(env, "documents")
    assert [d["title"] for d in documents] == [REPORT_TITLE]
    assert set(documents[0]) == {"id", "source", "title", "authors", "publisher", "year", "source_type", "tags", "ingested_at", "chunks"}
    assert documents[0]["source_type"] == "report" and documents[0]["year"] == 2015
    assert as_json(env, "documents", "--type", "reflection") == []
    table = run(env, "documents").stdout
    assert table.startswith("1 document\n") and "Behaving like a" in table and "2015" in table  # a table 80 columns wide when piped
    assert "--type" in fails(env, "documents", "--type", "memo")


def test_review_from_the_terminal_publishes_rejects_and_refuses_unknown_ids(catalog) -> None:
    services, env = catalog
    pending = as_json(env, "reflections", "list", "--status", "pending")
    assert [r["team"] for r in pending] == ["Commissioning", "Carers"] and all(r["document_id"] is None for r in pending)
    commissioning, carers = (r["id"] for r in pending)
    assert as_json(env, "search", "zanzibar huddles", "--type", "reflection") == {"hits": []}

    published = as_json(env, "reflections", "approve", carers)
    assert published["status"] == "published" and isinstance(published["document_id"], int)
    hits = as_json(env, "search", "zanzibar huddles", "--type", "reflection")["hits"]
    assert hits and hits[0]["document_id"] == published["document_id"]

    assert run(env, "reflections", "reject", commissioning).stdout == f"Rejected reflection {commissioning}.\n"
    assert [r["id"] for r in as_json(env, "reflections", "list", "--status", "rejected")] == [commissioning]
    assert [r["id"] for r in as_json(env, "reflections", "list")] == [commissioning, carers]
    assert services.reflections.get(commissioning).status == "rejected"

    assert fails(env, "reflections", "approve", "no-such-id").startswith("error: No reflection with id 'no-such-id'")
    assert "pending, published, rejected" in fails(env, "reflections", "list", "--status", "approved")


def test_stored_text_cannot_drive_the_reviewers_terminal(catalog) -> None:
    """A reflection or question may hold ESC sequences (clear the screen, hide text, move the cursor
    over another row, set the title): the tables show them as � instead of sending them to the terminal."""
    services, env = catalog
    services.reflections.create(
        ReflectionCreate(what_happened="We piloted escape codes with three providers.", what_we_learned="Clear\x1b[2J\x1b[1A\x1b[8mhidden \x1b]0;title\x07 \x9b31m", team="T\x1b[31mred"),
        origin="api",
    )
    as_json(env, "ask", "What is the wombat \x1b[2Jthreshold in Tasmania?")
    for command in (("reflections", "list"), ("gaps",)):
        shown = run(env, *command).stdout
        assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown, command
        assert "\ufffd" in shown, command


def test_delete_erases_everywhere_and_prints_what_was_erased(catalog) -> None:
    services, env = catalog
    carers = as_json(env, "reflections", "list", "--status", "pending")[1]["id"]
    run(env, "reflections", "approve", carers)
    assert run(env, "export-reflections").stdout == "Exported 1 reflections to learning-log files.\n"
    exported = services.reflections.export_path(carers)
    assert exported.exists()

    erased = as_json(env, "reflections", "delete", carers)
    assert erased["id"] == carers and erased["what_we_learned"] == "Zanzibar huddles surfaced respite gaps early." and erased["document_id"] is None
    assert not exported.exists() and services.reflections.get(carers) is None
    assert as_json(env, "search", "zanzibar huddles", "--type", "reflection") == {"hits": []}
    assert carers not in [r["id"] for r in as_json(env, "reflections", "list")]
    assert f"'{carers}'" in fails(env, "reflections", "delete", carers)


def test_delete_erases_a_catalog_entry_whose_row_an_older_version_lost(catalog) -> None:
    services, env = catalog
    carers = as_json(env, "reflections", "list", "--status", "pending")[1]["id"]
    document = as_json(env, "reflections", "approve", carers)["document_id"]
    with Session(services.catalog.engine) as session:
        session.delete(session.get(Reflection, carers))
        session.commit()
    result = run(env, "reflections", "delete", carers, "--json")
    assert result.stdout == "" and f"'{carers}'" in result.stderr
    assert document not in [d["id"] for d in as_json(env, "documents")]
    assert f"'{carers}'" in fails(env, "reflections", "delete", carers)


def test_gaps_lists_what_the_corpus_could_not_answer(catalog) -> None:
    services, env = catalog
    assert as_json(env, "gaps") == []
    question = "What is the procurement threshold for wombat sanctuaries in Tasmania?"
    answer = as_json(env, "ask", question)
    assert answer["outcome"] in ("related", "abstain")
    (gap,) = as_json(env, "gaps")
    assert gap["question"] == question and gap["count"] == 1 and gap["question_ids"] == [answer["question_id"]]
    assert gap["reasons"] == (["abstained"] if answer["abstained"] else ["related"])
    assert "wombat sanctuaries" in run(env, "gaps").stdout


def test_ask_prints_its_answer_on_standard_output_and_takes_the_api_filters(catalog) -> None:
    services, env = catalog
    result = run(env, "ask", "How do leaders behave like a system?")
    assert result.stderr == "" and "[1]" in result.stdout
    within = as_json(env, "ask", "How do leaders behave like a system?", "--year-from", "2016")
    assert within["outcome"] == "abstain" and within["citations"] == []
    assert "--year-to" in fails(env, "ask", "How do leaders behave like a system?", "--year-to", "1700")


def test_search_takes_the_api_filters(catalog) -> None:
    services, env = catalog
    carers = as_json(env, "reflections", "list", "--status", "pending")[1]["id"]
    reflection_document = as_json(env, "reflections", "approve", carers)["document_id"]
    report_document = as_json(env, "documents", "--type", "report")[0]["id"]

    def documents_found(*filters: str) -> set[int]:
        return {hit["document_id"] for hit in as_json(env, "search", "huddles leaders system", "-k", "20", *filters)["hits"]}

    assert documents_found() == {report_document, reflection_document}
    assert documents_found("--type", "reflection") == {reflection_document}
    assert documents_found("--year-to", "2015") == {report_document}
    assert documents_found("--year-from", "2016") == {reflection_document}
    assert documents_found("--tag", "carers") == {reflection_document}
    assert documents_found("--document", str(report_document)) == {report_document}
    assert len(as_json(env, "search", "huddles leaders system", "-k", "2")["hits"]) == 2
    assert "--type" in fails(env, "search", "huddles", "--type", "memo")


@pytest.mark.slow
def test_json_is_what_the_http_api_returns_for_the_same_resources(catalog) -> None:
    """documents, reflections list and gaps print the bodies of GET /documents, /reflections and /gaps (open API: admin)."""
    services, env = catalog
    carers = as_json(env, "reflections", "list", "--status", "pending")[1]["id"]
    run(env, "reflections", "approve", carers)
    run(env, "ask", "What is the procurement threshold for wombat sanctuaries in Tasmania?")
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as api:
        assert as_json(env, "documents") == api.get("/documents").json() and len(api.get("/documents").json()) == 2
        assert as_json(env, "reflections", "list") == api.get("/reflections").json() and len(api.get("/reflections").json()) == 2
        assert as_json(env, "reflections", "list", "--status", "published") == api.get("/reflections", params={"status": "published"}).json()
        gaps = api.get("/gaps").json()["gaps"]
        assert as_json(env, "gaps") == gaps and len(gaps) == 1
