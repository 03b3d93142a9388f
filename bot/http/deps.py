"""Dependencies as named aliases: the services, and API-key checks by scope."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from bot.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def _authorise(request: Request, needed: str) -> None:
    """Bearer key check in constant time; 401 without a valid key, 403 when its scope is too narrow."""
    scopes: dict[str, str] = request.app.state.api_scopes
    if not scopes:
        return
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    scope = None
    if scheme.lower() == "bearer" and presented:
        for key, key_scope in scopes.items():
            if hmac.compare_digest(presented.strip().encode(), key.encode()):
                scope = key_scope
    if scope is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A valid API key is required: send 'Authorization: Bearer <key>'.", headers={"WWW-Authenticate": "Bearer"})
    if needed == "write" and scope == "read":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This API key may only read; this request needs a key with write scope.")
    if needed == "read" and scope == "write":
        return


def require_read(request: Request) -> None:
    _authorise(request, "read")


def require_write(request: Request) -> None:
    _authorise(request, "write")


ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)
