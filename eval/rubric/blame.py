"""The learned non-blame classifier: does a turn blame, and with which horseman, from its sentence embedding, its
words and the rules' hits; the rules' quoted spans (or the worst sentence) are the evidence shown to the user.

Two logistic regressions stored as plain arrays; trained by `attune eval train --blame` (eval.rubric.train).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack

from eval.rubric.empathy import Embed
from eval.rubric.hashing import HashingCounts, Tfidf
from eval.rubric.nonblame import blame_score, find_rule_hits, find_strengths, inside, quoted_ranges, sentences
from eval.rubric.spec import NonBlameSpec
from eval.rubric.types import Flag, NonBlameScore

MODEL_FILE = "blame_model.npz"
# Rule hits enter as 0/1 features scaled down, so the classifier leans on them without being ruled by them.
RULE_SCALE = 0.5
# Word uni- and bigrams (sarcasm lives in "Sure,", "Great,", "Wow,") weighted against the embedding's dimensions.
WORD_WEIGHT = 3.0
WORD_FEATURES = 2**16
# The horseman head adds its own kind to the rules' only when it is this sure.
NAME_CONFIDENCE = 0.5


def word_vectorizer() -> HashingCounts:
    return HashingCounts(ngram_range=(1, 2), n_features=WORD_FEATURES, token_pattern=r"(?u)\b\w+\b|[?!]")


def rule_feature_names(spec: NonBlameSpec) -> list[str]:
    return [f"cue:{name}" for _, name, _ in spec.pattern_sets] + [f"antidote:{a}" for a in spec.antidotes]


def rule_features(text: str, spec: NonBlameSpec) -> list[float]:
    hits = find_rule_hits(text, spec)
    strengths = find_strengths(text, spec, [(h.start, h.end) for h in hits])
    cues = {h.cue for h in hits}
    antidotes = {s.kind for s in strengths}
    return [RULE_SCALE * (name in cues) for _, name, _ in spec.pattern_sets] + [
        RULE_SCALE * (a in antidotes) for a in spec.antidotes
    ]


def mask_quotes(text: str) -> str:
    """Quoted words and scripts ("you could say: ...") are someone else's: the classifier does not read them."""
    out = text
    for a, b in sorted(quoted_ranges(text), reverse=True):
        out = out[:a] + " ... " + out[b:]
    return out


@dataclass
class BlameModel:
    """P(blame) from a binary head; which horseman from a second head trained on blaming turns only."""

    embed: Embed
    spec: NonBlameSpec
    kinds: tuple[str, ...]  # the horseman head's classes
    idf: np.ndarray  # (WORD_FEATURES,) inverse document frequencies of the training texts
    blame_coef: np.ndarray  # (features,)
    blame_intercept: float
    kind_coef: np.ndarray  # (kinds, features)
    kind_intercept: np.ndarray  # (kinds,)
    threshold: float
    meta: dict[str, object]

    def __post_init__(self) -> None:
        self._words = word_vectorizer()
        self._tfidf = Tfidf(self.idf)

    # -- persistence: plain arrays in an .npz (no pickle), metadata as JSON inside it
    @classmethod
    def load(cls, embed: Embed, spec: NonBlameSpec, path: Path | None = None) -> BlameModel:
        if path is None:
            with as_file(files("eval.rubric").joinpath(MODEL_FILE)) as shipped:
                return cls.load(embed, spec, shipped)
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays["meta"]))
        if meta.get("rule_features") != rule_feature_names(spec):
            raise ValueError(
                f"{path} was trained with other rubric cues than rubric.yaml has now; retrain it with "
                "`attune eval train --blame`"
            )
        # stored as float16 to keep the file small; widened once here, not on every prediction
        return cls(
            embed,
            spec,
            tuple(meta["kinds"]),
            arrays["idf"].astype(np.float64),
            arrays["blame_coef"].astype(np.float64),
            float(arrays["blame_intercept"]),
            arrays["kind_coef"].astype(np.float64),
            arrays["kind_intercept"].astype(np.float64),
            float(meta["threshold"]),
            meta,
        )

    def save(self, path: Path) -> None:
        meta = {
            **self.meta,
            "kinds": list(self.kinds),
            "threshold": self.threshold,
            "rule_features": rule_feature_names(self.spec),
        }
        np.savez_compressed(  # type: ignore[arg-type]  # numpy's stub types **kwds oddly
            path,
            idf=self.idf.astype(np.float32),
            blame_coef=self.blame_coef.astype(np.float16),
            blame_intercept=np.array(self.blame_intercept, dtype=np.float32),
            kind_coef=self.kind_coef.astype(np.float16),
            kind_intercept=self.kind_intercept.astype(np.float32),
            meta=np.array(json.dumps(meta)),
        )

    # -- features
    def dense_features(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence embeddings and rule hits: everything but the words (which need the training IDF)."""
        vectors = np.asarray(self.embed(list(texts)), dtype=np.float64).reshape(len(texts), -1)
        rules = np.array([rule_features(t, self.spec) for t in texts], dtype=np.float64).reshape(len(texts), -1)
        return np.hstack([vectors, rules])

    def word_counts(self, texts: Sequence[str]) -> csr_matrix:
        return self._words.transform(list(texts))

    def features(self, texts: Sequence[str]) -> csr_matrix:
        words = self._tfidf.transform(self.word_counts(texts)) * WORD_WEIGHT
        return hstack([csr_matrix(self.dense_features(texts)), words]).tocsr()

    # -- prediction
    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """P(blame) of each whole turn (quotes masked), and each turn's horseman probabilities."""
        if not texts:
            return np.zeros(0), np.zeros((0, len(self.kinds)))
        x = self.features([mask_quotes(t).strip() or t for t in texts])
        blame = 1.0 / (1.0 + np.exp(-(np.asarray(x @ self.blame_coef).ravel() + self.blame_intercept)))
        z = np.asarray(x @ self.kind_coef.T) + self.kind_intercept
        kind_p = np.exp(z - z.max(axis=1, keepdims=True))
        return blame, kind_p / kind_p.sum(axis=1, keepdims=True)

    def turn_probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`probabilities`, and where a rule points at one sentence of a longer turn the classifier also reads
        that sentence alone: "You are so selfish." is not averaged away by the I-statements around it."""
        blame, kind_p = self.probabilities(texts)
        suspects = [(i, s) for i, t in enumerate(texts) for s in self._hit_sentences(t)]
        if suspects:
            p, k = self.probabilities([s for _, s in suspects])
            for (i, _), p_sentence, k_sentence in zip(suspects, p, k, strict=True):
                if p_sentence > blame[i]:
                    blame[i], kind_p[i] = p_sentence, k_sentence
        return blame, kind_p

    def _hit_sentences(self, text: str) -> list[str]:
        own = list(sentences(text))
        if len(own) < 2:
            return []
        hits = find_rule_hits(text, self.spec)  # never inside a quote
        return [mask_quotes(s).strip() for o, s in own if any(o <= h.start < o + len(s) for h in hits)]

    def score_many(self, texts: Sequence[str]) -> list[NonBlameScore]:
        blame, kind_p = self.turn_probabilities(texts)
        return [self._score(t, float(p), k) for t, p, k in zip(texts, blame, kind_p, strict=True)]

    def score(self, text: str) -> NonBlameScore:
        return self.score_many([text])[0]

    def _score(self, text: str, p: float, kind_p: np.ndarray) -> NonBlameScore:
        flags: list[Flag] = []
        cues = find_rule_hits(text, self.spec)
        if p >= self.threshold:
            flags = list(cues)
            top = int(np.argmax(kind_p))
            # The rules quote the words; the horseman head knows the kind when no rule has its name for it.
            if not flags or (kind_p[top] >= NAME_CONFIDENCE and self.kinds[top] not in {f.kind for f in flags}):
                flags.append(self._model_flag(text, kind_p))
        # A strength inside a blamed sentence earns nothing ("Can you put your phone away? It's rude.").
        blamed = [
            (offset, offset + len(s))
            for offset, s in sentences(text)
            if any(offset <= f.start < offset + len(s) or f.start <= offset < f.end for f in flags)
        ]
        return NonBlameScore(
            score=blame_score(flags, self.spec) if flags else 1.0,
            flags=tuple(flags),
            # A start-up is gentle only if nothing in the turn attacks.
            strengths=tuple(
                s for s in find_strengths(text, self.spec, blamed) if not (flags and s.kind == "gentle_startup")
            ),
            probability=round(p, 4),
            cues=tuple(cues),
        )

    def _model_flag(self, text: str, kind_p: np.ndarray) -> Flag:
        """No rule fired: name the classifier's horseman and quote the sentence it finds most blaming."""
        kind = self.kinds[int(np.argmax(kind_p))]
        quoted = quoted_ranges(text)
        own = [(o, s) for o, s in sentences(text) if s.strip() and not inside(o, o + len(s.rstrip()), quoted)]
        offset, sentence = (0, text)
        if len(own) > 1:
            blame, _ = self.probabilities([s for _, s in own])
            offset, sentence = own[int(np.argmax(blame))]
        elif own:
            offset, sentence = own[0]
        span = sentence.strip()
        start = offset + sentence.find(span)
        return Flag(kind, span, self.spec.horsemen[kind].reason, start, start + len(span), cue="classifier")
