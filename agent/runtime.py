"""Wire Attune's parts together from settings: the library, the retriever, the chat model, the coach.

The CLI and the web UI both build through here, so they run the same pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from langchain_core.language_models.chat_models import BaseChatModel

from agent.backends import make_chat_model
from agent.coach import Coach
from agent.settings import AttuneSettings
from knowledge.embeddings import make_embeddings
from knowledge.ingest import ingest
from knowledge.library import LazyEmbeddings, Library
from knowledge.retrieve import HybridRetriever
from knowledge.types import IngestReport


def open_library(settings: AttuneSettings) -> Library:
    embeddings = LazyEmbeddings(lambda: make_embeddings(settings.embedding_model_path))
    return Library(settings.chroma_path, embeddings, collection=settings.collection)


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


def build_coach(
    settings: AttuneSettings, library: Library | None = None, model: BaseChatModel | None = None
) -> Coach:
    library = library or open_library(settings)
    retriever = HybridRetriever(library, top_k=settings.top_k, min_relevance=settings.min_relevance)
    return Coach(model or make_chat_model(settings), retriever, settings)
