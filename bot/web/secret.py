"""The web pages' signing secret: random, made once, kept in the database every replica shares."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.records import WebSecret


def web_secret(engine: Engine) -> bytes:
    """The stored secret, made on first use. Two replicas starting together may both try to store
    one: the second insert fails on the primary key, and both read the one that landed."""
    with Session(engine) as session:
        stored = session.get(WebSecret, 1)
        if stored is not None:
            return bytes.fromhex(stored.secret)
    try:
        with Session(engine) as session:
            session.add(WebSecret(id=1, secret=secrets.token_hex(32)))
            session.commit()
    except IntegrityError:
        pass  # another replica stored one first
    with Session(engine) as session:
        return bytes.fromhex(session.get(WebSecret, 1).secret)  # type: ignore[union-attr] - stored above, or by the other
