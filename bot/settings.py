"""Settings: the one place that reads the environment.

Read once at each entry point (CLI callback, FastAPI lifespan, Slack start) and passed down as an
argument; nothing below `bot` ever reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting Learnloop has, each with its environment variable and default."""

    model_config = SettingsConfigDict(env_prefix="LEARNLOOP_", extra="forbid", populate_by_name=True)

    home: Path = Field(Path("var"), description="Folder for the database and index files (LEARNLOOP_HOME).")
    database_url: str = Field("", description="SQLAlchemy URL; empty means sqlite:///$LEARNLOOP_HOME/learnloop.db.")
    corpus: Path = Field(Path("corpus"), description="Corpus folder: reports/ and learning-logs/ (LEARNLOOP_CORPUS).")
    embed_model: str = Field("all-MiniLM-L6-v2", description="Registered embedder name or a local sentence-transformers folder.")
    prompts_dir: Path = Field(REPO_ROOT / "prompts", description="Folder of prompt and message templates.")

    llm_base_url: str = Field("", description="OpenAI-compatible base URL (…/v1); empty means extractive answers, offline.")
    llm_model: str = Field("", description="Model name sent to the LLM server.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="Bearer key for the LLM server, if it needs one.")
    llm_timeout: float = Field(20.0, gt=0, le=300, description="Seconds to wait for the LLM before falling back to extractive.")

    api_keys: SecretStr = Field(SecretStr(""), description="Comma-separated API keys, each optionally key:read or key:write; empty means open.")
    review: bool = Field(False, description="When true, new reflections wait as pending until approved.")

    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted, in characters.")
    max_body_bytes: int = Field(256_000, ge=1024, description="Largest HTTP request body accepted, in bytes.")

    slack_bot_token: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_signing_secret: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"))
    slack_app_token: SecretStr = Field(SecretStr(""), validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_api_url: str = Field("", description="Slack Web API base URL (ends with /); empty means Slack's own.")

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

    def api_key_scopes(self) -> dict[str, str]:
        """Key -> scope ('read', 'write' or 'all' when the key carries no scope)."""
        scopes: dict[str, str] = {}
        for entry in self.api_keys.get_secret_value().split(","):
            key, _, scope = entry.strip().partition(":")
            if key:
                scopes[key] = scope.strip().lower() if scope.strip().lower() in ("read", "write") else "all"
        return scopes
