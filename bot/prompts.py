"""Every text the assistant says or asks, loaded from `prompts/`: one place for wording, none in code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from index import LearnloopError

ABSTAIN_MARKER = "INSUFFICIENT_EVIDENCE"
"""What the LLM is told to reply when the sources do not answer; shared by code, prompt and tests."""


@dataclass(frozen=True)
class Prompts:
    answer_system: str
    answer_user: str
    abstain: str
    messages: dict

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        try:
            return cls(
                answer_system=(folder / "answer_system.txt").read_text(encoding="utf-8").strip(),
                answer_user=(folder / "answer_user.txt").read_text(encoding="utf-8").strip(),
                abstain=(folder / "abstain.txt").read_text(encoding="utf-8").strip(),
                messages=tomllib.loads((folder / "messages.toml").read_text(encoding="utf-8")),
            )
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise LearnloopError(f"The prompt templates in {folder} cannot be read: {error}") from error

    def text(self, section: str, name: str, **values: object) -> str:
        """A message template from messages.toml with its placeholders filled."""
        return str(self.messages[section][name]).format(**values)
