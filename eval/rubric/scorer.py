"""The fast scorer: the learned empathy model plus the non-blame rules, no LLM involved.

Takes an `embed` function (texts -> unit vectors) from its caller, so this package needs nothing of ours.
"""

from __future__ import annotations

from typing import Protocol

from eval.rubric.empathy import Embed, EmpathyModel
from eval.rubric.nonblame import score_non_blame
from eval.rubric.spec import Rubric, load_rubric
from eval.rubric.types import RubricScore


class Scorer(Protocol):
    name: str

    def score(self, context: str, response: str) -> RubricScore: ...


class FastScorer:
    """Empathy from a linear model trained on EPITOME; non-blame from the rubric's patterns."""

    name = "fast"

    def __init__(self, embed: Embed, rubric: Rubric | None = None, model: EmpathyModel | None = None) -> None:
        self.rubric = rubric or load_rubric()
        self.model = model or EmpathyModel.load(embed)

    def score(self, context: str, response: str) -> RubricScore:
        return self.score_many([(context, response)])[0]

    def score_many(self, pairs: list[tuple[str, str]]) -> list[RubricScore]:
        """Score (context, response) pairs in one batch: the embedder runs once for all of them."""
        empathy = self.model.predict(pairs)
        return [
            RubricScore(
                empathy=e,
                non_blame=score_non_blame(response, self.rubric.non_blame),
                rubric_version=self.rubric.version,
                scorer=self.name,
            )
            for e, (_, response) in zip(empathy, pairs, strict=True)
        ]
