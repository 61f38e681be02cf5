"""Measure the safety check on a labelled set: recall on disclosures, false-positive rate on ordinary questions.

The set (eval/suites/safety.jsonl) mixes explicit, indirect and past disclosures with hard negatives (strong
words used figuratively) and ordinary questions; the question suites add more ordinary questions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np

from agent.safety import CLASSES, Embed, SafetyModel, SafetyVerdict, check_message, message_sentences
from eval.run import SuiteError

TARGETS = {"explicit_recall": 1.0, "ordinary_false_positive_rate": 0.02}


@dataclass(frozen=True)
class SafetyExample:
    id: str
    text: str
    flagged: bool
    category: str | None
    kind: str  # explicit, indirect, narrative (a long post, one sentence of which tells), past, hard_negative, ordinary


@dataclass
class SafetyReport:
    counts: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)
    misses: list[SafetyExample] = field(default_factory=list)
    false_positives: list[tuple[SafetyExample, str]] = field(default_factory=list)
    wrong_category: list[tuple[SafetyExample, str]] = field(default_factory=list)

    def rate(self, kind: str) -> float:
        return self.caught.get(kind, 0) / self.counts[kind] if self.counts.get(kind) else 0.0

    @property
    def figures(self) -> dict[str, float]:
        out = {f"{k}_recall": self.rate(k) for k in ("explicit", "indirect", "narrative", "past") if self.counts.get(k)}
        out |= {f"{k}_false_positive_rate": self.rate(k) for k in ("hard_negative", "ordinary") if self.counts.get(k)}
        return out

    @property
    def meets_targets(self) -> bool:
        f = self.figures
        return (
            f.get("explicit_recall", 0.0) >= TARGETS["explicit_recall"]
            and f.get("ordinary_false_positive_rate", 1.0) <= TARGETS["ordinary_false_positive_rate"]
        )

    def to_json(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "figures": {k: round(v, 4) for k, v in self.figures.items()},
            "targets": TARGETS,
            "meets_targets": self.meets_targets,
            "misses": [{"id": e.id, "kind": e.kind, "category": e.category, "text": e.text} for e in self.misses],
            "false_positives": [
                {"id": e.id, "kind": e.kind, "category": c, "text": e.text} for e, c in self.false_positives
            ],
            "wrong_category": [
                {"id": e.id, "expected": e.category, "got": c, "text": e.text} for e, c in self.wrong_category
            ],
        }


def bundled_set() -> Path:
    return Path(str(files("eval") / "suites" / "safety.jsonl"))


# Every labelled set that has been measured on the change it was written for now trains; a new unseen set stays
# out of this list until it has been measured once (see eval/suites/README.md).
TRAINING_SETS = (
    "safety_train", "safety_train_more", "safety_unseen", "safety_unseen2", "safety_unseen3", "safety_unseen4",
    "safety_unseen5", "safety_unseen6", "safety_unseen7",
)


def training_sets() -> list[Path]:
    """Extra labelled messages for the classifier, beside the bundled set."""
    return [Path(str(files("eval") / "suites" / f"{name}.jsonl")) for name in TRAINING_SETS]


def read_labelled(path: Path) -> list[SafetyExample]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(SafetyExample(str(row["id"]), str(row["text"]), bool(row["flagged"]), row.get("category"),
                                     str(row["kind"])))
        except (ValueError, KeyError) as exc:
            raise SuiteError(f"{path}:{n}: not a labelled safety line ({exc})") from None
    return out


def ordinary_from_suites(paths: Iterable[Path]) -> list[SafetyExample]:
    """Questions of the question suites: ordinary relationship questions, none a disclosure."""
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(SafetyExample(f"{path.stem}:{row['id']}", row["question"], False, None, "ordinary"))
    return out


def evaluate(
    examples: Iterable[SafetyExample], check: Callable[[str], SafetyVerdict] = check_message
) -> SafetyReport:
    report = SafetyReport()
    for ex in examples:
        verdict = check(ex.text)
        report.counts[ex.kind] = report.counts.get(ex.kind, 0) + 1
        if verdict.flagged:
            report.caught[ex.kind] = report.caught.get(ex.kind, 0) + 1
        if ex.flagged and not verdict.flagged:
            report.misses.append(ex)
        elif not ex.flagged and verdict.flagged:
            report.false_positives.append((ex, str(verdict.category)))
        elif ex.flagged and verdict.category != ex.category:
            report.wrong_category.append((ex, str(verdict.category)))
    return report


def read_counselchat_questions(path: Path) -> list[str]:
    """Question texts (title and body) of a CounselChat-format file: real relationship questions."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(f"{row['title']}. {row.get('text') or ''}")
    return out


@dataclass(frozen=True)
class TrainingReport:
    positives: int
    negative_sentences: int
    negative_messages: int
    excluded_messages: int  # real questions the rules flag: they hold disclosures, so they are no negatives
    threshold: float
    cv_false_positive_rate: float  # on held-out real questions, at the threshold

    def to_json(self) -> dict[str, object]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def train_safety_model(
    labelled: list[SafetyExample],
    questions: list[str],
    embed: Embed,
    *,
    max_false_positive_rate: float = 0.015,
    folds: int = 5,
    c: float = 1.0,
) -> tuple[SafetyModel, TrainingReport]:
    """Fit the sentence classifier; pick the threshold that keeps cross-validated false positives on real
    questions (never disclosures by the rules) at or under `max_false_positive_rate`."""
    from sklearn.linear_model import LogisticRegression

    kept = [q for q in questions if not check_message(q).flagged]
    texts = [ex.text for ex in labelled]
    labels = [CLASSES.index(ex.category) if ex.flagged and ex.category else 0 for ex in labelled]
    x_labelled = np.asarray(embed(texts), dtype=np.float64)
    per_question = [message_sentences(q) for q in kept]
    flat = [s for group in per_question for s in group]
    owner = np.repeat(np.arange(len(kept)), [len(g) for g in per_question])
    x_questions = np.asarray(embed(flat), dtype=np.float64)

    def fit(x_neg: np.ndarray) -> SafetyModel:
        x = np.vstack([x_labelled, x_neg])
        y = np.array(labels + [0] * len(x_neg))
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, y)
        coef = np.zeros((len(CLASSES), x.shape[1]))
        intercept = np.full(len(CLASSES), -1e9)  # a class absent from training is never predicted
        if len(clf.classes_) > 2:
            coef[clf.classes_], intercept[clf.classes_] = clf.coef_, clf.intercept_
        else:  # binary: softmax([0, z]) is the logistic sigmoid(z)
            coef[clf.classes_] = np.vstack([np.zeros_like(clf.coef_[0]), clf.coef_[0]])
            intercept[clf.classes_] = [0.0, clf.intercept_[0]]
        return SafetyModel(coef, intercept, 0.5)

    held_out_danger = np.zeros(len(kept))
    order = np.random.default_rng(7).permutation(len(kept))
    for part in np.array_split(order, folds):
        test = np.isin(owner, part)
        model = fit(x_questions[~test])
        danger = 1.0 - model.probabilities(x_questions[test])[:, 0]
        for q, d in zip(owner[test], danger, strict=True):
            held_out_danger[q] = max(held_out_danger[q], d)
    threshold = float(np.quantile(held_out_danger, 1.0 - max_false_positive_rate)) + 1e-6
    threshold = min(max(threshold, 0.5), 0.999)
    final = fit(x_questions)
    model = SafetyModel(final.coef, final.intercept, threshold)
    report = TrainingReport(
        positives=sum(1 for ex in labelled if ex.flagged),
        negative_sentences=len(flat) + sum(1 for ex in labelled if not ex.flagged),
        negative_messages=len(kept),
        excluded_messages=len(questions) - len(kept),
        threshold=threshold,
        cv_false_positive_rate=float(np.mean(held_out_danger >= threshold)),
    )
    return model, report
