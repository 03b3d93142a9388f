"""One chat completion, streamed, within one deadline for connecting, waiting and writing.

Why stream: a server asked for a whole reply at once gives no sign of life until it is done, and
keeps generating for a client that gave up (llama.cpp's server wrote for six minutes after a 120 s
timeout, busy for every question after it). Streamed (`stream: true`, server-sent events), the reply
arrives token by token, and closing the connection makes the server stop.

Why a worker thread: httpx's timeouts bound each read, not the whole call, so a server that
trickles a token a second never trips them. The worker reads; the caller waits for it with the
deadline and, when it passes, shuts the socket down (the worker's read ends at once, the server sees
the client gone) and discards the partial text.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

BYTES_PER_TOKEN = 2000
"""Most a reply may take on the wire per token asked for: one event carries one token in a few
hundred bytes of JSON, so this is room for any server's extra fields, and a runaway stream is cut."""


class StreamFailed(Exception):
    """No usable reply: the deadline passed, the stream was malformed, or the server reported an error."""


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int  # streamed pieces of text; llama.cpp's servers send one per token
    finish_reason: str | None


def stream_completion(
    client: httpx.Client, payload: dict, timeout: float, max_bytes: int, on_first_text: Callable[[], None]
) -> Completion:
    """POST `payload` to chat/completions with streaming on; the reply's text, or StreamFailed once
    `timeout` seconds have passed in all. `on_first_text` is called (from the worker) when the first
    words arrive. A server that ignores `stream` and answers in one JSON body is read as such."""
    call = _Call(client, {**payload, "stream": True}, timeout, max_bytes, on_first_text)
    threading.Thread(target=call.run, name="llm-stream", daemon=True).start()
    if not call.finished.wait(timeout):
        call.cancel()
        raise StreamFailed(f"no complete reply within {timeout:g} s; the connection was closed so the server stops writing")
    if call.error is not None:
        raise StreamFailed(f"{type(call.error).__name__}: {call.error}") from call.error
    assert call.result is not None  # set whenever run() ends without an error
    return call.result


class _Call:
    """One request on a worker thread; the caller may cancel it at any moment."""

    def __init__(self, client: httpx.Client, payload: dict, timeout: float, max_bytes: int, on_first_text: Callable[[], None]) -> None:
        self.client, self.payload, self.timeout, self.max_bytes = client, payload, timeout, max_bytes
        self.on_first_text = on_first_text
        self.finished = threading.Event()
        self.result: Completion | None = None
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._socket: socket.socket | None = None

    def run(self) -> None:
        try:
            with self.client.stream("POST", "chat/completions", json=self.payload, timeout=self.timeout) as response:
                if not self._opened(response):
                    return
                if response.is_error:
                    response.read()
                    raise StreamFailed(f"HTTP {response.status_code}: {response.text[:200]}")
                if response.headers.get("content-type", "").startswith("application/json"):
                    self.result = _whole(json.loads(response.read()))
                else:
                    self.result = self._read(_events(response, self.max_bytes))
        except Exception as error:  # handed to the caller's thread, which decides what it means
            self.error = error
        finally:
            self.finished.set()

    def cancel(self) -> None:
        """Stop now: shutting the socket down ends a read in progress and tells the server we left."""
        with self._lock:
            self._cancelled = True
            if self._socket is not None:
                _shut(self._socket)

    def _opened(self, response: httpx.Response) -> bool:
        """Note the connection's socket so cancel() can close it; False when cancelled already."""
        stream = response.extensions.get("network_stream")
        with self._lock:
            self._socket = stream.get_extra_info("socket") if stream is not None else None
            if self._cancelled and self._socket is not None:
                _shut(self._socket)
            return not self._cancelled

    def _read(self, events: Iterator[dict]) -> Completion:
        pieces: list[str] = []
        finish_reason = None
        for event in events:
            if "error" in event:
                raise StreamFailed(f"the server reported an error: {str(event['error'])[:200]}")
            for choice in event.get("choices") or []:  # a usage-only event has none
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece and not pieces:
                    self.on_first_text()
                if piece:
                    pieces.append(piece)
                finish_reason = choice.get("finish_reason") or finish_reason
        return Completion("".join(pieces), len(pieces), finish_reason)


def _whole(body: dict) -> Completion:
    """A non-streamed reply (a server that ignores `stream`)."""
    choice = body["choices"][0]
    text = choice["message"]["content"]
    if not isinstance(text, str):
        raise StreamFailed("the reply has no text content")
    return Completion(text, 0, choice.get("finish_reason"))


def _events(response: httpx.Response, max_bytes: int) -> Iterator[dict]:
    """The JSON data of each server-sent event up to `data: [DONE]`; comments (`: ping`) and other
    fields are skipped. Bytes are counted as they arrive, so one endless line cannot fill memory."""
    received, pending = 0, b""
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise StreamFailed(f"the reply passed {max_bytes} bytes")
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            yield json.loads(data)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the other side
        pass
