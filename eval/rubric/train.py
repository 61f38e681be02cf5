"""Fit the empathy model on EPITOME-style rows and measure it by cross-validation.

Development only: the data stays outside the repository; `attune eval validate` and
`attune eval train` call these with the path to it.
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
from eval.rubric.types import MECHANISMS

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
    memo: dict[str, np.ndarray] = {}

    def run(texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            for t, v in zip(missing, np.asarray(embed(missing)), strict=True):
                memo[t] = v
        return np.stack([memo[t] for t in texts])

    return run


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
) -> dict[str, MechanismReport]:
    """Out-of-fold predictions for every row; the baseline predicts each mechanism's majority level."""
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
        scores = model.predict([(rows[i].context, rows[i].response) for i in test_idx])
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
