"""Shared fixtures: a hashing embedder that ranks by real word overlap, a tmp library, and a guard
that stops unit tests from loading the real model or embedder by accident.

Integration tests (marked `integration`) opt in to the real components.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from agent.settings import AttuneSettings
from knowledge.library import Library


class HashingEmbeddings(Embeddings):
    """Bag-of-words vectors (hashed, L2-normalised): texts sharing words are similar, so ranking tests
    mean something, unlike random fake embeddings."""

    dims = 384  # the dimension of all-MiniLM-L6-v2, which the rubric's empathy model expects

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * self.dims
        for word in re.findall(r"[a-z]+", text.lower()):
            if len(word) > 2:
                vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dims] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


# Fixtures that start a real server or browser: a test using one is slow, whatever its marks.
SLOW_FIXTURES = {"ui_server", "locked_server", "browser", "llama_server", "chroma_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` = integration tests, tests behind a real server or browser, and tests marked slow themselves;
    `pytest -m "not slow"` is the fast lane, plain `pytest` runs everything."""
    for item in items:
        if item.get_closest_marker("integration") or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_real_models_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("integration"):
        return

    # The guards sit in the seams themselves (the llama.cpp options every model is built from, the model-server
    # factory, the embedder loader), so no caller can get past them; mark a test `integration` if it must.
    monkeypatch.setattr("agent.backends.ALLOW_MODEL_REQUESTS", False)
    monkeypatch.setattr("knowledge.embeddings.ALLOW_REAL_EMBEDDER", False)


@pytest.fixture(autouse=True)
def _isolated_home(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """No test reads the developer's settings or writes to their data folder."""
    home = tmp_path_factory.mktemp("attune-home")
    for var in [v for v in os.environ if v.startswith("ATTUNE_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("ATTUNE_HOME", str(home))
    # The learned safety classifier needs the real embedder; unit tests check the rules (integration: both).
    if not request.node.get_closest_marker("integration"):
        monkeypatch.setenv("ATTUNE_SAFETY__CLASSIFIER", "false")
    yield home


@pytest.fixture
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in-process embed with the hashing embedder instead of loading MiniLM."""
    monkeypatch.setattr("agent.app.make_embeddings", lambda *_: HashingEmbeddings())


@pytest.fixture
def settings(tmp_path: Path) -> AttuneSettings:
    return AttuneSettings(home=tmp_path / "home", llm_backend="fake", min_relevance=0.1)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library(tmp_path / "chroma", HashingEmbeddings())


@pytest.fixture
def hashing_scorer():  # type: ignore[no-untyped-def]
    """The rubric's real fast scorer (rules and learned empathy model) on hashing embeddings."""
    import numpy as np

    from eval.rubric import FastScorer

    embedder = HashingEmbeddings()
    return FastScorer(lambda texts: np.asarray(embedder.embed_documents(texts), dtype=np.float64))
