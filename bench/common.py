"""What every benchmark shares: paired timing, cold caches, a fresh catalog, the results file."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from bot import extractive, lexical
from bot.services import Services, build_services
from bot.settings import Settings
from ingest import Embedder

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
EVAL = REPO / "tests" / "fixtures" / "eval"

# Every lru_cache on the answer path: cleared, an answer pays for sentence splitting and term
# extraction as a question on passages never seen before would. A new cache belongs here.
CACHES = (extractive.units_of, lexical.terms)

T = TypeVar("T")


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def alternate(
    a: Callable[[T], object], b: Callable[[T], object], inputs: Sequence[T],
    before: Callable[[], object] | None = None, after: Callable[[object], object] | None = None,
) -> tuple[list[float], list[float]]:
    """Milliseconds of `a(x)` and of `b(x)` for every x in `inputs`, in the order A B, B A, A B, ...

    The pair for each input runs back to back and which goes first flips every time, so drift in
    the machine's speed, and whatever warmth the first call leaves the second, fall on both alike.
    `before` runs untimed ahead of every call (to clear caches); `after` gets every call's result,
    untimed (to check it).
    """
    times: tuple[list[float], list[float]] = ([], [])
    for turn, x in enumerate(inputs):
        for side in (0, 1) if turn % 2 == 0 else (1, 0):
            fn = (a, b)[side]
            if before:
                before()
            start = time.perf_counter()
            result = fn(x)
            times[side].append((time.perf_counter() - start) * 1000)
            if after:
                after(result)
    return times


def clear_caches() -> None:
    for cached in CACHES:
        cached.cache_clear()


def p50(values: Sequence[float], digits: int = 2) -> float:
    return round(statistics.median(values), digits)


def compare(subject: Sequence[float], baseline: Sequence[float]) -> dict:
    """A subject's timings against its baseline's, taken pair by pair by `alternate` (milliseconds)."""
    return {
        "calls": len(subject),
        "subject_ms_p50": p50(subject),
        "baseline_ms_p50": p50(baseline),
        "ratio": round(statistics.median(subject) / statistics.median(baseline), 2),
        "paired_extra_ms_p50": p50([s - b for s, b in zip(subject, baseline, strict=True)]),
    }


def questions(sets: Sequence[str] = ("dev", "extra", "holdout")) -> list[str]:
    """Every question of the eval sets, unanswerable ones included (they exercise the abstention path)."""
    return [json.loads(line)["question"] for name in sets for line in (EVAL / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def corpus_copy(root: Path, **settings: object) -> Settings:
    """Settings for a private copy of the bundled corpus under `root`, with an empty home beside it."""
    shutil.copytree(REPO / "corpus", root / "corpus")
    return Settings(home=root / "var", corpus=root / "corpus", **settings)


def fresh_services(root: Path, embedder: Embedder | None = None, **settings: object) -> Services:
    """A private copy of the bundled corpus under `root`, ingested into a new home there and ready to
    time: no background BM25 rebuild left to compete with the timings."""
    services = build_services(corpus_copy(root, **settings), embedder=embedder)
    services.pipeline.run()
    services.searcher.sync()
    services.searcher._keywords.wait_until_merged()
    return services


def machine() -> dict:
    """Enough to tell whether two results files can be compared."""
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": version("torch"),
        "sentence_transformers": version("sentence-transformers"),
        "faiss": version("faiss-cpu"),
        # Other work on the machine inflates every absolute time (ratios, alternated, much less): a
        # load well above cpu_count when the run ends says read only the ratios.
        "load_average_1_5_15_min": [round(load, 2) for load in os.getloadavg()],
    }


def save(name: str, result: dict, quick: bool) -> Path:
    """bench/results/<name>.json (committed with the README figures it backs); a --quick smoke run
    goes to bench/results/quick/, which git ignores, so it can never pass for a real run."""
    folder = RESULTS / "quick" if quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps({"bench": name, "date": stamp, "quick": quick, "machine": machine(), "results": result}, indent=2) + "\n")
    return path
