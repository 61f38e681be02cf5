"""Shared fixtures: a hashing embedder that ranks by real word overlap, a tmp library, and a guard
that stops unit tests from loading the real model or embedder by accident.

Integration tests (marked `integration`) opt in to the real components.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

import agent.runtime  # noqa: F401  imported before the guard patches what it imports by name
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


@pytest.fixture(autouse=True)
def _no_real_models_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("integration"):
        return

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a unit test tried to load a real model; mark it `integration` if it must")

    monkeypatch.setattr("agent.backends.llamacpp.load_llamacpp_chat", refuse)
    monkeypatch.setattr("knowledge.embeddings.make_embeddings", refuse)
    monkeypatch.setattr("agent.runtime.make_embeddings", refuse)


@pytest.fixture(autouse=True)
def _isolated_home(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """No test reads the developer's settings or writes to their data folder."""
    home = tmp_path_factory.mktemp("attune-home")
    for var in ("ATTUNE_MODEL_PATH", "ATTUNE_LLM_BASE_URL", "ATTUNE_LLM_BACKEND", "ATTUNE_CONFIG", "ATTUNE_CHROMA_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATTUNE_HOME", str(home))
    # The learned safety classifier needs the real embedder; unit tests check the rules (integration: both).
    if not request.node.get_closest_marker("integration"):
        monkeypatch.setenv("ATTUNE_SAFETY_CLASSIFIER", "false")
    yield home


@pytest.fixture
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in-process embed with the hashing embedder instead of loading MiniLM."""
    monkeypatch.setattr("agent.runtime.make_embeddings", lambda *_: HashingEmbeddings())


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
