"""Corpus commands: ingest, search, eval."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import console, fails_cleanly, out, print_json, services_from
from bot.cli.filters import DocumentOption, SourceTypeOption, TagOption, YearFromOption, YearToOption, search_filters
from bot.cli.progress import TerminalProgress
from bot.cli.queue import enqueue_files
from bot.evaluation import answer_metrics, compare_retrievers, load_questions
from index import RETRIEVAL_MODES


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(search)
    app.command(name="eval")(evaluate)


def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(None, help="Files or folders; default: the whole corpus."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    queue: bool = typer.Option(False, "--queue", help="Only put the files in the ingest queue (PostgreSQL) for `learnloop worker` processes."),
) -> None:
    """Ingest the corpus (or PATHs); unchanged files are skipped, bad ones reported in `failed`.

    On a terminal a progress bar on standard error follows every slow part: loading the model,
    reading files and embedding passages (with passages per second and time left).
    """
    if queue:
        return enqueue_files(ctx, paths or [], as_json)
    with fails_cleanly(), TerminalProgress(console) as progress:
        services = services_from(ctx, progress)
        report = services.pipeline.run(paths or [], progress=progress)
        with progress.step("Updating the search indexes"):
            services.searcher.sync()
            services.searcher.save_cache()
        if report.documents or report.removed:
            with progress.step("Re-checking knowledge gaps"):
                services.recheck_gaps()
    if as_json:
        print_json(report.as_dict())
        return
    out.print(
        f"{report.documents} documents ({report.chunks} chunks, {report.embedded} embedded) ingested, "
        f"{report.skipped} unchanged, {report.removed} removed, {len(report.failed)} failed."
    )
    for failure in report.failed:
        out.print(f"  [yellow]failed[/yellow] {escape(failure['path'])}: {escape(failure['error'])}")


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", min=1, max=50, help="How many hits."),
    source_type: SourceTypeOption = None,
    document_id: DocumentOption = None,
    tag: TagOption = None,
    year_from: YearFromOption = None,
    year_to: YearToOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print {'hits': [...]} as JSON."),
) -> None:
    """Hybrid search (dense, BM25 and late interaction, fused by reciprocal rank), with the API's filters."""
    with fails_cleanly():
        filters = search_filters(source_type, document_id, tag, year_from, year_to)
        hits = services_from(ctx).searcher.search(query, k, filters)
    if as_json:
        print_json({"hits": [hit.model_dump(mode="json") for hit in hits]})
        return
    for rank, hit in enumerate(hits, start=1):
        where = ", ".join(filter(None, [hit.section, f"p. {hit.page_start}" if hit.page_start else ""]))
        out.print(f"[bold]{rank}. {escape(hit.title)}[/bold] ({escape(where)}) score {hit.score:.4f}")
        out.print("   " + escape(hit.text[:300].replace("\n", " ")))


def evaluate(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Question files (JSON lines), scored together."),
    k: int = typer.Option(5, "-k", min=1, max=50),
    budget: int = typer.Option(5000, help="Context budget in characters."),
    modes: str = typer.Option(",".join(RETRIEVAL_MODES), help=f"Retrievers to compare: {', '.join(RETRIEVAL_MODES)}."),
    answers: bool = typer.Option(True, "--answers/--no-answers", help="Also answer every question and score the answers."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics object as JSON."),
) -> None:
    """Retrieval metrics per retriever, and answer metrics, on one or more question files taken as one set.

    `--modes dense+keyword,hybrid` shows what late interaction adds.
    """
    with fails_cleanly():
        questions = [q for file in files for q in load_questions(file)]
        services = services_from(ctx)
        services.searcher.sync()
        metrics = {"retrieval": compare_retrievers(services.searcher, questions, modes.split(","), k, budget)}
        if answers:
            metrics["answers"] = answer_metrics(services.answers, services.searcher, questions)
    if as_json:
        print_json(metrics)
        return
    table = Table(title=f"Retrieval on {', '.join(file.name for file in files)}")
    names = [n for n in next(iter(metrics["retrieval"].values())) if n != "missed"]
    table.add_column("retriever")
    for name in names:
        table.add_column(name)
    for mode, row in metrics["retrieval"].items():
        table.add_row(mode, *[str(row.get(n, "")) for n in names])
    out.print(table)
    out.print(json.dumps({m: r.get("missed") for m, r in metrics["retrieval"].items()}), markup=False)
    if "answers" in metrics:
        out.print(json.dumps(metrics["answers"], indent=2), markup=False)
