"""The bot's own tables' revisions: a second Alembic branch beside the catalog's (index.migrations)."""

from pathlib import Path

BOT_VERSIONS = Path(__file__).resolve().parent / "versions"
