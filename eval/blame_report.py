"""Measure the non-blame classifier against human labels: labelled conflict turns, UCC comments, therapists' answers.

`attune eval validate --blame/--ucc/--counselchat` prints these; the figures go in the README's rubric table.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

from eval.rubric.train import LabelledTurn
from eval.rubric.types import NonBlameScore

ScoreMany = Callable[[list[str]], list[NonBlameScore]]
# UCC: the attributes that count as blame, against comments the annotators were confident are healthy.
UCC_BLAME = ("hostile", "antagonize", "condescending", "dismissive")
UCC_OTHER = ("sarcastic", "generalisation_unfair")
UCC_HEALTHY_CONFIDENCE = 0.9


@dataclass
class HorsemanRecall:
    turns: int
    flagged: int
    named: int  # flagged with this horseman among the ones named

    @property
    def recall(self) -> float:
        return self.named / self.turns if self.turns else float("nan")


@dataclass
class TurnsReport:
    turns: int
    blaming: int
    flagged: int  # blaming turns flagged at all
    named_right: int  # ... with a labelled horseman named
    clean: int
    false_flags: int
    roc_auc: float
    macro_f1: float
    per_horseman: dict[str, HorsemanRecall]
    median_ms: float
    misses: list[tuple[LabelledTurn, NonBlameScore]] = field(default_factory=list)
    false_positives: list[tuple[LabelledTurn, NonBlameScore]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.named_right / self.blaming if self.blaming else float("nan")

    @property
    def false_flag_rate(self) -> float:
        return self.false_flags / self.clean if self.clean else float("nan")

    def to_json(self) -> dict[str, object]:
        return {
            "turns": self.turns,
            "blaming": self.blaming,
            "flagged": self.flagged,
            "flagged_with_right_horseman": self.named_right,
            "recall": round(self.recall, 3),
            "clean": self.clean,
            "false_flags": self.false_flags,
            "false_flag_rate": round(self.false_flag_rate, 3),
            "roc_auc": round(self.roc_auc, 3),
            "macro_f1": round(self.macro_f1, 3),
            "median_ms_per_reply": round(self.median_ms, 1),
            "per_horseman": {k: {**vars(v), "recall": round(v.recall, 3)} for k, v in self.per_horseman.items()},
        }


def evaluate_turns(turns: Sequence[LabelledTurn], score_many: ScoreMany, timed: int = 60) -> TurnsReport:
    """Recall with the right horseman named, false flags, ROC AUC of P(blame), macro-F1 over
    {none, each horseman} (the first horseman named against the first labelled), and the median time per reply
    scored one at a time."""
    # Timed first: once the batch below has run, the scorer's embedding memory would answer these for free.
    times = []
    for t in list(turns)[:timed]:
        started = time.perf_counter()
        score_many([t.text])
        times.append((time.perf_counter() - started) * 1000)
    scores = score_many([t.text for t in turns])
    kinds = sorted({k for t in turns for k in t.kinds})
    per = {k: HorsemanRecall(0, 0, 0) for k in kinds}
    truth, predicted = [], []
    report = TurnsReport(len(turns), 0, 0, 0, 0, 0, float("nan"), float("nan"), per, float("nan"))
    for t, s in zip(turns, scores, strict=True):
        named = set(s.horsemen)
        truth.append(t.kinds[0] if t.kinds else "none")
        predicted.append(s.flags[0].kind if s.flags else "none")
        if not t.blame:
            report.clean += 1
            if s.flagged:
                report.false_flags += 1
                report.false_positives.append((t, s))
            continue
        report.blaming += 1
        report.flagged += s.flagged
        right = bool(named & set(t.kinds))
        report.named_right += right
        if not right:
            report.misses.append((t, s))
        for k in t.kinds:
            per[k].turns += 1
            per[k].flagged += s.flagged
            per[k].named += k in named
    labels = [t.blame for t in turns]
    if len(set(labels)) == 2:
        report.roc_auc = float(roc_auc_score(labels, [s.probability for s in scores]))
    report.macro_f1 = float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth))))
    report.median_ms = statistics.median(times) if times else float("nan")
    return report


@dataclass
class UccReport:
    positives: int
    negatives: int
    roc_auc: float
    flagged_positives: float
    flagged_negatives: float
    per_attribute_auc: dict[str, float]

    def to_json(self) -> dict[str, object]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()} | {
            "per_attribute_auc": {k: round(v, 3) for k, v in self.per_attribute_auc.items()}
        }


def read_ucc(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate_ucc(rows: Sequence[dict], score_many: ScoreMany, batch: int = 256) -> UccReport:
    """Hostile, antagonistic, condescending or dismissive comments against confidently healthy ones (none of
    the six attributes, healthy confidence at least 0.9); ROC AUC of P(blame)."""
    positives = [r for r in rows if any(r.get(k) for k in UCC_BLAME)]
    negatives = [
        r
        for r in rows
        if r.get("healthy") == 1
        and float(r.get("healthy_confidence", 0)) >= UCC_HEALTHY_CONFIDENCE
        and not any(r.get(k) for k in UCC_BLAME + UCC_OTHER)
    ]
    if not positives or not negatives:
        raise ValueError("the UCC file needs comments of both kinds (blaming and confidently healthy)")
    texts = [r["comment"] for r in positives + negatives]
    scores = [s for i in range(0, len(texts), batch) for s in score_many(texts[i : i + batch])]
    p = np.array([s.probability for s in scores])
    flagged = np.array([s.flagged for s in scores])
    n = len(positives)
    labels = [1] * n + [0] * len(negatives)
    per = {}
    for k in UCC_BLAME:
        idx = [i for i, r in enumerate(positives) if r.get(k)]
        if idx:
            per[k] = float(roc_auc_score([1] * len(idx) + [0] * len(negatives), np.concatenate([p[idx], p[n:]])))
    return UccReport(n, len(negatives), float(roc_auc_score(labels, p)), float(flagged[:n].mean()),
                     float(flagged[n:].mean()), per)


@dataclass
class CounselChatReport:
    answers: int
    flagged: int
    skipped_training_half: int
    examples: list[tuple[str, NonBlameScore]] = field(default_factory=list)

    @property
    def flag_rate(self) -> float:
        return self.flagged / self.answers if self.answers else float("nan")

    def to_json(self) -> dict[str, object]:
        return {
            "answers": self.answers,
            "flagged": self.flagged,
            "flag_rate": round(self.flag_rate, 4),
            "skipped_training_half": self.skipped_training_half,
        }


def evaluate_counselchat(
    path: Path, score_many: ScoreMany, trained_on: Sequence[str] = (), batch: int = 64
) -> CounselChatReport:
    """Therapists' answers flagged as blame; answers to the questions whose sentences trained the classifier
    (`trained_on`, the model's `advice_question_ids`) are left out."""
    seen = set(trained_on)
    answers, skipped = [], 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                texts = [a["text"] for a in q.get("answers", [])]
                if str(q.get("question_id")) in seen:
                    skipped += len(texts)
                else:
                    answers += texts
    scores = [s for i in range(0, len(answers), batch) for s in score_many(answers[i : i + batch])]
    flagged = [(a, s) for a, s in zip(answers, scores, strict=True) if s.flagged]
    return CounselChatReport(len(answers), len(flagged), skipped, flagged[:10])
