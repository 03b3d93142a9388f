"""Dependencies as named aliases: the services, the caller's scope, and scope checks per route."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.params import Depends as DependsMarker
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.http.guesses import TooManyWrongKeys, key_guess_limit
from bot.services import Services
from bot.settings import ApiScope

RANK: dict[ApiScope, int] = {"read": 0, "write": 1, "admin": 2}
bearer = HTTPBearer(auto_error=False, description="An API key from LEARNLOOP_API_KEYS; its scope (read, write or admin) decides what it may do.")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def caller_scope(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> ApiScope:
    """The presented key's scope, compared in constant time; 401 without a valid key, 429 after too
    many wrong ones (bot.http.guesses). With no keys configured the API is open (loopback only, which
    `serve` enforces) and every caller is admin."""
    scopes: dict[str, ApiScope] = request.app.state.api_scopes
    if not scopes:
        return "admin"
    presented = credentials.credentials.strip() if credentials else ""
    try:
        found = key_guess_limit(request).checked(request, presented, lambda key: scope_for_key(scopes, key)) if presented else None
    except TooManyWrongKeys as refused:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(refused), headers={"Retry-After": str(refused.wait_s)}) from None
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A valid API key is required: send 'Authorization: Bearer <key>'.", headers={"WWW-Authenticate": "Bearer"})
    return found


def scope_for_key(scopes: dict[str, ApiScope], presented: str) -> ApiScope | None:
    """The scope of `presented` among the configured keys, compared in constant time (every key is
    compared, so timing does not tell which matched); None when it is none of them."""
    given = presented.strip().encode()
    found: ApiScope | None = None
    for key, scope in scopes.items():
        if hmac.compare_digest(given, key.encode()):
            found = scope
    return found


ScopeDep = Annotated[ApiScope, Depends(caller_scope)]


def requires(needed: ApiScope) -> DependsMarker:
    """A route dependency refusing (403) keys whose scope ranks below `needed`."""

    def check(scope: ScopeDep) -> None:
        if RANK[scope] < RANK[needed]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"This API key has {scope} scope; this request needs a key with {needed} scope.")

    return Depends(check)


ReadAccess = requires("read")
WriteAccess = requires("write")
AdminAccess = requires("admin")
