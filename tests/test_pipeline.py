"""Incremental, idempotent ingestion: unchanged files are skipped, changed ones replaced, deleted ones gone."""

import json
import shutil
import time
from pathlib import Path

from sqlmodel import Session, delete
from typer.testing import CliRunner

from bot.cli.main import app
from bot.reflection_models import ReflectionCreate
from bot.services import build_services
from index import Searcher, SearchFilters
from index.db import ChunkTokens
from ingest import REFLECTION_SOURCE_PREFIX
from ingest.load import LoadLimits
from ingest.pipeline import IngestPipeline
from tests.conftest import FIXTURES, FakeEmbedder, make_settings
from tests.test_load import ALIAS_BOMB, blank_pdf


def _services(tmp_path: Path, corpus: Path):
    embedder = FakeEmbedder()
    return build_services(make_settings(tmp_path / "var", corpus), embedder=embedder), embedder


def test_reingest_with_nothing_changed_embeds_nothing(tmp_path: Path, corpus: Path) -> None:
    services, embedder = _services(tmp_path, corpus)
    first = services.pipeline.run()
    assert first.documents == 5 and first.failed == [] and first.embedded == first.chunks > 100
    texts_embedded = embedder.texts
    second = services.pipeline.run()
    assert (second.documents, second.chunks, second.skipped, second.embedded) == (0, 0, 5, 0)
    assert embedder.texts == texts_embedded


def test_a_catalog_from_before_token_vectors_gains_them_on_the_next_ingest(tmp_path: Path, corpus: Path) -> None:
    services, embedder = _services(tmp_path, corpus)
    first = services.pipeline.run()
    reflection = services.reflections.create(ReflectionCreate(what_happened="We paired commissioners with providers.", what_we_learned="Zanzibar huddles built trust."))
    with Session(services.catalog.engine) as session:  # what a catalog written before them looks like
        session.exec(delete(ChunkTokens))
        session.commit()
    upgraded = services.pipeline.run()
    assert upgraded.skipped == 5 and upgraded.embedded > first.chunks, "every passage, the reflection's too, gets its token vectors"
    assert services.catalog.chunks_without_tokens() == [] and services.pipeline.run().embedded == 0
    fresh = Searcher(services.catalog, embedder, background_keyword=False)
    late = fresh.rank("Zanzibar huddles", 1, SearchFilters(source_type="reflection"), mode="late")
    source = f"{REFLECTION_SOURCE_PREFIX}{reflection.id}"
    assert fresh.meta(late[0][0]).document_id == services.catalog.document_ids([source])[source]


def test_changed_file_replaces_its_chunks_and_only_new_passages_are_embedded(tmp_path: Path, corpus: Path) -> None:
    services, embedder = _services(tmp_path, corpus)
    services.pipeline.run()
    report_path = corpus / "reports" / "behaving-like-a-system-collaborate-2015.txt"
    report_path.write_text(report_path.read_text() + "\n\nZebra crossings are a new precondition added in this test.\n")
    report = services.pipeline.run()
    assert report.documents == 1 and report.skipped == 4
    assert 1 <= report.embedded <= 3, "only the changed tail is embedded again"
    hits = services.searcher.search("zebra crossings", 3)
    assert any("Zebra crossings" in hit.text for hit in hits)


def test_deleted_file_leaves_the_catalog_and_the_index(tmp_path: Path, corpus: Path) -> None:
    services, _ = _services(tmp_path, corpus)
    services.pipeline.run()
    (corpus / "reports" / "revolution-will-be-improvised-vize.txt").unlink()
    report = services.pipeline.run()
    assert report.removed == 1
    assert services.catalog.counts()[0] == 4
    hits = services.searcher.search("throwing a pebble in a pool", 10)
    assert len(hits) == 10 and all("Revolution" not in h.title for h in hits)


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path: Path, corpus: Path) -> None:
    for name in ("libreoffice-writer-password.pdf", "empty.pdf", "invalid.pdf", "linn.pdf", "multicolumn.pdf"):
        shutil.copy(FIXTURES / "pdfs" / name, corpus / "reports" / name)
    services, _ = _services(tmp_path, corpus)
    report = services.pipeline.run()
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == {"libreoffice-writer-password.pdf", "empty.pdf", "invalid.pdf", "linn.pdf"}
    assert "password" in failed["libreoffice-writer-password.pdf"] and "OCR" in failed["linn.pdf"]
    assert report.documents == 6
    pdf_hits = services.searcher.search("Lorem ipsum dolor", 3, SearchFilters(source_type="report"))
    assert pdf_hits[0].source.endswith("multicolumn.pdf") and pdf_hits[0].page_start >= 1


def test_hostile_files_fail_clearly_and_the_rest_of_the_run_is_ingested(tmp_path: Path, corpus: Path) -> None:
    (corpus / "learning-logs" / "laughs.md").write_bytes(ALIAS_BOMB)
    (corpus / "reports" / "phone-book.pdf").write_bytes(blank_pdf(5))
    services, embedder = _services(tmp_path, corpus)
    pipeline = IngestPipeline(services.catalog, embedder, corpus, limits=LoadLimits(max_pages=4))
    start = time.perf_counter()
    report = pipeline.run()
    assert time.perf_counter() - start < 60
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == {"laughs.md", "phone-book.pdf"}
    assert "alias" in failed["laughs.md"] and "5 pages, more than the 4" in failed["phone-book.pdf"]
    assert report.documents == 5 and services.catalog.counts() == (5, report.chunks)
    assert services.searcher.search("salami slicing", 3)


def test_learning_logs_are_ingested_with_front_matter(tmp_path: Path, corpus: Path) -> None:
    (corpus / "learning-logs" / "2026-11-ward-huddles.md").write_text(
        "---\ntitle: Ward huddles with the voluntary sector\ndate: 2026-11-02\nteam: Adults\nplace: Devon\n"
        "author: Sam Example\ntags: [Relationships, huddles]\n---\n\n## What happened\n\nWe held weekly huddles with "
        "three voluntary groups on the ward.\n\n## What we learned\n\nHuddles built trust faster than any contract clause.\n"
    )
    services, _ = _services(tmp_path, corpus)
    services.pipeline.run()
    hits = services.searcher.search("huddles trust voluntary groups", 3, SearchFilters(source_type="learning_log"))
    assert hits and hits[0].title == "Ward huddles with the voluntary sector"
    assert hits[0].year == 2026 and hits[0].authors == ["Sam Example"]
    assert services.searcher.search("huddles", 3, SearchFilters(tag="relationships"))


def test_cli_ingest_prints_the_contract_summary(tmp_path: Path, corpus: Path) -> None:
    shutil.copy(FIXTURES / "pdfs" / "invalid.pdf", corpus / "reports" / "invalid.pdf")
    env = {"LEARNLOOP_HOME": str(tmp_path / "var"), "LEARNLOOP_CORPUS": str(corpus), "LEARNLOOP_EMBED_MODEL": "fake"}
    result = CliRunner().invoke(app, ["ingest", "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= {"documents", "chunks", "skipped", "failed"}
    assert summary["documents"] == 5 and summary["failed"][0]["path"].endswith("invalid.pdf")
    again = json.loads(CliRunner().invoke(app, ["ingest", "--json"], env=env).stdout)
    assert again["skipped"] == 5 and again["embedded"] == 0
    search = CliRunner().invoke(app, ["search", "salami slicing", "--json", "-k", "2"], env=env)
    hits = json.loads(search.stdout)["hits"]
    assert len(hits) == 2 and {"chunk_id", "title", "section", "page_start", "score"} <= set(hits[0])


def test_careless_front_matter_is_refused_or_cleaned_and_the_run_goes_on(tmp_path: Path, corpus: Path, database_url: str) -> None:
    """A huge year, a claimed source_type, NULs in metadata: none may end the run, on either database."""
    logs = corpus / "learning-logs"
    (logs / "huge-year.md").write_text("---\ntitle: Huge year\nyear: 100000000000000000000\n---\n\nWe met weekly with providers about outcomes.\n")
    (logs / "claims-reflection.md").write_text("---\ntitle: Sneaky\nsource_type: reflection\n---\n\nWe met weekly with providers.\n")
    (logs / "nul-title.md").write_text('---\ntitle: "Night\\0shift"\nreflection_id: "\\0"\nauthor: "A\\0B"\n---\n\nNight shift huddles helped carers.\n')
    services = build_services(make_settings(tmp_path / "var", corpus, database_url=database_url), embedder=FakeEmbedder())
    report = services.pipeline.run()
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == {"claims-reflection.md"} and "source_type must be one of report, learning_log" in failed["claims-reflection.md"]
    assert report.documents == 7  # the five reports, the huge year (no year) and the NUL title (cleaned)
    titles = {d.title: d for d in services.catalog.list_documents(source_type="learning_log")}
    assert titles["Huge year"].year is None and titles["Nightshift"].authors == ["AB"]
    services.catalog.engine.dispose()
