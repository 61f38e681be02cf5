"""Wire Attune's parts together from settings: the library, the retriever, the chat model, the coach.

The CLI and the web UI both build through here, so they run the same pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from agent.backends import make_chat_model
from agent.coach import Coach
from agent.practice.store import SessionStore
from agent.safety import SafetyCheck, SafetyVerdict, check_message
from agent.settings import AttuneSettings
from eval.rubric import FastScorer
from knowledge.embeddings import make_embeddings
from knowledge.ingest import ingest
from knowledge.library import LazyEmbeddings, Library
from knowledge.retrieve import HybridRetriever
from knowledge.types import IngestReport


def open_library(settings: AttuneSettings) -> Library:
    embeddings = LazyEmbeddings(lambda: make_embeddings(settings.embedding_model_path))
    return Library(settings.chroma_path, embeddings, collection=settings.collection, url=settings.chroma_url)


def ingest_into(
    library: Library,
    settings: AttuneSettings,
    paths: Iterable[Path] | None = None,
    *,
    prune: bool = False,
    progress: bool = True,
) -> IngestReport:
    return ingest(
        library,
        paths,
        prune=prune,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        max_bytes=int(settings.max_file_mb * 1_000_000),
        progress=progress,
    )


def make_embed(settings: AttuneSettings, embeddings: Embeddings | None = None) -> Callable[[list[str]], np.ndarray]:
    """Texts -> unit vectors, as the rubric wants them; loads the embedder on first use."""
    embedder = embeddings or LazyEmbeddings(lambda: make_embeddings(settings.embedding_model_path))
    return lambda texts: np.asarray(embedder.embed_documents(texts), dtype=np.float64)


def make_scorer(settings: AttuneSettings, embeddings: Embeddings | None = None) -> FastScorer:
    """The rubric's fast scorer, sharing the library's embedder when one is given (one load per process)."""
    return FastScorer(make_embed(settings, embeddings))


def make_safety_check(settings: AttuneSettings, embeddings: Embeddings | None = None) -> Callable[[str], SafetyVerdict]:
    """The safety check in force: the rules, backed by the learned classifier unless settings turn it off."""
    if not settings.safety_classifier:
        return check_message
    return SafetyCheck(make_embed(settings, embeddings))


def build_coach(
    settings: AttuneSettings, library: Library | None = None, model: BaseChatModel | None = None
) -> Coach:
    library = library or open_library(settings)
    retriever = HybridRetriever(library, top_k=settings.top_k, min_relevance=settings.min_relevance)
    scorer = make_scorer(settings, library.embeddings)
    coach = Coach(model or make_chat_model(settings), retriever, settings, scorer)
    coach.safety_check = make_safety_check(settings, library.embeddings)
    return coach


def open_sessions(settings: AttuneSettings, *, save: bool = True) -> SessionStore:
    """The saved sessions; with `save=False`, a session store that lives in memory and leaves nothing on disk."""
    return SessionStore(settings.sessions_db if save else None)
