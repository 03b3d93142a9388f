"""Helpers shared by the command modules: services from the context, output, clean failures.

Results (tables, answers, `--json`) go to standard output through `out`; progress, logs and errors
to standard error through `console`, so `learnloop ... --json | jq` never sees a progress bar.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from sqlalchemy.exc import ArgumentError, OperationalError

from bot.cli.progress import TerminalProgress
from bot.services import Services, build_services, open_catalog
from bot.settings import Settings
from index import Catalog, LearnloopError

console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)  # a result line stays one line when piped
# C0 controls but tab and newline, DEL and the C1 controls (0x9b is CSI on some terminals).
_CONTROLS = dict.fromkeys([*range(0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)], "\ufffd")


def plain(text: str) -> Text:
    """Stored text (a reflection, a question, a title) for a table cell: shown, never acted on. Rich
    passes ESC through, so a reflection could otherwise clear the reviewer's screen or hide a row."""
    return Text(text.translate(_CONTROLS))


def services_from(ctx: typer.Context, progress: TerminalProgress | None = None) -> Services:
    """The services for this command. Loading the embedding model takes seconds, so on a terminal it
    shows as a step: of `progress` when the command has one, else of its own."""
    settings: Settings = ctx.obj
    with nullcontext(progress) if progress else TerminalProgress(console) as shown, shown.step("Loading the embedding model"), _database_explained():
        return build_services(settings)


def catalog_from(ctx: typer.Context) -> Catalog:
    """Only the catalog, for commands that embed nothing."""
    with _database_explained():
        return open_catalog(ctx.obj)


@contextmanager
def _database_explained() -> Iterator[None]:
    """A bad LEARNLOOP_DATABASE_URL or an unreachable server as one line (never echoing the URL,
    which may hold a password)."""
    try:
        yield
    except ArgumentError as error:
        raise LearnloopError("LEARNLOOP_DATABASE_URL is not a URL Learnloop can use: give sqlite:///PATH or postgresql+psycopg://...") from error
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "no answer"
        raise LearnloopError(f"The database in LEARNLOOP_DATABASE_URL cannot be reached: {reason}") from error


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def print_json(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def invalid(error: ValidationError, name: Callable[[str], str] = str, prefix: str = "") -> LearnloopError:
    """Pydantic's complaints as one readable line, each naming what the person typed (`name` maps a
    field to an option or variable); the input itself is left out, since it may be a secret."""
    problems = "; ".join(f"{name('.'.join(map(str, e['loc'])))}: {e['msg']}" for e in error.errors(include_input=False))
    return LearnloopError(prefix + problems)


@contextmanager
def fails_cleanly() -> Iterator[None]:
    """Turn a LearnloopError into one line on standard error and exit status 1, never a traceback."""
    try:
        yield
    except LearnloopError as error:
        console.print(f"[red]error:[/red] {escape(' '.join(str(error).split()))}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from error
