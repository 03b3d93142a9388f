"""A limit on wrong API keys per client address, so keys cannot be guessed at HTTP speed.

Every keyed route and the sign-in page check a presented key. Without a limit a client could try
thousands of keys a second; now, once an address has presented WRONG_KEYS wrong keys within about a
minute, no key from it is checked (429, with Retry-After) until its count falls back: checking a
right one then would tell a guesser it had found one. A request without any key is no guess and
does not count. The count is per process, in memory (the `limits` library's sliding-window counter,
whose counts expire, so addresses that stop do not stay in memory). The check, the comparison and
the count happen under one lock, so parallel requests cannot slip extra guesses past the count.

An address is the client's IPv4 address, or its IPv6 /64 network (one subscriber usually holds a
whole /64). Behind a reverse proxy every client has the proxy's address unless uvicorn trusts the
proxy's X-Forwarded-For (FORWARDED_ALLOW_IPS; README, Security and privacy): then one guesser would
lock out everyone behind it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from limits import RateLimitItemPerSecond, storage, strategies

log = logging.getLogger(__name__)

WRONG_KEYS = 10  # per client address, within WINDOW_S
WINDOW_S = 60
Found = TypeVar("Found")


class TooManyWrongKeys(Exception):
    """The address has used up its wrong keys; `wait_s` until it may present one again."""

    def __init__(self, wait_s: int) -> None:
        super().__init__(f"Too many wrong API keys from this address: try again in {wait_s} seconds.")
        self.wait_s = wait_s


class KeyGuessLimit:
    """Counts each address's wrong keys in a sliding window, and checks keys only while it may."""

    def __init__(self, wrong_keys: int = WRONG_KEYS, window_s: int = WINDOW_S) -> None:
        self._rule = RateLimitItemPerSecond(wrong_keys, window_s)
        self._limiter = strategies.SlidingWindowCounterRateLimiter(storage.MemoryStorage())
        self._lock = threading.Lock()

    def checked(self, request: Request, presented: str, verify: Callable[[str], Found | None]) -> Found | None:
        """`verify(presented)`, counted as a wrong key when it gives None; TooManyWrongKeys instead
        while the caller's address may not present keys."""
        address = client_address(request)
        with self._lock:
            if not self._limiter.test(self._rule, address):
                raise TooManyWrongKeys(self._wait_s(address))
            found = verify(presented)
            if found is None:
                self._limiter.hit(self._rule, address)
                if not self._limiter.test(self._rule, address):
                    log.warning("Too many wrong API keys from %s: no key from it is checked for %s s.", address, self._wait_s(address))
        return found

    def _wait_s(self, address: str) -> int:
        return max(1, math.ceil(self._limiter.get_window_stats(self._rule, address).reset_time - time.time()))


def client_address(request: Request) -> str:
    """What the count is kept by: the IPv4 address, the IPv6 /64, or one shared bucket for anything
    else (a test client's name, a malformed forwarded value), so odd values cannot dodge the count
    or fill memory."""
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return "unparsed"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def key_guess_limit(request: Request) -> KeyGuessLimit:
    return request.app.state.key_guesses
