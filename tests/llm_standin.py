"""A scripted OpenAI-compatible server on loopback. It streams replies as llama.cpp's server does
(server-sent events, one token an event, then `data: [DONE]`), or misbehaves as the request's model
name says; it records every request, and how far each stream got before it ended."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.conftest import LiveServer

Script = Callable[[list[dict]], str]
"""The reply's text, from the request's messages."""

TRICKLE_TOKENS = 200
TRICKLE_EVERY = 0.2  # seconds between tokens: 40 s in all, far past any test's timeout
RUNAWAY_CHUNKS = 1000  # of 100 kB, on one line


def event(content: str | None = None, finish_reason: str | None = None) -> str:
    delta = {"content": content} if content is not None else {}
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    return f"data: {json.dumps(chunk)}\r\n\r\n"


def tokens(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def first_sentence_of_source(messages: list[dict], n: int) -> str:
    """The first sentence of source `n` in a request's fenced sources: a reply the checker supports."""
    user = messages[-1]["content"]
    body = re.search(rf'<source n="{n}"[^>]*>\n(.*?)\n</source>', user, re.S).group(1)
    return re.split(r"(?<=[.!?])\s", body.replace("\n", " "))[0]


class LLMStandIn:
    """Model names: a script's name streams its text; `plain:NAME` answers NAME's text in one JSON
    body (a server that ignores `stream`); `held:NAME` streams NAME's text but sends its first token
    once `first_token` is set and the rest once `rest` is set; `trickle` sends a token every
    TRICKLE_EVERY seconds; `slow` sends nothing for 3 s; `runaway` sends one endless line; `error`
    answers 500; `error_event` streams an error event."""

    def __init__(self, scripts: dict[str, Script]) -> None:
        self.scripts = scripts
        self.requests: list[dict] = []
        self.first_token = threading.Event()
        self.rest = threading.Event()
        self.ended = threading.Condition()
        self.sent_before_end: list[tuple[str, int]] = []  # (model, tokens sent) of each stream when it ended, for whatever reason
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.complete)

    async def complete(self, request: Request) -> Response:
        payload = await request.json()
        self.requests.append(payload)
        model = payload["model"]
        if model == "error":
            return JSONResponse({"error": "boom"}, status_code=500)
        if model == "slow":
            await asyncio.sleep(3)
        if model.startswith("plain:"):
            text = self.scripts[model.removeprefix("plain:")](payload["messages"])
            return JSONResponse({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
        return StreamingResponse(self._stream(model, payload["messages"]), media_type="text/event-stream")

    async def _stream(self, model: str, messages: list[dict]) -> AsyncIterator[str]:
        sent = 0
        try:
            if model == "runaway":
                yield "data: "
                for _ in range(RUNAWAY_CHUNKS):
                    yield "x" * 100_000
                    await asyncio.sleep(0)  # lets the server cancel the stream once the client has gone
            elif model == "error_event":
                yield 'data: {"error": {"message": "the model crashed"}}\r\n\r\n'
            else:
                held = model.startswith("held:")
                text = "late " * TRICKLE_TOKENS if model in ("trickle", "slow") else self.scripts[model.removeprefix("held:")](messages)
                for n, token in enumerate(tokens(text)):
                    if held and n < 2:
                        await asyncio.to_thread((self.first_token if n == 0 else self.rest).wait, 30)
                    if model == "trickle":
                        await asyncio.sleep(TRICKLE_EVERY)
                    yield event(token)
                    sent += 1
                yield event(finish_reason="stop")
                yield "data: [DONE]\r\n\r\n"
        finally:  # also when the client goes away and the server cancels the stream
            with self.ended:
                self.sent_before_end.append((model, sent))
                self.ended.notify_all()

    def wait_ended(self, model: str, timeout: float = 10.0) -> int:
        """Tokens sent by the first stream for `model`, once it has ended."""
        with self.ended:
            if not self.ended.wait_for(lambda: any(name == model for name, _ in self.sent_before_end), timeout):
                raise AssertionError(f"no {model} stream ended within {timeout} s: {self.sent_before_end}")
            return next(sent for name, sent in self.sent_before_end if name == model)


@contextmanager
def serve_llm(scripts: dict[str, Script]) -> Iterator[tuple[LLMStandIn, str]]:
    """The stand-in on a real loopback server, and its base URL (…/v1)."""
    stand_in = LLMStandIn(scripts)
    with LiveServer(stand_in.app) as server:
        yield stand_in, f"{server.url}/v1"
