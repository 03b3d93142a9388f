"""Honest progress: the pipeline reports every slow stage through its callback, and the CLI's bar on a
terminal covers loading the model and embedding (with a rate), not only reading files."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, delete
from typer.testing import CliRunner

from bot.cli import common, corpus, learning
from bot.cli.main import app
from bot.cli.progress import TerminalProgress
from bot.reflection_models import ReflectionCreate
from bot.services import build_services
from index.db import ChunkTokens
from ingest.pipeline import IngestPipeline
from tests.conftest import FakeEmbedder, make_settings


class Recorder:
    """An IngestProgress that keeps every report, by stage, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.calls.append((stage, done, total))

    def by_stage(self) -> dict[str, list[tuple[int, int]]]:
        stages: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for stage, done, total in self.calls:
            stages[stage].append((done, total))
        return stages

    def stages(self) -> list[str]:
        return list(dict.fromkeys(stage for stage, _, _ in self.calls))


def grows_to_its_total(reports: list[tuple[int, int]], step: int) -> bool:
    """From 0 to the total, never backwards, in steps of at most `step`, the total never changing."""
    done = [d for d, _ in reports]
    (total,) = {t for _, t in reports}
    return done[0] == 0 and done[-1] == total and all(0 < b - a <= step for a, b in zip(done, done[1:], strict=False))


def test_the_pipeline_reports_reading_and_embedding_with_growing_counts(tmp_path: Path, corpus: Path) -> None:
    services = build_services(make_settings(tmp_path / "var", corpus), embedder=FakeEmbedder())
    pipeline = IngestPipeline(services.catalog, services.embedder, corpus, embed_step=16)
    progress = Recorder()
    report = pipeline.run(progress=progress)
    stages = progress.by_stage()
    assert progress.stages() == ["reading", "embedding"]
    assert stages["reading"][-1] == (5, 5) and grows_to_its_total(stages["reading"], 1)
    assert stages["embedding"][-1] == (report.embedded, report.embedded) and report.embedded > 100
    assert grows_to_its_total(stages["embedding"], 16) and len(stages["embedding"]) == 1 + -(-report.embedded // 16)

    again = Recorder()
    assert pipeline.run(progress=again).embedded == 0
    assert again.stages() == ["reading"], "nothing to embed, so no embedding stage"


def test_backfilling_token_vectors_reports_its_own_stage(tmp_path: Path, corpus: Path) -> None:
    services = build_services(make_settings(tmp_path / "var", corpus), embedder=FakeEmbedder())
    first = services.pipeline.run()
    services.reflections.create(ReflectionCreate(what_happened="We paired commissioners with providers.", what_we_learned="Huddles built trust."))
    with Session(services.catalog.engine) as session:
        session.exec(delete(ChunkTokens))
        session.commit()
    progress = Recorder()
    report = IngestPipeline(services.catalog, services.embedder, corpus, embed_step=50).run(progress=progress)
    assert progress.stages() == ["reading", "backfilling"]
    backfilled = progress.by_stage()["backfilling"]
    assert backfilled[-1] == (report.embedded, report.embedded) and report.embedded == first.chunks + 1
    assert grows_to_its_total(backfilled, 50)


def test_export_reports_each_file_written(tmp_path: Path, corpus: Path) -> None:
    services = build_services(make_settings(tmp_path / "var", corpus), embedder=FakeEmbedder())
    for n in range(3):
        services.reflections.create(ReflectionCreate(what_happened=f"Pilot {n} in Devon.", what_we_learned=f"Lesson {n} about trust."))
    progress = Recorder()
    assert len(services.reflections.export(progress)) == 3
    assert progress.calls == [("exporting", n, 3) for n in range(4)]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Standard error as a terminal (rich's own rendering, 120 columns) for the CLI's progress."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    for module in (common, corpus, learning):
        monkeypatch.setattr(module, "console", console)
    return screen


def test_cli_ingest_on_a_terminal_shows_loading_the_model_and_embedding_with_a_rate(tmp_path: Path, corpus: Path, terminal: io.StringIO) -> None:
    env = {"LEARNLOOP_HOME": str(tmp_path / "var"), "LEARNLOOP_CORPUS": str(corpus), "LEARNLOOP_EMBED_MODEL": "fake"}
    result = CliRunner().invoke(app, ["ingest", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("{") and result.stderr == "", "the bar goes to the terminal, never into the JSON"
    screen = terminal.getvalue()
    for stage in ("Loading the embedding model", "Reading files", "Embedding passages", "Updating the search indexes"):
        assert stage in screen
    assert "files/s" in screen and "chunks/s" in screen


def test_cli_export_on_a_terminal_shows_the_files_written(tmp_path: Path, corpus: Path, terminal: io.StringIO) -> None:
    build_services(make_settings(tmp_path / "var", corpus), embedder=FakeEmbedder()).reflections.create(
        ReflectionCreate(what_happened="Pilot in Devon.", what_we_learned="Trust came first.")
    )
    env = {"LEARNLOOP_HOME": str(tmp_path / "var"), "LEARNLOOP_CORPUS": str(corpus), "LEARNLOOP_EMBED_MODEL": "fake"}
    result = CliRunner().invoke(app, ["export-reflections"], env=env)
    assert result.exit_code == 0 and result.stdout == "Exported 1 reflections to learning-log files.\n"
    assert "Loading the embedding model" in terminal.getvalue() and "Writing learning-log files" in terminal.getvalue()


def test_off_a_terminal_there_is_no_bar(tmp_path: Path) -> None:
    screen = io.StringIO()
    with TerminalProgress(Console(file=screen)) as progress, progress.step("Loading the embedding model"):
        progress("embedding", 0, 10)
        progress("embedding", 10, 10)
    assert screen.getvalue() == ""
