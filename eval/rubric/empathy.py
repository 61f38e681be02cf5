"""The learned empathy scorer: linear classifiers for EPITOME's three mechanisms, 0/1/2 each.

Features: hashed word and character n-grams of the reply, sentence embeddings of reply and message, and
a per-sentence "is this evidence" model trained on the annotators' rationales, which also yields the spans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack

from eval.rubric.hashing import HashingCounts, Tfidf
from eval.rubric.text import sentence_matches
from eval.rubric.types import MECHANISMS, EmpathyScore, Evidence, MechanismScore

# texts -> array (n, dim) of unit-length sentence embeddings
Embed = Callable[[list[str]], np.ndarray]

MODEL_FILE = "empathy_model.npz"
CONTEXT_CACHE = 256  # messages whose embeddings are kept
WORD_FEATURES = 2**17
CHAR_FEATURES = 2**17
_LEVEL_WORD = {1: "weak", 2: "strong"}
_MECHANISM_WORDS = {
    "emotional_reactions": "expression of warmth or concern",
    "interpretations": "sign of understanding what they feel",
    "explorations": "invitation to say more",
}


def split_sentences(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in sentence_matches(text)]
    return spans or [(0, len(text))]


def hand_features(text: str) -> list[float]:
    lower = text.lower()
    cues = [
        text.count("?"),
        len(text.split()),
        "sorry" in lower,
        "i understand" in lower,
        "sounds like" in lower or "it seems" in lower,
        "i feel" in lower or "i felt" in lower,
        "same" in lower or "been there" in lower or "i had" in lower or "i was" in lower,
    ]
    return [float(np.log1p(float(c))) for c in cues]


def _word_vectorizer() -> HashingCounts:
    return HashingCounts(ngram_range=(1, 3), n_features=WORD_FEATURES, token_pattern=r"(?u)\b\w+\b|\?")


def _char_vectorizer() -> HashingCounts:
    return HashingCounts(analyzer="char_wb", ngram_range=(2, 5), n_features=CHAR_FEATURES)


@dataclass
class LinearLayer:
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)

    def proba(self, x: csr_matrix | np.ndarray) -> np.ndarray:
        z = np.asarray(x @ self.coef.T) + self.intercept
        if self.coef.shape[0] == 1:  # binary: sklearn keeps one row for the positive class
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1 - p, p])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


class EmpathyModel:
    """Predicts the three EPITOME levels of a reply to a message, with the sentences that show each."""

    def __init__(
        self,
        embed: Embed,
        idf_word: np.ndarray,
        idf_char: np.ndarray,
        idf_sentence: np.ndarray,
        sentence_layers: dict[str, LinearLayer],
        layers: dict[str, LinearLayer],
        meta: dict[str, object],
    ) -> None:
        self.embed = embed
        self._words, self._chars = _word_vectorizer(), _char_vectorizer()
        self._tf_word, self._tf_char, self._tf_sentence = Tfidf(idf_word), Tfidf(idf_char), Tfidf(idf_sentence)
        self.sentence_layers = sentence_layers
        self.layers = layers
        self.meta = meta
        self._context_vectors: dict[str, np.ndarray] = {}

    # -- persistence: plain arrays in an .npz (no pickle), metadata as JSON inside it
    @classmethod
    def load(cls, embed: Embed, path: Path | None = None) -> EmpathyModel:
        if path is None:
            with as_file(files("eval.rubric").joinpath(MODEL_FILE)) as shipped:
                return cls.load(embed, shipped)
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        # stored as float16 to keep the file small; widened once here, not on every prediction
        layers = {
            m: LinearLayer(arrays[f"coef_{m}"].astype(np.float32), arrays[f"intercept_{m}"]) for m in MECHANISMS
        }
        sentence_layers = {
            m: LinearLayer(arrays[f"scoef_{m}"].astype(np.float32), arrays[f"sintercept_{m}"]) for m in MECHANISMS
        }
        meta = json.loads(str(arrays["meta"]))
        return cls(embed, arrays["idf_word"], arrays["idf_char"], arrays["idf_sentence"], sentence_layers, layers, meta)

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "idf_word": self._tf_word.idf_.astype(np.float32),
            "idf_char": self._tf_char.idf_.astype(np.float32),
            "idf_sentence": self._tf_sentence.idf_.astype(np.float32),
            "meta": np.array(json.dumps(self.meta)),
        }
        for m in MECHANISMS:
            arrays[f"coef_{m}"] = self.layers[m].coef.astype(np.float16)
            arrays[f"intercept_{m}"] = self.layers[m].intercept.astype(np.float32)
            arrays[f"scoef_{m}"] = self.sentence_layers[m].coef.astype(np.float16)
            arrays[f"sintercept_{m}"] = self.sentence_layers[m].intercept.astype(np.float32)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds oddly

    # -- features
    def sentence_matrix(self, sentences: list[str]) -> csr_matrix:
        return self._tf_sentence.transform(self._words.transform(sentences))

    def sentence_probabilities(self, responses: Sequence[str]) -> tuple[list[list[tuple[int, int]]], dict]:
        """Each response's sentence spans, and per mechanism each sentence's probability of being evidence."""
        spans = [split_sentences(r) for r in responses]
        flat = [r[a:b] for r, ss in zip(responses, spans, strict=True) for a, b in ss]
        x = self.sentence_matrix(flat)
        bounds = np.cumsum([0] + [len(ss) for ss in spans])
        probs = {}
        for m in MECHANISMS:
            p = self.sentence_layers[m].proba(x)[:, 1]
            probs[m] = [p[bounds[i] : bounds[i + 1]] for i in range(len(responses))]
        return spans, probs

    @property
    def embedding_dims(self) -> int | None:
        if not self.layers:
            return None  # still training
        n = next(iter(self.layers.values())).coef.shape[1]
        return (n - WORD_FEATURES - CHAR_FEATURES - len(hand_features("")) - 3) // 2

    @staticmethod
    def pooled(p: np.ndarray) -> list[float]:
        # scaled so these few dense features are not drowned by thousands of sparse ones
        return [3 * float(p.max()), 3 * float(p.mean()), 3 * float((p > 0.5).sum())]

    def base_features(self, pairs: Sequence[tuple[str, str]]) -> csr_matrix:
        contexts = [c for c, _ in pairs]
        responses = [r for _, r in pairs]
        # Guided drafts, references and practice turns share their message: embed each message once.
        new_contexts = list(dict.fromkeys(c for c in contexts if c not in self._context_vectors))
        vectors = np.asarray(self.embed(responses + new_contexts), dtype=np.float64)
        expected = self.embedding_dims
        if expected is not None and vectors.shape[1] != expected:
            raise ValueError(
                f"the empathy model was trained on {expected}-dimension sentence embeddings (all-MiniLM-L6-v2); "
                f"the embedder given produces {vectors.shape[1]}"
            )
        # This batch's messages are looked up before the cache evicts anything (a batch may hold more of them).
        batch = {c: self._context_vectors[c] for c in contexts if c in self._context_vectors}
        for c, v in zip(new_contexts, vectors[len(pairs) :], strict=True):
            batch[c] = v
            if len(self._context_vectors) >= CONTEXT_CACHE:
                self._context_vectors.pop(next(iter(self._context_vectors)))
            self._context_vectors[c] = v
        e, p = vectors[: len(pairs)], np.stack([batch[c] for c in contexts])
        hand = np.array([hand_features(r) for r in responses])
        return hstack(
            [
                self._tf_word.transform(self._words.transform(responses)),
                self._tf_char.transform(self._chars.transform(responses)),
                csr_matrix(np.hstack([e, e * p, hand])),
            ]
        ).tocsr()

    @classmethod
    def pooled_features(cls, sentence_probs: dict, mechanism: str) -> csr_matrix:
        return csr_matrix(np.array([cls.pooled(p) for p in sentence_probs[mechanism]]))

    # -- prediction
    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[EmpathyScore]:
        if not pairs:
            return []
        responses = [r for _, r in pairs]
        spans, sprobs = self.sentence_probabilities(responses)
        base = self.base_features(pairs)
        per_mechanism: dict[str, list[MechanismScore]] = {}
        for m in MECHANISMS:
            x = hstack([base, self.pooled_features(sprobs, m)]).tocsr()
            proba = self.layers[m].proba(x)
            scores = []
            for i, row in enumerate(proba):
                level = int(row.argmax())
                evidence = self._evidence(responses[i], spans[i], sprobs[m][i], m, level)
                scores.append(MechanismScore(level=level, evidence=evidence, confidence=round(float(row[level]), 3)))
            per_mechanism[m] = scores
        return [EmpathyScore(**{m: per_mechanism[m][i] for m in MECHANISMS}) for i in range(len(pairs))]

    @staticmethod
    def _evidence(
        text: str, spans: list[tuple[int, int]], probs: np.ndarray, mechanism: str, level: int
    ) -> tuple[Evidence, ...]:
        if level == 0:
            return ()
        order = [i for i in np.argsort(-probs) if probs[i] >= 0.5][:2] or [int(np.argmax(probs))]
        reason = f"a {_LEVEL_WORD[level]} {_MECHANISM_WORDS[mechanism]}"
        out = []
        for i in sorted(order):
            a, b = spans[i]
            while a < b and text[a].isspace():
                a += 1
            out.append(Evidence(text[a:b].strip(), a, a + len(text[a:b].strip()), reason))
        return tuple(out)
