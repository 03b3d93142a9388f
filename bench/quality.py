"""Retrieval and answer quality on the eval sets, each set alone and the older three together: the
figures of README's Quality tables, from the same functions `learnloop eval` runs (not timings).
Every set here has been run at the end of some change and is seen now (tests/fixtures/eval/README.md says
when): the next answer-layer change needs a new blind set, run only at its end."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import EVAL, fresh_services
from bot.evaluation import answer_metrics, compare_retrievers, load_questions
from index import RETRIEVAL_MODES


def run(quick: bool) -> dict:
    names = ("dev",) if quick else ("dev", "extra", "holdout", "tune", "heldout", "blind", "fresh", "mixed", "unseen", "holdback", "sealed")
    sets = {name: load_questions(EVAL / f"{name}.jsonl") for name in names}
    if not quick:  # the three older sets pooled; the later sets stay apart
        sets["all"] = [q for name in ("dev", "extra", "holdout") for q in sets[name]]
    with tempfile.TemporaryDirectory() as tmp:
        services = fresh_services(Path(tmp))
        return {
            name: {
                "retrieval": compare_retrievers(services.searcher, questions, list(RETRIEVAL_MODES)),
                "answers": answer_metrics(services.answers, services.searcher, questions),
            }
            for name, questions in sets.items()
        }
