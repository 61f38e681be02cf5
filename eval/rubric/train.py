"""Fit the empathy model on EPITOME-style rows and the non-blame classifier on labelled conflict turns.

Development only: EPITOME and CounselChat stay outside the repository (the labelled conflict turns ship in
eval/suites); `attune eval validate` and `attune eval train` call these with the paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold

from eval.rubric.blame import BlameModel, mask_quotes
from eval.rubric.empathy import (
    CHAR_FEATURES,
    WORD_FEATURES,
    Embed,
    EmpathyModel,
    LinearLayer,
    _char_vectorizer,
    _word_vectorizer,
    split_sentences,
)
from eval.rubric.scorer import MemoEmbed
from eval.rubric.spec import NonBlameSpec
from eval.rubric.types import MECHANISMS, EmpathyScore

DOC_C = 2.0
SENTENCE_C = 4.0


@dataclass(frozen=True)
class LabelledReply:
    context: str
    response: str
    levels: dict[str, int]
    rationales: dict[str, list[str]]


def read_epitome(path: Path) -> list[LabelledReply]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            rows.append(
                LabelledReply(
                    context=r["seeker_post"],
                    response=r["response"],
                    levels={m: int(r[m]) for m in MECHANISMS},
                    rationales={
                        m: [s.strip() for s in r.get(f"{m}_rationale", "").split("|") if s.strip()] for m in MECHANISMS
                    },
                )
            )
    return rows


def cached(embed: Embed) -> Embed:
    """Each text embedded once across folds."""
    return MemoEmbed(embed, size=None)


def _sentence_labels(row: LabelledReply, mechanism: str) -> list[int]:
    rationale = row.rationales[mechanism]
    return [
        int(any(x in row.response[a:b] or row.response[a:b].strip() in x for x in rationale))
        for a, b in split_sentences(row.response)
    ]


class _Fitter:
    """Shared hashed features for one data set, so folds only refit IDF weights and classifiers."""

    def __init__(self, rows: Sequence[LabelledReply], embed: Embed) -> None:
        self.rows = list(rows)
        self.embed = embed
        responses = [r.response for r in self.rows]
        self.words = _word_vectorizer().transform(responses)
        self.chars = _char_vectorizer().transform(responses)
        spans = [split_sentences(r) for r in responses]
        self.sentence_owner = np.repeat(np.arange(len(responses)), [len(s) for s in spans])
        self.sentence_words = _word_vectorizer().transform(
            [r[a:b] for r, ss in zip(responses, spans, strict=True) for a, b in ss]
        )
        self.sentence_labels = {m: np.array([x for r in self.rows for x in _sentence_labels(r, m)]) for m in MECHANISMS}

    def fit(self, idx: np.ndarray, meta: dict[str, object] | None = None) -> EmpathyModel:
        from sklearn.feature_extraction.text import TfidfTransformer

        tf_word = TfidfTransformer(sublinear_tf=True).fit(self.words[idx])
        tf_char = TfidfTransformer(sublinear_tf=True).fit(self.chars[idx])
        smask = np.isin(self.sentence_owner, idx)
        tf_sentence = TfidfTransformer(sublinear_tf=True).fit(self.sentence_words[smask])
        sentence_layers = {
            m: _fit_sentences(tf_sentence.transform(self.sentence_words[smask]), self.sentence_labels[m][smask])
            for m in MECHANISMS
        }
        model = EmpathyModel(self.embed, tf_word.idf_, tf_char.idf_, tf_sentence.idf_, sentence_layers, {}, meta or {})
        # The document layer learns from pooled sentence probabilities; on its own training rows those would be
        # overconfident, so they come from sentence models fitted on the other two thirds (stacking).
        pooled = self._out_of_fold_pooled(idx)
        pairs = [(self.rows[i].context, self.rows[i].response) for i in idx]
        base = model.base_features(pairs)
        for m in MECHANISMS:
            y = np.array([self.rows[i].levels[m] for i in idx])
            clf = LogisticRegression(C=DOC_C, class_weight="balanced", max_iter=4000)
            clf.fit(hstack([base, csr_matrix(pooled[m])]).tocsr(), y)
            model.layers[m] = LinearLayer(clf.coef_, clf.intercept_)
        return model

    def _out_of_fold_pooled(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        from sklearn.feature_extraction.text import TfidfTransformer

        out = {m: np.zeros((len(idx), 3)) for m in MECHANISMS}
        strata = np.array([self.rows[i].levels["interpretations"] for i in idx])
        for a, b in StratifiedKFold(3, shuffle=True, random_state=1).split(idx, strata):
            inner_mask = np.isin(self.sentence_owner, idx[a])
            tf = TfidfTransformer(sublinear_tf=True).fit(self.sentence_words[inner_mask])
            apply_mask = np.isin(self.sentence_owner, idx[b])
            xs = tf.transform(self.sentence_words[apply_mask])
            owners = self.sentence_owner[apply_mask]
            position = {doc: k for k, doc in enumerate(idx[b])}
            for m in MECHANISMS:
                layer = _fit_sentences(
                    tf.transform(self.sentence_words[inner_mask]), self.sentence_labels[m][inner_mask]
                )
                p = layer.proba(xs)[:, 1]
                for doc in idx[b]:
                    out[m][b[position[doc]]] = EmpathyModel.pooled(p[owners == doc])
        return out


def _fit_sentences(x: csr_matrix, labels: np.ndarray) -> LinearLayer:
    """Is this sentence a rationale for the mechanism? With no rationale at all, never."""
    if labels.min() == labels.max():
        return LinearLayer(np.zeros((1, x.shape[1])), np.array([10.0 if labels[0] else -10.0]))
    clf = LogisticRegression(C=SENTENCE_C, class_weight="balanced", max_iter=3000).fit(x, labels)
    return LinearLayer(clf.coef_, clf.intercept_)


def train_empathy_model(rows: Sequence[LabelledReply], embed: Embed, meta: dict[str, object]) -> EmpathyModel:
    fitter = _Fitter(rows, cached(embed))
    meta = {
        "word_features": WORD_FEATURES,
        "char_features": CHAR_FEATURES,
        "doc_C": DOC_C,
        "sentence_C": SENTENCE_C,
        "rows": len(rows),
        **meta,
    }
    return fitter.fit(np.arange(len(rows)), meta)


@dataclass
class MechanismReport:
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    confusion: list[list[int]] = field(default_factory=list)


def cross_validate(
    rows: Sequence[LabelledReply],
    embed: Embed,
    folds: int = 5,
    seed: int = 0,
    on_fold: Callable[[int], None] | None = None,
    adjust: Callable[[list[tuple[str, str]], list[EmpathyScore]], list[EmpathyScore]] | None = None,
) -> dict[str, MechanismReport]:
    """Out-of-fold predictions for every row; the baseline predicts each mechanism's majority level. `adjust`
    post-processes each fold's predictions as the fast scorer does (the substance checks), so the figures
    describe what users get."""
    fitter = _Fitter(rows, cached(embed))
    strata = np.array(
        [r.levels["interpretations"] * 9 + r.levels["explorations"] * 3 + r.levels["emotional_reactions"] for r in rows]
    )
    # merge strata too small to split
    counts = np.bincount(strata)
    strata = np.where(counts[strata] < folds, -1, strata)
    predicted = {m: np.zeros(len(rows), dtype=int) for m in MECHANISMS}
    for k, (train_idx, test_idx) in enumerate(
        StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, strata)
    ):
        model = fitter.fit(train_idx)
        pairs = [(rows[i].context, rows[i].response) for i in test_idx]
        scores = model.predict(pairs)
        if adjust:
            scores = adjust(pairs, scores)
        for m in MECHANISMS:
            predicted[m][test_idx] = [s.levels()[m] for s in scores]
        if on_fold:
            on_fold(k)
    report = {}
    for m in MECHANISMS:
        y = np.array([r.levels[m] for r in rows])
        majority = np.full_like(y, np.bincount(y).argmax())
        report[m] = MechanismReport(
            accuracy=round(float(accuracy_score(y, predicted[m])), 3),
            macro_f1=round(float(f1_score(y, predicted[m], average="macro")), 3),
            baseline_accuracy=round(float(accuracy_score(y, majority)), 3),
            baseline_macro_f1=round(float(f1_score(y, majority, average="macro")), 3),
            confusion=confusion_matrix(y, predicted[m], labels=[0, 1, 2]).tolist(),
        )
    return report


# -- the non-blame classifier --------------------------------------------------------------------------------

KIND_C = 8.0  # the horseman head, balanced across horsemen: contempt outnumbers the rest and was named for them
BLAME_C = 0.5  # chosen by out-of-fold recall on the training turns (0.25: 81.9%, 0.5: 84.2%, 1: 80.0%, 2: 77.3%)
EXTRA_WEIGHT = 0.05  # each advice sentence counts a tenth of a labelled turn: it teaches the register, no more
MAX_EXTRA = 600
FALSE_FLAG_TARGET = 0.04  # the threshold flags at most this share of clean turns out of fold


@dataclass(frozen=True)
class LabelledTurn:
    """One conflict turn with its horsemen (empty: no blame); `context` is the message it answers."""

    id: str
    context: str
    text: str
    kinds: tuple[str, ...]
    relationship: str = ""

    @property
    def blame(self) -> bool:
        return bool(self.kinds)


def read_turns(path: Path) -> list[LabelledTurn]:
    """JSON Lines {"id", "context", "text", "kinds": [...]} (eval/suites/blame_*.jsonl)."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                rows.append(
                    LabelledTurn(
                        str(r.get("id", n)), str(r.get("context", "")), str(r["text"]), tuple(r.get("kinds", ())),
                        str(r.get("relationship", "")),
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a labelled turn ({exc})") from None
    return rows


def in_training_half(question_id: object) -> bool:
    """CounselChat questions split in two by a stable hash: one half teaches the advice register, the other
    half measures false flags."""
    import zlib

    return zlib.crc32(str(question_id).encode()) % 2 == 0


def counselchat_advice_sentences(
    path: Path, limit: int = MAX_EXTRA, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Sentences (four words or more) of therapists' answers to the training half of the questions, and the ids
    of those questions (kept in the model, so measuring leaves them out)."""
    from eval.rubric.nonblame import sentences

    found: list[str] = []
    ids: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                if in_training_half(q.get("question_id")):
                    ids.append(str(q.get("question_id")))
                    for a in q.get("answers", []):
                        found += [s.strip() for _, s in sentences(a["text"]) if len(s.split()) >= 4]
    found = sorted(set(found))
    rng = np.random.default_rng(seed)
    picked = [found[i] for i in sorted(rng.choice(len(found), size=min(limit, len(found)), replace=False))]
    return picked, ids


def _fit_heads(
    model: BlameModel, texts: Sequence[str], dense: np.ndarray, counts: csr_matrix, y: np.ndarray,
    weights: np.ndarray, idx: np.ndarray,
) -> BlameModel:
    """A copy of `model` fitted on rows `idx`: IDF, the binary blame head, and the horseman head on blaming rows."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from eval.rubric.blame import WORD_WEIGHT

    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts[idx])
    x = hstack([csr_matrix(dense), tfidf.transform(counts) * WORD_WEIGHT]).tocsr()
    blame = LogisticRegression(C=BLAME_C, class_weight="balanced", max_iter=4000)
    blame.fit(x[idx], (y[idx] > 0).astype(int), sample_weight=weights[idx])
    blaming = idx[y[idx] > 0]
    kinds = LogisticRegression(C=KIND_C, class_weight="balanced", max_iter=4000).fit(x[blaming], y[blaming])
    kind_coef = np.zeros((len(model.kinds), x.shape[1]))
    kind_intercept = np.full(len(model.kinds), -30.0)  # a horseman absent from these rows is never named
    rows = kinds.classes_ - 1
    if len(rows) == 2:  # sklearn keeps one row for two classes
        kind_coef[rows[1]], kind_intercept[rows[1]] = kinds.coef_[0], kinds.intercept_[0]
        kind_intercept[rows[0]] = 0.0
    else:
        kind_coef[rows], kind_intercept[rows] = kinds.coef_, kinds.intercept_
    return BlameModel(
        model.embed, model.spec, model.kinds, np.asarray(tfidf.idf_), blame.coef_[0], float(blame.intercept_[0]),
        kind_coef, kind_intercept, model.threshold, dict(model.meta),
    )


def train_blame_model(
    turns: Sequence[LabelledTurn],
    advice: Sequence[str],
    embed: Embed,
    spec: NonBlameSpec,
    meta: dict[str, object] | None = None,
    folds: int = 5,
) -> tuple[BlameModel, dict[str, float]]:
    """Fit on all turns (plus advice sentences as clean examples, lightly weighted); the flag threshold comes
    from out-of-fold probabilities, set so that at most FALSE_FLAG_TARGET of clean turns are flagged."""
    kinds = tuple(spec.horsemen)
    embed = cached(embed)
    texts = [mask_quotes(t.text) for t in turns] + list(advice)
    y = np.array([kinds.index(t.kinds[0]) + 1 if t.kinds else 0 for t in turns] + [0] * len(advice))
    weights = np.array([1.0] * len(turns) + [EXTRA_WEIGHT] * len(advice))
    empty = BlameModel(
        embed, spec, kinds, np.ones(1), np.zeros(1), 0.0, np.zeros((len(kinds), 1)), np.zeros(len(kinds)), 0.5, {}
    )
    dense, counts = empty.dense_features(texts), empty.word_counts(texts)
    out_of_fold = np.zeros(len(turns))
    strata = np.where(np.arange(len(texts)) < len(turns), y, -1)
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(dense, strata):
        fold = _fit_heads(empty, texts, dense, counts, y, weights, train_idx)
        held = [i for i in test_idx if i < len(turns)]
        out_of_fold[held] = fold.turn_probabilities([turns[i].text for i in held])[0]
    clean = np.array([not t.blame for t in turns])
    threshold = float(np.quantile(out_of_fold[clean], 1 - FALSE_FLAG_TARGET))
    figures = {
        "cv_recall": round(float((out_of_fold[~clean] >= threshold).mean()), 3),
        "cv_false_flags": round(float((out_of_fold[clean] >= threshold).mean()), 3),
        "threshold": round(threshold, 4),
    }
    model = _fit_heads(empty, texts, dense, counts, y, weights, np.arange(len(texts)))
    model.threshold = threshold
    model.meta = {
        "turns": len(turns), "advice_sentences": len(advice), "C": BLAME_C, "advice_weight": EXTRA_WEIGHT,
        **figures, **(meta or {}),
    }
    return model, figures
