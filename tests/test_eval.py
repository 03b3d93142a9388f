"""Retrieval mode dense+keyword (hybrid without late interaction) in search and in `learnloop eval`."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from index import Searcher, SearchFilters
from index.fusion import reciprocal_rank_fusion
from tests.conftest import FIXTURES, FakeEmbedder, clone_services, passage_catalog

# The first passage holds every query word among many others: the pooled vector and BM25's length
# normalisation dilute it, while late interaction (each query word's best match) scores it 1.0.
QUERY = "outcomes commissioning trust"
PASSAGES = [
    "Outcomes commissioning trust " + " ".join(f"filler{n}" for n in range(40)),
    "Outcomes commissioning in brief",
    "Commissioning trust in brief",
    "Trust outcomes in brief",
]


@pytest.fixture
def searcher(tmp_path: Path) -> Searcher:
    searcher = Searcher(passage_catalog(tmp_path, PASSAGES), FakeEmbedder(), background_keyword=False)
    searcher.sync()
    return searcher


def test_dense_keyword_fuses_dense_and_bm25_alone_and_differs_from_hybrid(searcher: Searcher) -> None:
    rank = lambda mode: searcher.rank(QUERY, 4, SearchFilters(), mode=mode)  # noqa: E731
    fused = rank("dense+keyword")
    assert fused == reciprocal_rank_fusion([rank("dense"), rank("keyword")])
    assert searcher.meta(rank("hybrid")[0][0]).text == PASSAGES[0]  # late interaction lifts the long passage
    assert searcher.meta(fused[0][0]).text != PASSAGES[0]


@pytest.mark.slow
def test_eval_scores_files_together_and_shows_what_late_interaction_adds(ingested, tmp_path: Path) -> None:
    services = clone_services(ingested, tmp_path / "var")
    env = {"LEARNLOOP_HOME": str(services.settings.home), "LEARNLOOP_CORPUS": str(services.settings.corpus)}
    files = [str(FIXTURES / "eval" / f"{name}.jsonl") for name in ("dev", "extra", "holdout")]
    result = CliRunner().invoke(app, ["eval", *files, "--modes", "dense+keyword,hybrid", "--no-answers", "--json"], env=env)
    assert result.exit_code == 0, result.output
    retrieval = json.loads(result.stdout)["retrieval"]
    assert set(retrieval) == {"dense+keyword", "hybrid"}
    assert retrieval["dense+keyword"]["questions"] == retrieval["hybrid"]["questions"] == 87
    assert retrieval["hybrid"]["mrr@10"] > retrieval["dense+keyword"]["mrr@10"], retrieval  # README: 0.854 against 0.773
