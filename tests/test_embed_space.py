"""The catalog records which embedder made its vectors: a process configured with another model or
backend refuses to start on chunks it would misread, naming both; an empty catalog takes any."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from bot.services import Services, build_services
from index.errors import LearnloopError
from index.space import EmbeddingSpace, claim_space
from tests.conftest import FakeEmbedder, make_settings, small_services


class SpacedEmbedder(FakeEmbedder):
    """The fake, claiming a space as the real backends do."""

    def __init__(self, space: str) -> None:
        super().__init__()
        self._space = space

    @property
    def space(self) -> str:
        return self._space


def recorded(services: Services) -> str | None:
    with Session(services.catalog.engine) as session:
        row = session.get(EmbeddingSpace, 1)
        return row.space if row else None


def test_a_catalog_refuses_an_embedder_of_another_space(tmp_path: Path, database_url: str) -> None:
    services = small_services(tmp_path, database_url)
    assert recorded(services) is None, "the test fake claims no space"
    settings = services.settings

    build_services(settings, embedder=SpacedEmbedder("minilm-0123+torch"))
    assert recorded(services) == "minilm-0123+torch", "chunks of unknown origin: the first real embedder records its space"
    build_services(settings, embedder=SpacedEmbedder("minilm-0123+torch"))
    build_services(settings, embedder=FakeEmbedder())

    with pytest.raises(LearnloopError) as refused:
        build_services(settings, embedder=SpacedEmbedder("minilm-0123+onnx-int8"))
    assert "minilm-0123+torch" in str(refused.value) and "minilm-0123+onnx-int8" in str(refused.value)
    assert "LEARNLOOP_EMBED_BACKEND" in str(refused.value)
    assert recorded(services) == "minilm-0123+torch"


def test_an_empty_catalog_takes_the_new_space(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "var", tmp_path / "corpus", database_url=database_url)
    first = build_services(settings, embedder=SpacedEmbedder("old+torch"))
    claim_space(first.catalog.engine, "new+onnx-int8")
    assert recorded(first) == "new+onnx-int8"
