"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank, gated by relevance.

Every returned passage carries its cosine similarity to the query, so the caller can tell a grounded
answer from general advice.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
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


def build_keyword_index(chunks: Sequence[StoredChunk]) -> tuple[Any, list[str]]:
    """A BM25+ index over the passages (None when no passage has a content word) and their ids, in order."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG
    corpus = [tokenize(f"{c.section} {c.text}") for c in chunks]
    if not any(corpus):
        return None, []
    # BM25+ keeps every IDF positive; Okapi's turns negative for a word in most passages, which inverts the
    # ranking of a small library (one or two documents). bm25s scores from a sparse matrix, so a query over
    # 100,000 passages costs milliseconds, not a Python loop over each one.
    index = bm25s.BM25(method="bm25+")
    index.index(corpus, show_progress=False)
    return index, [c.id for c in chunks]


def save_keyword_index(folder: Path, token: str, index: Any, ids: list[str]) -> None:
    """Write the index under a name carrying the library's content token; older ones are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
    try:
        index.save(str(partial))
        (partial / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
        try:
            partial.rename(folder / token)  # atomic; another process may have saved the same one first
        except OSError:
            pass
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    collection = token.rsplit("-", 1)[0] + "-"  # another collection's index in the same folder is its own
    for old in folder.iterdir():
        if old.name != token and old.name.startswith(collection):
            shutil.rmtree(old, ignore_errors=True)


def load_keyword_index(folder: Path, token: str) -> tuple[Any, list[str]] | None:
    """The index saved for exactly this content of the library, or None."""
    saved = folder / token
    if not (saved / "ids.json").is_file():
        return None
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        index = bm25s.BM25.load(str(saved), mmap=True)
        ids = json.loads((saved / "ids.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None  # damaged or from another bm25s version: rebuilt and saved again
    return index, ids


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
        self._ids: list[str] = []
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

    def _bm25_index(self) -> tuple[Any, list[str]]:
        # Rebuilt when this process or another one wrote to the library; saved beside a local index, so the
        # next process loads it instead of re-reading and re-indexing every passage (19 s at 100k passages).
        version = self.library.version()
        with self._build_lock:  # several requests at once must not read a half-built index
            if version != self._bm25_version:
                token = self.library.content_token()
                folder = self.library.path / "keywords" if token else None
                loaded = load_keyword_index(folder, token) if folder and token else None
                if loaded is None:
                    loaded = build_keyword_index(self.library.all_chunks())
                    if folder and token and loaded[0] is not None:
                        save_keyword_index(folder, token, *loaded)
                (self._bm25, self._ids), self._bm25_version = loaded, version
            return self._bm25, self._ids

    def keyword_ids(self, query: str) -> list[str]:
        """Ids of the passages sharing at least one content word with the query, best BM25+ score first."""
        bm25, ids = self._bm25_index()
        if bm25 is None:
            return []
        term_ids = bm25.get_tokens_ids(tokenize(query))
        if not term_ids:
            return []
        scores = bm25.get_scores_from_ids(term_ids)
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        matches = np.zeros(len(ids), dtype=bool)
        for t in set(term_ids):
            matches[indices[indptr[t] : indptr[t + 1]]] = True
        ranked = np.where(matches, scores, -np.inf)
        k = min(self.fetch_k, int(matches.sum()))
        top: list[int] = np.argpartition(-ranked, k - 1)[:k].tolist() if k else []
        best = sorted(top, key=lambda i: (-ranked[i], i))  # ties in passage order, as before
        return [ids[i] for i in best]

    def keyword_ranking(self, query: str) -> list[StoredChunk]:
        """The passages of `keyword_ids`, in that order."""
        ranked = self.keyword_ids(query)
        found = self.library.chunks_with_vectors(ranked)
        return [found[i][0] for i in ranked if i in found]

    def retrieve(self, query: str) -> list[Passage]:
        """Up to top_k passages, best first, each at least `min_relevance` similar to the query."""
        query_vector = self.query_vector(query)
        dense = self.library.nearest(query_vector.tolist(), self.fetch_k)
        keyword = self.keyword_ids(query)
        by_id = {c.id: c for c, _ in dense}
        similarity = {c.id: s for c, s in dense}
        # The keyword-only passages' text and vectors come in one read; the index keeps only their ids.
        for cid, (chunk, vec) in self.library.chunks_with_vectors([i for i in keyword if i not in by_id]).items():
            by_id[cid] = chunk
            similarity[cid] = float(np.dot(query_vector, np.asarray(vec, dtype=np.float32)))
        keyword = [i for i in keyword if i in by_id]  # a passage deleted meanwhile by another process
        fused = reciprocal_rank_fusion([[c.id for c, _ in dense], keyword])
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
