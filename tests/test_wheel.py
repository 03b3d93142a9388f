"""The wheel works on its own: built from the working tree, installed into a fresh venv, and
`learnloop ingest` and `learnloop ask` run from a folder outside the checkout.

Installing torch into a fresh venv would take minutes, so the fresh venv sees the project venv's
third-party packages through a .pth file; that file adds a plain folder to sys.path, so the
project venv's editable-install finder never runs and the checkout stays unimportable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from bot.models import Answer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "var", "*.egg-info", "__pycache__", ".pytest_cache", ".schemathesis")
TINY_CORPUS = ("reports/sources.toml", "reports/behaving-like-a-system-collaborate-2015.txt")
TEMPLATES = ("abstain.txt", "answer_system.txt", "answer_user.txt", "messages.toml")
WHERE_FROM = "import bot, index, ingest; print(bot.__file__, index.__file__, ingest.__file__)"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command to completion; on failure, show its output in the assertion."""
    done = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the working tree, so stale `build/` output never reaches it."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", root / "dist", source, cwd=root)
    (built,) = (root / "dist").glob("learnloop-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A new venv holding only the wheel, with the project venv's dependencies visible behind it."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=venv.parent)
    site_packages = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=venv.parent).strip())
    (site_packages / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv


def outside_env(home: Path, corpus: Path) -> dict[str, str]:
    """The caller's environment without anything that points back into the checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEARNLOOP_", "PYTHON", "VIRTUAL_ENV"))}
    return env | {"LEARNLOOP_HOME": str(home), "LEARNLOOP_CORPUS": str(corpus), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def test_wheel_holds_the_three_packages_and_the_prompts(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"bot", "index", "ingest"}
    assert {f"bot/prompts/{template}" for template in TEMPLATES} <= set(names)


def test_installed_wheel_answers_from_outside_the_checkout(fresh_venv: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    for name in TINY_CORPUS:
        (workdir / "corpus" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "corpus" / name, workdir / "corpus" / name)
    env = outside_env(workdir / "var", workdir / "corpus")

    imported = run(fresh_venv / "bin" / "python", "-c", WHERE_FROM, cwd=workdir, env=env)
    assert all(Path(path).is_relative_to(fresh_venv) for path in imported.split()), imported

    learnloop = fresh_venv / "bin" / "learnloop"
    run(learnloop, "ingest", cwd=workdir, env=env)
    output = run(learnloop, "ask", "What are the preconditions for systems change in a place?", "--json", cwd=workdir, env=env)

    answer = Answer.model_validate(json.loads(output))
    assert not answer.abstained and answer.citations
    assert {citation.source for citation in answer.citations} == {"reports/behaving-like-a-system-collaborate-2015.txt"}
    assert all(f"[{citation.n}]" in answer.answer for citation in answer.citations)
