"""Every text the assistant says or asks, in the template files beside this module: one place for
wording, none in code.

They ship as package data and are read through importlib.resources, so an installed wheel finds
them without a checkout; LEARNLOOP_PROMPTS_DIR may point at a reworded copy instead.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

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
    def load(cls, folder: Traversable | None = None) -> Prompts:
        """The templates in `folder`, or the ones shipped in this package when there is none."""
        source = folder if folder is not None else files(__name__)
        try:
            return cls(
                answer_system=(source / "answer_system.txt").read_text(encoding="utf-8").strip(),
                answer_user=(source / "answer_user.txt").read_text(encoding="utf-8").strip(),
                abstain=(source / "abstain.txt").read_text(encoding="utf-8").strip(),
                messages=tomllib.loads((source / "messages.toml").read_text(encoding="utf-8")),
            )
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise LearnloopError(f"The prompt templates in {source} cannot be read: {error}") from error

    def text(self, section: str, name: str, **values: object) -> str:
        """A message template from messages.toml with its placeholders filled."""
        return str(self.messages[section][name]).format(**values)
