"""The fast scorer: the learned empathy model and the learned non-blame classifier, no LLM involved.

Takes an `embed` function (texts -> unit vectors) from its caller, so this package needs nothing of ours.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import numpy as np

from eval.rubric.blame import BlameModel, mask_quotes
from eval.rubric.empathy import Embed, EmpathyModel
from eval.rubric.spec import Rubric, load_rubric
from eval.rubric.substance import credit_substance
from eval.rubric.types import EmpathyScore, NonBlameScore, RubricScore

MEMO_SIZE = 512


class Scorer(Protocol):
    name: str

    def score(self, context: str, response: str) -> RubricScore: ...


class MemoEmbed:
    """The embedder with a small memory: the empathy model and the blame classifier read the same reply, and
    practice scores the same partner line again and again, so each text is embedded once. `size=None` keeps
    everything (training, where every fold reads the same rows)."""

    def __init__(self, embed: Embed, size: int | None = MEMO_SIZE) -> None:
        self.embed = embed
        self.size = size
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            for t, v in zip(missing, np.asarray(self.embed(missing), dtype=np.float64), strict=True):
                self._memo[t] = v
        out = np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 0))
        for t in texts:
            self._memo.move_to_end(t)
        while self.size is not None and len(self._memo) > self.size:
            self._memo.popitem(last=False)
        return out


class FastScorer:
    """Empathy from a linear model trained on EPITOME, checked for substance; non-blame from a classifier
    trained on labelled conflict turns, with the rubric's patterns as its evidence."""

    name = "fast"

    def __init__(
        self,
        embed: Embed,
        rubric: Rubric | None = None,
        model: EmpathyModel | None = None,
        blame: BlameModel | None = None,
    ) -> None:
        self.rubric = rubric or load_rubric()
        self.embed = MemoEmbed(embed)
        self.model = model or EmpathyModel.load(self.embed)
        self.blame = blame or BlameModel.load(self.embed, self.rubric.non_blame)

    def score(self, context: str, response: str) -> RubricScore:
        return self.score_many([(context, response)])[0]

    def score_many(self, pairs: list[tuple[str, str]]) -> list[RubricScore]:
        """Score (context, response) pairs in one batch: the embedder runs once for all of them."""
        non_blame = self.blame.score_many([r for _, r in pairs])
        # Sympathy inside a script for someone else ("you could say: ...") is not the writer's own empathy.
        empathy = self.model.predict([(c, mask_quotes(r)) for c, r in pairs])
        return [
            RubricScore(empathy=e, non_blame=nb, rubric_version=self.rubric.version, scorer=self.name)
            for e, nb in zip(self.credit_substance(pairs, empathy, non_blame), non_blame, strict=True)
        ]

    def credit_substance(
        self,
        pairs: list[tuple[str, str]],
        empathy: list[EmpathyScore],
        non_blame: list[NonBlameScore] | None = None,
    ) -> list[EmpathyScore]:
        """Learned empathy levels kept only where the words do what they claim (eval.rubric.substance)."""
        if non_blame is None:
            non_blame = self.blame.score_many([r for _, r in pairs])
        substance = self.rubric.empathy.substance
        return [
            credit_substance(e, response, nb, substance)
            for e, nb, (_, response) in zip(empathy, non_blame, pairs, strict=True)
        ]
