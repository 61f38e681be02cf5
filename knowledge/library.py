"""The indexed library: a Chroma collection of passages with their title, section and source.

The only module that imports chromadb. Embedded `PersistentClient` under Attune's data folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from knowledge.types import Chunk


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    title: str
    section: str
    source: str


class LazyEmbeddings(Embeddings):
    """Builds the real embedder on first use, so commands that embed nothing never load torch."""

    def __init__(self, factory: Callable[[], Embeddings]) -> None:
        self._factory = factory
        self._inner: Embeddings | None = None

    @property
    def inner(self) -> Embeddings:
        if self._inner is None:
            self._inner = self._factory()
        return self._inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class Library:
    def __init__(self, path: Path, embeddings: Embeddings, collection: str = "library") -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings

        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Bumped on every write through this object, so caches over the contents know when to rebuild.
        self.generation = 0
        self.embeddings = embeddings
        self._client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        self._collection = self._client.get_or_create_collection(
            name=collection, metadata={"hnsw:space": "cosine"}
        )

    def count(self) -> int:
        return self._collection.count()

    def ids_for_source(self, source: str) -> set[str]:
        return set(self._collection.get(where={"source": source}, include=[])["ids"])

    def sources(self) -> dict[str, str]:
        """Every indexed source with its title."""
        got = self._collection.get(include=["metadatas"])
        return {str(m["source"]): str(m.get("title", "")) for m in got["metadatas"] or [] if m}

    def replace_source(self, source: str, title: str, chunks: Sequence[Chunk]) -> tuple[int, int]:
        """Make the source's chunks exactly `chunks`; return (added, removed). Unchanged chunks stay."""
        existing = self.ids_for_source(source)
        new = [c for c in chunks if c.id not in existing]
        stale = existing - {c.id for c in chunks}
        if new:
            vectors = self.embeddings.embed_documents([c.text for c in new])
            self._collection.upsert(
                ids=[c.id for c in new],
                documents=[c.text for c in new],
                embeddings=vectors,  # type: ignore[arg-type]
                metadatas=[{"source": source, "title": title, "section": c.section} for c in new],
            )
        if stale:
            self._collection.delete(ids=sorted(stale))
        if new or stale:
            self.generation += 1
        return len(new), len(stale)

    def delete_source(self, source: str) -> int:
        ids = self.ids_for_source(source)
        if ids:
            self._collection.delete(ids=sorted(ids))
            self.generation += 1
        return len(ids)

    def all_chunks(self) -> list[StoredChunk]:
        got = self._collection.get(include=["documents", "metadatas"])
        return [
            _stored(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]

    def nearest(self, vector: Sequence[float], n: int) -> list[tuple[StoredChunk, float]]:
        """The n chunks nearest to the vector, with their cosine similarity."""
        count = self.count()
        if count == 0:
            return []
        queries: list[Sequence[float]] = [list(vector)]
        got = self._collection.query(
            query_embeddings=queries,
            n_results=min(n, count),
            include=["documents", "metadatas", "distances"],
        )
        return [
            (_stored(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],  # type: ignore[index]
                strict=True,
            )
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        return {i: list(v) for i, v in zip(got["ids"], got["embeddings"], strict=True)}  # type: ignore[arg-type]


def _stored(cid: str, text: str | None, meta: object) -> StoredChunk:
    m = meta if isinstance(meta, dict) else {}
    return StoredChunk(
        id=cid,
        text=text or "",
        title=str(m.get("title", "")),
        section=str(m.get("section", "")),
        source=str(m.get("source", "")),
    )
