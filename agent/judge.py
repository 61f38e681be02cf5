"""The rubric applied by the configured chat model (LLM-as-judge), with a JSON schema for its verdict.

Optional: the fast scorer in eval.rubric is the default, because it agrees better with human labels
on this machine's model (see eval/README.md for the measured figures).
"""

from __future__ import annotations

import json
import logging
from typing import Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from eval.rubric import (
    MECHANISMS,
    EmpathyScore,
    Evidence,
    Flag,
    MechanismScore,
    NonBlameScore,
    Rubric,
    RubricScore,
    load_rubric,
)
from eval.rubric.nonblame import blame_score

log = logging.getLogger(__name__)

HorsemanKind = Literal["criticism", "contempt", "defensiveness", "stonewalling", "labels"]


class JudgedFlag(BaseModel):
    kind: HorsemanKind
    span: str = Field(description="the exact words of the reply that show it")


class JudgedMechanism(BaseModel):
    level: int = Field(ge=0, le=2)
    span: str = Field(default="", description="the exact words of the reply that show it, or empty")


class Verdict(BaseModel):
    emotional_reactions: JudgedMechanism
    interpretations: JudgedMechanism
    explorations: JudgedMechanism
    blame: list[JudgedFlag] = Field(default_factory=list, max_length=5)


class JudgeFailed(RuntimeError):
    """The model's verdict was not valid JSON for the schema."""


def judge_system_prompt(rubric: Rubric) -> str:
    lines = [
        "You grade one reply to a message with a rubric. Reply with JSON only.",
        "Empathy, three mechanisms, each 0 (none), 1 (weak) or 2 (strong):",
    ]
    for name, spec in rubric.empathy.mechanisms.items():
        lines.append(f"- {name}: {spec.question} Weak: {spec.weak} Strong: {spec.strong}")
    lines.append("Blame: list each place the reply uses one of these, quoting its exact words:")
    for kind, horseman in rubric.non_blame.horsemen.items():
        lines.append(f"- {kind}: {horseman.reason}")
    lines.append("An empty list means no blame.")
    return "\n".join(lines)


class JudgeScorer:
    """Scores a reply by asking the chat model for a schema-constrained verdict."""

    name = "judge"

    def __init__(self, model: BaseChatModel, rubric: Rubric | None = None) -> None:
        self.model = model
        self.rubric = rubric or load_rubric()
        self._system = judge_system_prompt(self.rubric)
        self._format = {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": Verdict.model_json_schema()},
        }

    def verdict(self, context: str, response: str) -> Verdict:
        messages = [
            SystemMessage(self._system),
            HumanMessage(f"Message:\n{context}\n\nReply to grade:\n{response}"),
        ]
        raw = self.model.invoke(messages, response_format=self._format, temperature=0.0, max_tokens=400).text
        try:
            return Verdict.model_validate(json.loads(raw))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise JudgeFailed(f"the judge's verdict is not valid: {str(exc).splitlines()[0]}") from None

    def score(self, context: str, response: str) -> RubricScore:
        v = self.verdict(context, response)
        mechanisms = {}
        for m in MECHANISMS:
            judged: JudgedMechanism = getattr(v, m)
            evidence = _locate(response, judged.span, f"the judge's evidence for {m.replace('_', ' ')}")
            mechanisms[m] = MechanismScore(level=judged.level, evidence=evidence)
        flags = []
        for f in v.blame:
            found = _locate(response, f.span, self.rubric.non_blame.horsemen[f.kind].reason)
            if found:  # a quote that is not in the reply is a hallucinated flag
                flags.append(Flag(f.kind, found[0].span, found[0].reason, found[0].start, found[0].end))
        return RubricScore(
            empathy=EmpathyScore(**mechanisms),
            non_blame=NonBlameScore(score=blame_score(flags, self.rubric.non_blame), flags=tuple(flags)),
            rubric_version=self.rubric.version,
            scorer=self.name,
        )


def _locate(text: str, span: str, reason: str) -> tuple[Evidence, ...]:
    span = span.strip()
    start = text.lower().find(span.lower()) if span else -1
    if start < 0:
        return ()
    return (Evidence(text[start : start + len(span)], start, start + len(span), reason),)
