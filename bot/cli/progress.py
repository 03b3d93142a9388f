"""Progress on a terminal: one rich bar per stage (model loading, reading, embedding ...), with its rate
and time left, on standard error; nothing at all when standard error is not a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# What each stage of a run is called on screen, and what it counts.
STAGES: dict[str, tuple[str, str]] = {
    "reading": ("Reading files", "files"),
    "embedding": ("Embedding passages", "chunks"),
    "backfilling": ("Token vectors for older passages", "chunks"),
    "exporting": ("Writing learning-log files", "files"),
}


class RateColumn(ProgressColumn):
    """Items per second, in the stage's own unit ("12.5 chunks/s")."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {task.fields.get('unit', 'items')}/s" if speed else "", style="progress.data.speed")


class TerminalProgress:
    """A rich Progress that implements ingest.pipeline.IngestProgress, plus indeterminate steps
    (loading the model) for the work before the first count is known."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._progress.stop()

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        """A spinner for work whose size is unknown, shown done once the block ends."""
        task = self._progress.add_task(description, total=None, unit="")
        yield
        self._progress.update(task, total=1, completed=1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            description, unit = STAGES.get(stage, (stage.capitalize(), "items"))
            self._tasks[stage] = self._progress.add_task(description, total=total, unit=unit)
        self._progress.update(self._tasks[stage], completed=done, total=total)
