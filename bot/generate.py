"""Answer generators: one protocol, two implementations, looked up by name.

`extractive` (default, offline) picks sentences from the sources; `openai` calls any
OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp server, hosted APIs). Both return a
draft with [n] markers that the citation checker then verifies the same way.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.attribution import attribution
from bot.extractive import compose
from bot.models import Turn, with_context
from bot.progress import writing_announcer
from bot.prompts import ABSTAIN_MARKER, Prompts
from bot.settings import Settings
from bot.streaming import BYTES_PER_TOKEN, StreamFailed, stream_completion
from index import Hit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    text: str
    abstained: bool
    mode: str
    tokens: int = 0  # tokens an LLM streamed for it (0 when extractive)


class GenerationFailed(Exception):
    """The generator could not produce a draft (timeout, HTTP error, malformed reply)."""


class AnswerGenerator(Protocol):
    name: str

    def generate(self, question: str, sources: list[Hit], history: list[Turn], answer_type: str | None) -> Draft: ...


class ExtractiveGenerator:
    name = "extractive"

    def generate(self, question: str, sources: list[Hit], history: list[Turn], answer_type: str | None) -> Draft:
        text = compose(with_context(question, history), sources, answer_type)
        return Draft(text=text, abstained=not text, mode=self.name)


# A reply that starts echoing its sources or the conversation has stopped answering.
STOP_SEQUENCES = ["<source", "</source>", "\nuser:", "\nQuestion:"]


class OpenAICompatibleGenerator:
    """Chat completions over HTTP; sources are numbered and fenced as data, never as instructions.

    The reply is streamed and bounded three ways: `max_tokens` and stop sequences ask the server to
    stop, and the whole call, connecting included, ends at `timeout` (bot.streaming), after which the
    answer falls back to extractive and the server, its connection closed, stops writing."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str, timeout: float, prompts: Prompts, max_tokens: int = 400) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.prompts = prompts
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout)

    def messages(self, question: str, sources: list[Hit], history: list[Turn]) -> list[dict[str, str]]:
        fenced = "\n\n".join(
            f'<source n="{n}" from="{html.escape(attribution(hit))}">\n{html.escape(hit.text, quote=False)}\n</source>'
            for n, hit in enumerate(sources, start=1)
        )
        earlier = "\n".join(f"{turn.role}: {turn.text}" for turn in history[-6:]) or "(none)"
        return [
            {"role": "system", "content": self.prompts.answer_system.format(abstain_marker=ABSTAIN_MARKER)},
            {"role": "user", "content": self.prompts.answer_user.format(sources=fenced, history=earlier, question=question)},
        ]

    def generate(self, question: str, sources: list[Hit], history: list[Turn], answer_type: str | None) -> Draft:
        payload = {
            "model": self.model,
            "messages": self.messages(question, sources, history),
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stop": STOP_SEQUENCES,
        }
        started = time.monotonic()
        try:
            reply = stream_completion(self._client, payload, self.timeout, BYTES_PER_TOKEN * self.max_tokens, writing_announcer())
        except StreamFailed as error:
            raise GenerationFailed(str(error)) from error
        log.info("LLM wrote %d tokens in %.1f s (finish: %s)", reply.tokens, time.monotonic() - started, reply.finish_reason)
        text = reply.text.strip()
        return Draft(text=text, abstained=ABSTAIN_MARKER in text or not text, mode=self.name, tokens=reply.tokens)


GENERATORS: dict[str, Callable[[Settings, Prompts], AnswerGenerator]] = {
    "extractive": lambda settings, prompts: ExtractiveGenerator(),
    "openai": lambda settings, prompts: OpenAICompatibleGenerator(
        settings.llm_base_url, settings.llm_model, settings.llm_api_key.get_secret_value(), settings.llm_timeout, prompts, settings.llm_max_tokens
    ),
}


def generator_for(settings: Settings, prompts: Prompts) -> AnswerGenerator:
    """The LLM generator when an LLM is configured, else the extractive one."""
    return GENERATORS["openai" if settings.llm_enabled else "extractive"](settings, prompts)
