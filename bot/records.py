"""The bot's own tables: reflections, feedback and the query log (registered on the shared metadata)."""

from __future__ import annotations
