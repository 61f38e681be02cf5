"""The indexed library: a Chroma collection of passages with their title, section and source.

The only module that imports chromadb: an embedded `PersistentClient` under Attune's data folder, or an
`HttpClient` for a Chroma server shared by several workers.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
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
    """Builds the real embedder on first use, so commands that embed nothing never load it."""

    def __init__(self, factory: Callable[[], Embeddings]) -> None:
        self._factory = factory
        self._inner: Embeddings | None = None
        self._lock = threading.Lock()  # requests served at once must not load the model twice

    @property
    def inner(self) -> Embeddings:
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = self._factory()
        return self._inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class LibraryUnavailable(RuntimeError):
    """The Chroma server cannot be reached; the message names the URL and what to do, in one line."""


def chroma_client(path: Path, url: str | None) -> Any:
    """An embedded Chroma under `path`, or an `HttpClient` for the Chroma server at `url` (many workers, one index)."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if not url:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LibraryUnavailable(f"not a Chroma server URL: {url}; use e.g. http://127.0.0.1:8000")
    try:
        client = chromadb.HttpClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=settings,
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises several kinds for a server that is down or not Chroma
        raise LibraryUnavailable(
            f"cannot reach the Chroma server at {url} ({type(exc).__name__}); start it with "
            "`chroma run --path DIR --port PORT`, or unset ATTUNE_CHROMA_URL to use the local index"
        ) from None
    return client


def open_collection(client: Any, name: str) -> Any:
    """The named collection of passages (cosine distance), made on first use."""
    return client.get_or_create_collection(name=name, metadata={"hnsw:space": "cosine"})


def pages(collection: Any, include: list[str], page: int) -> Iterator[Any]:
    """A collection's records in pages: one `get` of a large collection exceeds SQLite's limit on query
    variables."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        yield got
        offset += len(got["ids"])
        if len(got["ids"]) < page:
            return


WRITES_MARKER = "attune-writes"  # rewritten by every write to a local index; other processes watch it


class _LocalStore:
    """One embedded Chroma per folder in this process, reopened when another process has written to it.

    Chroma's embedded client keeps its vector index in memory and never sees other processes' writes: after
    `attune forget` or `attune ingest` in a terminal, a running UI kept returning deleted passages (with empty
    text) and missing new ones. Every write rewrites a marker file beside the index; a reader that finds the
    marker changed reopens the client before it reads.
    """

    _open: dict[Path, _LocalStore] = {}
    _open_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.marker = path / WRITES_MARKER
        self.lock = threading.RLock()
        self._connect()

    @classmethod
    def at(cls, path: Path) -> _LocalStore:
        key = path.resolve()
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(key)
            return cls._open[key]

    def _token(self) -> str:
        try:
            return self.marker.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return ""

    def _connect(self) -> None:
        self.client = chroma_client(self.path, None)
        self.token = self._token()
        self.collections: dict[str, Any] = {}

    def collection(self, name: str) -> Any:
        with self.lock:
            if self._token() != self.token:
                self._reopen()
            if name not in self.collections:
                self.collections[name] = open_collection(self.client, name)
            return self.collections[name]

    def _reopen(self) -> None:
        self._close()
        self._connect()

    def _close(self) -> None:
        from chromadb.api.shared_system_client import SharedSystemClient

        identifier = self.client._identifier
        self.client.close()
        stale = SharedSystemClient._identifier_to_system.pop(identifier, None)  # another client held it open
        if stale is not None:
            stale.stop()
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)

    def wrote(self) -> None:
        with self.lock:
            token = uuid.uuid4().hex
            partial = self.marker.with_suffix(".tmp")
            partial.write_text(token, encoding="utf-8")
            partial.replace(self.marker)  # atomic: a reader sees the old token or the new one
            self.token = token


class Library:
    def __init__(
        self, path: Path, embeddings: Embeddings, collection: str = "library", *, url: str | None = None
    ) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        self.path = path
        # Bumped on every write through this object, so caches over the contents know when to rebuild.
        self.generation = 0
        self.embeddings = embeddings
        self._name = collection
        self._local = _LocalStore.at(path) if not url else None
        if url:
            self._client = chroma_client(path, url)
            self._remote = open_collection(self._client, collection)

    @property
    def _collection(self) -> Any:
        return self._local.collection(self._name) if self._local else self._remote

    def _wrote(self) -> None:
        self.generation += 1
        if self._local:
            self._local.wrote()

    def version(self) -> tuple[object, ...]:
        """Changes whenever the contents may have: a write here or in another process (a server: the count)."""
        if self._local:
            self._local.collection(self._name)  # reopens first if another process wrote
            return (self.generation, self._local.token)
        return (self.generation, self.count())

    def count(self) -> int:
        return self._collection.count()

    def ids_for_source(self, source: str) -> set[str]:
        return set(self._collection.get(where={"source": source}, include=[])["ids"])

    def sources(self) -> dict[str, str]:
        """Every indexed source with its title."""
        return {
            str(m["source"]): str(m.get("title", ""))
            for got in self._pages(["metadatas"], 5000)
            for m in got["metadatas"] or []
            if m
        }

    def replace_source(
        self, source: str, title: str, chunks: Sequence[Chunk], digest: str = ""
    ) -> tuple[int, int]:
        """Make the source's chunks exactly `chunks`; return (added, removed). Unchanged chunks stay.

        `digest` identifies the document's content, so the same document under another path is recognised.
        """
        got = self._collection.get(where={"source": source}, include=["metadatas"])
        existing = set(got["ids"])
        tagged = all((m or {}).get("digest") == digest for m in got["metadatas"] or [])
        new = [c for c in chunks if c.id not in existing]
        stale = existing - {c.id for c in chunks}
        if new:
            self.add(source, title, new, self.embeddings.embed_documents([c.text for c in new]), digest)
        if stale:
            self._collection.delete(ids=sorted(stale))
            self._wrote()
        kept = sorted(existing - stale)
        if kept and digest and not tagged:  # unchanged chunks of a file indexed before digests, or since changed
            section = {c.id: c.section for c in chunks}
            self._collection.update(
                ids=kept,
                metadatas=[{"source": source, "title": title, "section": section[i], "digest": digest} for i in kept],
            )
            self._wrote()
        return len(new), len(stale)

    def source_with_digest(self, digest: str) -> str | None:
        """The source already indexed with this content digest, if any."""
        got = self._collection.get(where={"digest": digest}, limit=1, include=["metadatas"])
        metas = got["metadatas"] or []
        return str(metas[0]["source"]) if metas and metas[0] else None

    def add(
        self,
        source: str,
        title: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | np.ndarray,
        digest: str = "",
    ) -> None:
        """Store chunks with vectors already computed (by the embedder, or synthetic ones for a benchmark)."""
        collection = self._collection
        step = self._local.client.get_max_batch_size() if self._local else self._client.get_max_batch_size()
        for start in range(0, len(chunks), step):
            part = chunks[start : start + step]
            collection.upsert(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                embeddings=np.asarray(vectors[start : start + step], dtype=np.float32),
                metadatas=[
                    {"source": source, "title": title, "section": c.section, "digest": digest} for c in part
                ],
            )
        self._wrote()

    def delete_source(self, source: str) -> int:
        ids = self.ids_for_source(source)
        if ids:
            self._collection.delete(ids=sorted(ids))
            self._wrote()
        return len(ids)

    def _pages(self, include: list[str], page: int) -> Iterator[Any]:
        return pages(self._collection, include, page)

    def all_chunks(self, page: int = 5000) -> list[StoredChunk]:
        return [
            _stored(i, d, m)
            for got in self._pages(["documents", "metadatas"], page)
            for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
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

    def chunks_with_vectors(self, ids: Sequence[str]) -> dict[str, tuple[StoredChunk, list[float]]]:
        """The passages with these ids and their vectors, in one read (ids no longer stored are left out)."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=True)
        return {i: (_stored(i, d, m), list(v)) for i, d, m, v in rows}

    def content_token(self) -> str | None:
        """Names this exact content of a local index (it changes with every write, here or in another
        process), so what is derived from the contents can be saved beside it; None for a server's index."""
        if not self._local:
            return None
        self._local.collection(self._name)  # reopens first if another process wrote
        return f"{self._name}-{self._local.token}" if self._local.token else None

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


def compact_index(path: Path, collection: str = "library") -> int:
    """Rewrite the embedded index at `path` from the passages it still holds; return their number.

    Chroma keeps deleted passages' text in its write queue and full-text tables, so after `forget` the words were
    still on disk. The fresh index is built beside the old one, in a process of its own (`python -m
    knowledge.library PATH`), and swapped in by renaming: closing and deleting an index inside a process that had
    used it was seen to let a stale file handle write into the new index's files.
    """
    import shutil
    import subprocess
    import sys

    fresh = path.with_name(path.name + ".compact")
    shutil.rmtree(fresh, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-m", "knowledge.library", str(path), str(fresh), collection],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(fresh, ignore_errors=True)
        raise RuntimeError(f"could not compact the index at {path}: {done.stderr.strip().splitlines()[-1:]}")
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    path.rename(old)
    fresh.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    (path / WRITES_MARKER).write_text(uuid.uuid4().hex, encoding="utf-8")  # running processes reopen it
    return int(done.stdout.strip() or 0)


def _copy_index(source: Path, target: Path, collection: str) -> int:
    old = open_collection(chroma_client(source, None), collection)
    new = chroma_client(target, None)
    fresh = open_collection(new, collection)
    for page in pages(old, ["documents", "metadatas", "embeddings"], 2000):
        if page["ids"]:
            fresh.upsert(
                ids=page["ids"],
                documents=page["documents"],
                metadatas=page["metadatas"],
                embeddings=np.asarray(page["embeddings"], dtype=np.float32),
            )
    count = int(fresh.count())
    new.close()
    return count


if __name__ == "__main__":
    import sys

    print(_copy_index(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
