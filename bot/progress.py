"""Progress of a slow answer, told to whoever waits on it (the Slack status line or placeholder).

An LLM takes seconds to write where an extractive answer takes milliseconds, so the asker should
see that the answer is being written. The sink travels in a context variable, as the request and
Slack event ids do (bot.logs), rather than as an argument through search, the gate and answer
composition, which never use it: the Slack responder says where progress goes, the LLM generator
says when writing starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger(__name__)

Sink = Callable[[], object]
"""Called once when the LLM's first words arrive."""

_WRITING: ContextVar[Sink | None] = ContextVar("learnloop_progress", default=None)


@contextmanager
def reporting(on_writing: Sink | None) -> Iterator[None]:
    """Answers composed inside this block tell `on_writing` when the LLM starts writing."""
    token = _WRITING.set(on_writing)
    try:
        yield
    finally:
        _WRITING.reset(token)


def writing_announcer() -> Callable[[], None]:
    """The current block's sink, made safe to call from any thread: showing progress is a courtesy,
    so a sink that fails is logged and never fails the answer."""
    sink = _WRITING.get()

    def announce() -> None:
        if sink is None:
            return
        try:
            sink()
        except Exception:  # a progress display that fails (Slack down) must not cost the answer
            log.warning("could not show that the answer is being written", exc_info=True)

    return announce
