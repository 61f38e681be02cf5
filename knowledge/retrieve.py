"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank, gated by relevance.

Every returned passage carries its cosine similarity to the query, so the caller can tell a grounded
answer from general advice.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

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
        self._bm25_version: tuple[object, ...] | None = None
        self._bm25: Any = None
        self._chunks: list[StoredChunk] = []
        self._last_query: tuple[str, np.ndarray] | None = None
        self._build_lock = threading.Lock()

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last one is kept, since focusing passages needs it again."""
        last = self._last_query  # read once: another thread may replace it meanwhile
        if last is not None and last[0] == query:
            return last[1]
        vector = np.asarray(self.library.embeddings.embed_query(query), dtype=np.float32)
        self._last_query = (query, vector)
        return vector

    def _bm25_index(self) -> tuple[Any, list[StoredChunk]]:
        # Rebuilt when this process or another one wrote to the library.
        version = self.library.version()
        with self._build_lock:  # several requests at once must not read a half-built index
            if version != self._bm25_version:
                import bm25s

                logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG
                chunks = self.library.all_chunks()
                corpus = [tokenize(f"{c.section} {c.text}") for c in chunks]
                # BM25+ keeps every IDF positive; Okapi's turns negative for a word in most passages, which
                # inverts the ranking of a small library (one or two documents). bm25s scores from a sparse
                # matrix, so a query over 100,000 passages costs milliseconds, not a Python loop over each one.
                index = None
                if any(corpus):
                    index = bm25s.BM25(method="bm25+")
                    index.index(corpus, show_progress=False)
                self._bm25, self._chunks, self._bm25_version = index, chunks, version
            return self._bm25, self._chunks

    def keyword_ranking(self, query: str) -> list[StoredChunk]:
        """Passages sharing at least one content word with the query, best BM25+ score first."""
        bm25, chunks = self._bm25_index()
        if bm25 is None:
            return []
        term_ids = bm25.get_tokens_ids(tokenize(query))
        if not term_ids:
            return []
        scores = bm25.get_scores_from_ids(term_ids)
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        matches = np.zeros(len(chunks), dtype=bool)
        for t in set(term_ids):
            matches[indices[indptr[t] : indptr[t + 1]]] = True
        ranked = np.where(matches, scores, -np.inf)
        k = min(self.fetch_k, int(matches.sum()))
        top: list[int] = np.argpartition(-ranked, k - 1)[:k].tolist() if k else []
        best = sorted(top, key=lambda i: (-ranked[i], i))  # ties in passage order, as before
        return [chunks[i] for i in best]

    def retrieve(self, query: str) -> list[Passage]:
        """Up to top_k passages, best first, each at least `min_relevance` similar to the query."""
        query_vector = self.query_vector(query)
        dense = self.library.nearest(query_vector.tolist(), self.fetch_k)
        keyword = self.keyword_ranking(query)
        by_id = {c.id: c for c, _ in dense} | {c.id: c for c in keyword}
        similarity = {c.id: s for c, s in dense}
        missing = [cid for cid in by_id if cid not in similarity]
        for cid, vec in self.library.vectors(missing).items():
            similarity[cid] = float(np.dot(query_vector, np.asarray(vec, dtype=np.float32)))
        fused = reciprocal_rank_fusion([[c.id for c, _ in dense], [c.id for c in keyword]])
        passages = []
        seen_texts: set[str] = set()
        for cid in fused:
            if similarity.get(cid, -1.0) < self.min_relevance:
                continue
            c = by_id[cid]
            if not c.text.strip() or c.text in seen_texts:  # the same document ingested twice is cited once
                continue
            seen_texts.add(c.text)
            passages.append(Passage(cid, c.title, c.section, c.text, c.source, round(similarity[cid], 4)))
            if len(passages) == self.top_k:
                break
        return passages

    def focus(self, query: str, passages: Sequence[Passage], max_chars: int) -> list[Passage]:
        """Each passage cut to its sentences most similar to the query, at most `max_chars` long, in their
        original order. Every character in the prompt costs prompt-evaluation time on a CPU; the model needs
        the sentences that answer the question, not the whole passage."""
        if max_chars <= 0:
            return list(passages)
        long = [(i, split_sentences(p.text)) for i, p in enumerate(passages) if len(p.text) > max_chars]
        if not long:
            return list(passages)
        every = [sentence for _, sentences in long for sentence in sentences]
        vectors = np.asarray(self.library.embeddings.embed_documents(every), dtype=np.float32)
        similarity = iter((vectors @ self.query_vector(query)).tolist())
        focused = list(passages)
        for i, sentences in long:
            sims = [next(similarity) for _ in sentences]
            focused[i] = replace(focused[i], text=pick_sentences(sentences, sims, max_chars))
        return focused


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def pick_sentences(sentences: Sequence[str], similarity: Sequence[float], max_chars: int) -> str:
    """The most similar sentences that fit in `max_chars`, in reading order, gaps marked with an ellipsis."""
    chosen: set[int] = set()
    used = 0
    for i in sorted(range(len(sentences)), key=lambda i: -similarity[i]):
        if used + len(sentences[i]) + 1 <= max_chars:
            chosen.add(i)
            used += len(sentences[i]) + 1
    if not chosen:  # even the best sentence is too long: keep its opening words
        best = max(range(len(sentences)), key=lambda i: similarity[i])
        return sentences[best][:max_chars].rsplit(" ", 1)[0] + " …"
    parts: list[str] = []
    for i in sorted(chosen):
        if parts and i - 1 not in chosen:
            parts.append("…")
        parts.append(sentences[i])
    return " ".join(parts)
