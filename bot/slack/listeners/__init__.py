"""Listeners by surface; each module's `register(app, responder)` only maps identifiers to callbacks."""
