"""Prompt templates: shipped inside the `bot.prompts` package, replaceable by a folder of their own."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

import pytest

from bot.prompts import ABSTAIN_MARKER, Prompts
from bot.settings import Settings
from index import LearnloopError


def test_default_templates_come_from_the_package() -> None:
    prompts = Prompts.load(Settings().prompts_dir)
    assert prompts == Prompts.load(files("bot.prompts"))
    assert "{abstain_marker}" in prompts.answer_system and ABSTAIN_MARKER not in prompts.answer_system
    assert all(field in prompts.answer_user for field in ("{sources}", "{history}", "{question}"))
    assert prompts.text("slack", "error")


def test_prompts_dir_setting_replaces_the_shipped_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with as_file(files("bot.prompts")) as shipped:
        folder = shutil.copytree(shipped, tmp_path / "reworded", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / "abstain.txt").write_text("Nothing in the sources answers that.\n", encoding="utf-8")
    monkeypatch.setenv("LEARNLOOP_PROMPTS_DIR", str(folder))

    prompts = Prompts.load(Settings().prompts_dir)

    assert prompts.abstain == "Nothing in the sources answers that."
    assert prompts.messages == Prompts.load().messages


def test_a_prompts_dir_without_templates_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LearnloopError, match="cannot be read"):
        Prompts.load(tmp_path)
