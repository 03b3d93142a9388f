"""Settings: the one place that reads the environment.

Read once at each entry point (CLI callback, FastAPI lifespan, Slack start) and passed down as an
argument; nothing below `bot` ever reads the environment.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, cast, get_args

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

ApiScope = Literal["read", "write", "admin"]
# `serve` warns of keys shorter than this: worth guessing even at bot.http.guesses' pace of 10 a minute an
# address (length is no measure of randomness, but a short key is surely weak). secrets.token_urlsafe(24),
# which README and `serve` suggest, gives 32 characters: 192 bits.
SAFE_KEY_CHARS = 16


def parse_api_keys(text: str) -> dict[str, ApiScope]:
    """Key -> scope from LEARNLOOP_API_KEYS ('key' alone is write). A bad entry raises ValueError naming
    it by position: the message never echoes any part of an entry, since that may be a secret."""
    scopes: dict[str, ApiScope] = {}
    for number, entry in enumerate(text.split(","), start=1):
        key, colon, scope = (part.strip() for part in entry.partition(":"))
        if not (key or colon):
            continue
        scope = scope.lower() if colon else "write"
        if not key or scope not in get_args(ApiScope):
            problem = "has no key" if not key else "has an unknown scope"
            raise ValueError(f"LEARNLOOP_API_KEYS entry {number} {problem}: each entry is key, key:read, key:write or key:admin.")
        scopes[key] = cast(ApiScope, scope)
    return scopes


def is_channel_id(text: str) -> bool:
    """Slack's shape for a public or private channel id: C or G, then 8 to 20 capitals and digits."""
    return text[:1] in ("C", "G") and 9 <= len(text) <= 21 and text.isascii() and text.isalnum() and text.isupper()


class Settings(BaseSettings):
    """Every setting Learnloop has, each with its environment variable and default."""

    model_config = SettingsConfigDict(env_prefix="LEARNLOOP_", extra="forbid", populate_by_name=True)

    home: Path = Field(Path("var"), description="Folder for the database and index files (LEARNLOOP_HOME).")
    database_url: str = Field("", description="SQLAlchemy URL; empty means sqlite:///$LEARNLOOP_HOME/learnloop.db.")
    corpus: Path = Field(Path("corpus"), description="Corpus folder: reports/ and learning-logs/ (LEARNLOOP_CORPUS).")
    embed_model: str = Field("all-MiniLM-L6-v2", description="Registered embedder name or a local sentence-transformers folder.")
    embed_backend: Literal["onnx-fp32", "torch", "torch-bf16", "onnx"] = Field(
        "onnx-fp32",
        description="What runs the model: ONNX Runtime in float32 (torch's vectors, answers about 0.8x torch's time); torch; torch in bfloat16 (`torch-bf16`, for ingest: torch's space, quicker on a CPU with AVX-512 BF16); or ONNX Runtime with int8 weights (`onnx`, vectors of its own). Both ONNX graphs are exported from the installed weights at install time, no download.",
    )
    embed_cache: Path = Field(Path(sys.prefix) / "share" / "learnloop", description="Folder for the ONNX export; `make install` fills the default (inside the venv).")
    prompts_dir: Path | None = Field(None, description="Folder of prompt and message templates; unset means the ones shipped in bot/prompts/.")

    llm_base_url: str = Field("", description="OpenAI-compatible base URL (…/v1); empty means extractive answers, offline.")
    llm_model: str = Field("", description="Model name sent to the LLM server.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="Bearer key for the LLM server, if it needs one.")
    llm_timeout: float = Field(20.0, gt=0, le=300, description="Seconds to wait for the LLM before falling back to extractive.")
    llm_max_tokens: int = Field(400, ge=16, le=4096, description="Longest reply asked of the LLM, in tokens: a small model left unbounded writes for minutes.")

    api_keys: SecretStr = Field(SecretStr(""), description="Comma-separated API keys, each key (write), key:read, key:write or key:admin; empty means open.")
    review: bool = Field(False, description="When true, new reflections wait as pending until approved.")
    review_channel: str = Field("", description="Slack channel id (C… or G…) where pending reflections are posted for review; empty means none.")
    retention_days: int = Field(90, ge=1, le=36_500, description="Days questions, answers, feedback and Slack thread memory are kept.")

    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted, in characters.")
    max_body_bytes: int = Field(256_000, ge=1024, description="Largest HTTP request body accepted, in bytes.")
    log_format: Literal["text", "json"] = Field("text", description="`serve` logs as text, or as one JSON object per line (with request and Slack event ids).")
    serve_embed_threads: int = Field(
        1, ge=1, le=64,
        description="Threads torch gives each embedding in `serve`; ONNX Runtime embeds queries on one thread, and with 1 here never opens its every-core session for large calls (another copy of the weights). Request threads take the other cores; an oversubscribed team of two took 60x longer (README, Load).",
    )

    slack_bot_token: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_signing_secret: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"))
    slack_app_token: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_api_url: str = Field("", description="Slack Web API base URL (ends with /); empty means Slack's own.")

    @field_validator("api_keys")
    @classmethod
    def _known_scopes(cls, value: SecretStr) -> SecretStr:
        try:
            parse_api_keys(value.get_secret_value())
        except ValueError as error:
            raise PydanticCustomError("api_key_scope", str(error)) from error
        return value

    @field_validator("review_channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        """A channel id, not a name: Slack's API takes ids, and a name would fail only at the first post."""
        value = value.strip()
        if value and not is_channel_id(value):
            raise PydanticCustomError(
                "channel_id", "LEARNLOOP_REVIEW_CHANNEL must be a Slack channel id such as C0123456789 (shown at the bottom of the channel's details), not a name."
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        return value if not value or value.endswith("/") else value + "/"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'learnloop.db').resolve()}"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token.get_secret_value() and self.slack_signing_secret.get_secret_value())

    def api_key_scopes(self) -> dict[str, ApiScope]:
        """Key -> scope; empty means an open API."""
        return parse_api_keys(self.api_keys.get_secret_value())

    def short_api_keys(self) -> int:
        """How many keys are shorter than SAFE_KEY_CHARS (a count: never the keys, which are secrets)."""
        return sum(len(key) < SAFE_KEY_CHARS for key in self.api_key_scopes())
