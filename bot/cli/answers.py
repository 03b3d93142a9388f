"""Answer commands: ask and serve."""

from __future__ import annotations

import ipaddress

import typer
from rich.markup import escape

from bot.cli.common import console, fails_cleanly, out, print_json, services_from
from bot.cli.filters import DocumentOption, SourceTypeOption, TagOption, YearFromOption, YearToOption, search_filters
from bot.logs import LogFormat
from bot.settings import SAFE_KEY_CHARS


def register(app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(serve)


def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="A practice question."),
    k: int | None = typer.Option(None, "-k", min=1, max=20, help="Passages to draw on (default 8)."),
    source_type: SourceTypeOption = None,
    document_id: DocumentOption = None,
    tag: TagOption = None,
    year_from: YearFromOption = None,
    year_to: YearToOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print the Answer as JSON."),
) -> None:
    """Answer a question from the corpus, with citations (or say plainly that it cannot)."""
    with fails_cleanly():
        filters = search_filters(source_type, document_id, tag, year_from, year_to)
        answer = services_from(ctx).answers.answer(question, k, filters, surface="cli")
    if as_json:
        print_json(answer.model_dump(mode="json"))
        return
    out.print(escape(answer.answer))
    for citation in answer.citations:
        page = f", p. {citation.page_start}" if citation.page_start else ""
        out.print(f"[dim][{citation.n}] {escape(citation.title)}, {escape(citation.section)}{page}: \"{escape(citation.quote[:200])}\"[/dim]")


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to bind; keep 127.0.0.1 unless API keys are set."),
    port: int = typer.Option(8000, min=1, max=65535),
    log_format: LogFormat | None = typer.Option(None, "--log-format", help="text, or one JSON object per line (default: LEARNLOOP_LOG_FORMAT, text)."),
) -> None:
    """Serve the HTTP API (and the Slack app when Slack settings are present)."""
    import uvicorn

    from bot.http.app import create_app
    from bot.logs import uvicorn_log_config
    from bot.serving import tune_for_serving

    if not ctx.obj.api_key_scopes() and not is_loopback(host):
        console.print(f"[red]error:[/red] refusing to serve an open API on {escape(host)}: set LEARNLOOP_API_KEYS, or bind to 127.0.0.1.", soft_wrap=True, highlight=False)
        raise typer.Exit(1)
    if short := ctx.obj.short_api_keys():
        console.print(
            f"[yellow]warning:[/yellow] {short} of the API keys in LEARNLOOP_API_KEYS {'is' if short == 1 else 'are'} shorter than {SAFE_KEY_CHARS} "
            "characters and could be guessed; make long random ones with: python -c \"import secrets; print(secrets.token_urlsafe(24))\"",
            soft_wrap=True, highlight=False,
        )
    tune_for_serving(ctx.obj.serve_embed_threads)
    uvicorn.run(create_app(ctx.obj), host=host, port=port, log_level="info", log_config=uvicorn_log_config(log_format or ctx.obj.log_format))


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; any other name or address may be reachable from outside."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
