"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank, gated by relevance.

Every returned passage carries its cosine similarity to the query, so the caller can tell a grounded
answer from general advice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from knowledge.library import Library, StoredChunk
from knowledge.types import Passage

_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    without get got also""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-cased content words with a light plural/-ing stem, for BM25."""
    out = []
    for word in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        word = word.split("'")[0]
        if word in _STOPWORDS or len(word) < 2:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[str]:
    """Fuse ranked id lists (Cormack et al., 2009): score(d) = sum 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda cid: (-scores[cid], cid))


class HybridRetriever:
    def __init__(self, library: Library, top_k: int = 4, fetch_k: int = 20, min_relevance: float = 0.30) -> None:
        self.library = library
        self.top_k = top_k
        self.fetch_k = fetch_k
        self.min_relevance = min_relevance
        self._bm25_version: tuple[int, int] | None = None
        self._bm25: object | None = None
        self._chunks: list[StoredChunk] = []
        self._terms: list[set[str]] = []

    def _bm25_index(self) -> tuple[object | None, list[StoredChunk]]:
        # Rebuilt when this process wrote to the library or the count changed (another process ingested).
        version = (self.library.generation, self.library.count())
        if version != self._bm25_version:
            from rank_bm25 import BM25Plus

            self._chunks = self.library.all_chunks()
            corpus = [tokenize(f"{c.section} {c.text}") for c in self._chunks]
            self._terms = [set(doc) for doc in corpus]
            # BM25+ keeps every IDF positive; Okapi's turns negative for a word in most passages, which
            # inverts the ranking of a small library (one or two documents).
            self._bm25 = BM25Plus(corpus) if corpus else None
            self._bm25_version = version
        return self._bm25, self._chunks

    def keyword_ranking(self, query: str) -> list[StoredChunk]:
        bm25, chunks = self._bm25_index()
        terms = tokenize(query)
        if bm25 is None or not terms:
            return []
        scores = bm25.get_scores(terms)  # type: ignore[attr-defined]
        wanted = set(terms)
        matching = [i for i in np.argsort(-scores, kind="stable") if self._terms[i] & wanted]
        return [chunks[i] for i in matching[: self.fetch_k]]

    def retrieve(self, query: str) -> list[Passage]:
        """Up to top_k passages, best first, each at least `min_relevance` similar to the query."""
        query_vector = np.asarray(self.library.embeddings.embed_query(query), dtype=np.float32)
        dense = self.library.nearest(query_vector.tolist(), self.fetch_k)
        keyword = self.keyword_ranking(query)
        by_id = {c.id: c for c, _ in dense} | {c.id: c for c in keyword}
        similarity = {c.id: s for c, s in dense}
        missing = [cid for cid in by_id if cid not in similarity]
        for cid, vec in self.library.vectors(missing).items():
            similarity[cid] = float(np.dot(query_vector, np.asarray(vec, dtype=np.float32)))
        fused = reciprocal_rank_fusion([[c.id for c, _ in dense], [c.id for c in keyword]])
        passages = []
        for cid in fused:
            if similarity.get(cid, -1.0) < self.min_relevance:
                continue
            c = by_id[cid]
            passages.append(Passage(cid, c.title, c.section, c.text, c.source, round(similarity[cid], 4)))
            if len(passages) == self.top_k:
                break
        return passages
