"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    return round(statistics.median(timed(fn) for _ in range(runs)), 2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def save(results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(results, indent=2))
    return path


def questions() -> list[str]:
    root = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eval"
    rows = [json.loads(line) for name in ("dev.jsonl", "extra.jsonl") for line in (root / name).read_text().splitlines() if line.strip()]
    return [row["question"] for row in rows]
