"""A local stand-in for Slack's Web API and response URLs that records every call (as Bolt's own tests do)."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.called = threading.Condition(self.lock)  # wait_for wakes on each call, not on a poll
        self.rate_limit_next: dict[str, int] = {}
        self.fail_next: dict[str, str] = {}  # method -> Slack error code answered (HTTP 200, ok: false) to its next call
        self.private_channels: set[str] = set()  # C ids conversations.info reports as private channels
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
        with self.lock:
            if self.rate_limit_next.get(method, 0) > 0:
                self.rate_limit_next[method] -= 1
                self.calls.append((f"{method}:429", payload))
                self.called.notify_all()
                return JSONResponse({"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": "1"})
            if method in self.fail_next:
                error = self.fail_next.pop(method)
                self.calls.append((f"{method}:{error}", payload))
                self.called.notify_all()
                return JSONResponse({"ok": False, "error": error})
            self.calls.append((method, payload))
            self.called.notify_all()
            channel = payload.get("channel", "")
            info = {"id": channel, "is_channel": True, "is_private": channel in self.private_channels or channel.startswith("G")}
        responses = {
            "auth.test": {"ok": True, "url": "https://learnloop-test.slack.com/", "team": "T", "user": "learnloop", "team_id": "T111", "user_id": "W111", "bot_id": "B111"},
            "chat.postMessage": {"ok": True, "channel": payload.get("channel"), "ts": f"{time.time():.6f}"},
            "chat.getPermalink": {"ok": True, "permalink": "https://learnloop-test.slack.com/archives/C111/p1583636382000300"},
            "apps.connections.open": {"ok": True, "url": "ws://127.0.0.1:9/link"},
            "conversations.info": {"ok": True, "channel": info},
        }
        return JSONResponse(responses.get(method, {"ok": True}))

    async def response_url(self, hook: str, request: Request) -> PlainTextResponse:
        payload = await self._payload(request)
        with self.lock:
            self.calls.append((f"response:{hook}", payload))
            self.called.notify_all()
        return PlainTextResponse("ok")

    def of(self, method: str) -> list[dict]:
        with self.lock:
            return self._of(method)

    def _of(self, method: str) -> list[dict]:
        return [payload for name, payload in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
        with self.called:
            if self.called.wait_for(lambda: len(self._of(method)) >= count, timeout):
                return self._of(method)
        raise AssertionError(f"{method} was called {len(self.of(method))} times, expected {count}; calls: {[n for n, _ in self.calls]}")

    def no_more(self, method: str, count: int, within: float = 1.0) -> None:
        """Fail as soon as `method` is called more than `count` times; pass once `within` seconds go by without it."""
        with self.called:
            if self.called.wait_for(lambda: len(self._of(method)) > count, within):
                raise AssertionError(f"{method} was called {len(self._of(method))} times, expected {count}: {self._of(method)[count:]}")
