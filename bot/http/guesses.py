"""A limit on wrong API keys per client address, so keys cannot be guessed at HTTP speed.

Every keyed route and the sign-in page check a presented key. Without a limit a client could try
thousands of keys a second; now, once an address has presented WRONG_KEYS wrong keys within a
minute, no key from it is checked (429, with Retry-After) until the oldest of them is a minute old:
checking a right one then would tell a guesser it had found one. A request without any key is no
guess and does not count. The count is per process (the `limits` library's moving window in
memory); behind a reverse proxy, uvicorn takes the client's address from X-Forwarded-For when the
proxy is on the same host, so one guesser does not lock out everyone behind it.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, Request, status
from limits import RateLimitItemPerSecond, storage, strategies

WRONG_KEYS = 10  # per client address, within WINDOW_S
WINDOW_S = 60


class KeyGuessLimit:
    """Counts each address's wrong keys in a moving window."""

    def __init__(self, wrong_keys: int = WRONG_KEYS, window_s: int = WINDOW_S) -> None:
        self._rule = RateLimitItemPerSecond(wrong_keys, window_s)
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def wait_s(self, request: Request) -> int | None:
        """Seconds until the caller's address may present a key again; None when it may now."""
        address = client_address(request)
        if self._limiter.test(self._rule, address):
            return None
        return max(1, math.ceil(self._limiter.get_window_stats(self._rule, address).reset_time - time.time()))

    def refuse_if_blocked(self, request: Request) -> None:
        """429 with Retry-After while the caller's address has used up its wrong keys."""
        if (wait := self.wait_s(request)) is not None:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, too_many_message(wait), headers={"Retry-After": str(wait)})

    def count_wrong(self, request: Request) -> None:
        self._limiter.hit(self._rule, client_address(request))


def too_many_message(wait_s: int) -> str:
    return f"Too many wrong API keys from this address: try again in {wait_s} seconds."


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def key_guess_limit(request: Request) -> KeyGuessLimit:
    return request.app.state.key_guesses
