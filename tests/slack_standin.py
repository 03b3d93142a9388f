"""A local stand-in for Slack's Web API and response URLs that records every call (as Bolt's own tests do)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.conftest import LiveServer

POSTING = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
"""Methods Slack refuses with not_in_channel in a channel the bot is not a member of."""


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.called = threading.Condition(self.lock)  # wait_for wakes on each call, not on a poll
        self.rate_limit_next: dict[str, int] = {}
        self.fail_next: dict[str, str] = {}  # method -> Slack error code answered (HTTP 200, ok: false) to its next call
        self.private_channels: set[str] = set()  # C ids conversations.info reports as private channels
        self.outside: set[str] = set()  # channels the bot was not invited to: posting there answers not_in_channel
        self.members: dict[str, list[str]] = {}  # channel -> user ids conversations.members lists, one per page
        self.fail_next_response: dict[str, tuple[int, str]] = {}  # response_url hook -> (HTTP status, body) of its next call
        self.held: dict[str, threading.Event] = {}  # method -> event: its calls are answered only once the event is set
        self.posted: list[str] = []  # the ts answered to each chat.postMessage, in order (chat.update names a message by it)
        self.app = FastAPI()
        self.app.post("/api/{method}")(self.web_api)
        self.app.post("/response/{hook:path}")(self.response_url)

    async def _payload(self, request: Request) -> dict:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            return json.loads(raw or b"{}")
        parsed = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        for key in ("blocks", "view", "prompts"):
            if key in parsed:
                parsed[key] = json.loads(parsed[key])
        return parsed

    async def web_api(self, method: str, request: Request) -> JSONResponse:
        payload = await self._payload(request)
        if method in self.held:  # a slow Slack, for as long as the test says
            await asyncio.to_thread(self.held[method].wait, 30)
        with self.lock:
            if self.rate_limit_next.get(method, 0) > 0:
                self.rate_limit_next[method] -= 1
                self.calls.append((f"{method}:429", payload))
                self.called.notify_all()
                return JSONResponse({"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": "1"})
            if method in self.fail_next or (method in POSTING and payload.get("channel") in self.outside):
                error = self.fail_next.pop(method, "not_in_channel")
                self.calls.append((f"{method}:{error}", payload))
                self.called.notify_all()
                return JSONResponse({"ok": False, "error": error})
            ts = f"{time.time():.6f}"
            if method == "chat.postMessage":
                self.posted.append(ts)
            self.calls.append((method, payload))
            self.called.notify_all()
            channel = payload.get("channel", "")
            info = {"id": channel, "is_channel": True, "is_private": channel in self.private_channels or channel.startswith("G")}
        responses = {
            "auth.test": {"ok": True, "url": "https://learnloop-test.slack.com/", "team": "T", "user": "learnloop", "team_id": "T111", "user_id": "W111", "bot_id": "B111"},
            "chat.postMessage": {"ok": True, "channel": payload.get("channel"), "ts": ts},
            "chat.getPermalink": {"ok": True, "permalink": "https://learnloop-test.slack.com/archives/C111/p1583636382000300"},
            "apps.connections.open": {"ok": True, "url": "ws://127.0.0.1:9/link"},
            "conversations.info": {"ok": True, "channel": info},
            "chat.update": {"ok": True, "channel": channel, "ts": payload.get("ts")},
        }
        if method == "conversations.members":
            return JSONResponse(self._members_page(channel, payload.get("cursor") or "0"))
        return JSONResponse(responses.get(method, {"ok": True}))

    def _members_page(self, channel: str, cursor: str) -> dict:
        """One member a page, so a member late in the list is found only by following next_cursor."""
        members, at = self.members.get(channel, []), int(cursor)
        following = str(at + 1) if at + 1 < len(members) else ""
        return {"ok": True, "members": members[at : at + 1], "response_metadata": {"next_cursor": following}}

    async def response_url(self, hook: str, request: Request) -> PlainTextResponse:
        payload = await self._payload(request)
        with self.lock:
            status, body = self.fail_next_response.pop(hook, (200, "ok"))
            self.calls.append((f"response:{hook}" if status == 200 else f"response:{hook}:{body}", payload))
            self.called.notify_all()
        return PlainTextResponse(body, status_code=status)

    def of(self, method: str) -> list[dict]:
        with self.lock:
            return self._of(method)

    def _of(self, method: str, where: Callable[[dict], bool] | None = None) -> list[dict]:
        return [payload for name, payload in self.calls if name == method and (where is None or where(payload))]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0, where: Callable[[dict], bool] | None = None) -> list[dict]:
        """The calls of `method` (those `where` accepts, when given) once there are `count` of them."""
        with self.called:
            if self.called.wait_for(lambda: len(self._of(method, where)) >= count, timeout):
                return self._of(method, where)
        raise AssertionError(f"{method} was called {len(self.of(method))} times, expected {count}; calls: {[n for n, _ in self.calls]}")

    def no_more(self, method: str, count: int, within: float = 1.0) -> None:
        """Fail as soon as `method` is called more than `count` times; pass once `within` seconds go by without it."""
        with self.called:
            if self.called.wait_for(lambda: len(self._of(method)) > count, within):
                raise AssertionError(f"{method} was called {len(self._of(method))} times, expected {count}: {self._of(method)[count:]}")


@contextmanager
def serve_standin() -> Iterator[SlackStandIn]:
    """A stand-in on a real loopback server; its base URL is `url`."""
    stand_in = SlackStandIn()
    with LiveServer(stand_in.app) as server:
        stand_in.url = server.url
        yield stand_in
