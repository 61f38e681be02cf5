"""The rubric's typed results: empathy levels and non-blame flags, each with the evidence behind it.

Scores cross into the agent, the practice coach and reports, so they are dataclasses with a JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MECHANISMS: tuple[str, ...] = ("emotional_reactions", "interpretations", "explorations")
Level = Literal[0, 1, 2]
LEVEL_MAX = 2
EMPATHY_MAX = LEVEL_MAX * len(MECHANISMS)  # the empathy total's top: "4/6" everywhere comes from here


@dataclass(frozen=True)
class Evidence:
    """A span of the scored text and why it counts; `start`/`end` index into that text."""

    span: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class MechanismScore:
    level: int  # 0 none, 1 weak, 2 strong
    evidence: tuple[Evidence, ...] = ()
    confidence: float = 1.0  # the scorer's probability for this level


@dataclass(frozen=True)
class EmpathyScore:
    emotional_reactions: MechanismScore
    interpretations: MechanismScore
    explorations: MechanismScore

    def levels(self) -> dict[str, int]:
        return {m: getattr(self, m).level for m in MECHANISMS}

    @property
    def total(self) -> int:
        """0..6: the sum of the three levels."""
        return sum(self.levels().values())


@dataclass(frozen=True)
class Flag:
    """One horseman (or a strength, for antidotes) found in the text, quoting the words that triggered it."""

    kind: str
    span: str
    reason: str
    start: int = 0
    end: int = 0
    cue: str = ""  # which rule found it (sarcasm, non_apology ...); "classifier" for the model, "" for the judge


@dataclass(frozen=True)
class NonBlameScore:
    score: float  # 1.0 = no blame at all
    flags: tuple[Flag, ...] = ()
    strengths: tuple[Flag, ...] = ()  # antidotes: gentle start-up, I-statements, needs, responsibility
    probability: float = 0.0  # the classifier's probability that the turn blames (rules alone: 0 or 1)
    # Every rule hit, flagged or not: the classifier may clear a turn a rule suspects, but text Attune offers
    # as an example (a rewrite) must not carry any.
    cues: tuple[Flag, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def horsemen(self) -> list[str]:
        return sorted({f.kind for f in self.flags})


@dataclass(frozen=True)
class RubricScore:
    empathy: EmpathyScore
    non_blame: NonBlameScore
    rubric_version: int
    scorer: str = "fast"
    extra: dict[str, object] = field(default_factory=dict)

    def to_json(self, *, evidence: bool = True) -> dict[str, object]:
        """The issue-3 JSON shape; with `evidence`, each mechanism's quoted spans ride along."""
        out: dict[str, object] = {
            "empathy": self.empathy.levels(),
            "non_blame": {
                "score": round(self.non_blame.score, 3),
                "probability": round(self.non_blame.probability, 3),
                "flags": [{"kind": f.kind, "span": f.span, "reason": f.reason} for f in self.non_blame.flags],
            },
        }
        if evidence:
            out["empathy_evidence"] = {
                m: [{"span": e.span, "reason": e.reason} for e in getattr(self.empathy, m).evidence] for m in MECHANISMS
            }
            out["strengths"] = [{"kind": f.kind, "span": f.span, "reason": f.reason} for f in self.non_blame.strengths]
            out["rubric_version"] = self.rubric_version
            out["scorer"] = self.scorer
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RubricScore:
        """Back from `to_json` (with or without evidence): stored sessions and result files become typed again.

        Spans keep their text and reason; their offsets are not stored, so they read 0."""
        evidence = data.get("empathy_evidence") or {}
        nb = data["non_blame"]

        def flags(rows: list[dict[str, Any]] | None) -> tuple[Flag, ...]:
            return tuple(Flag(r["kind"], r.get("span", ""), r.get("reason", "")) for r in rows or [])

        empathy = EmpathyScore(
            **{
                m: MechanismScore(
                    int(data["empathy"][m]),
                    tuple(Evidence(e.get("span", ""), 0, 0, e.get("reason", "")) for e in evidence.get(m, [])),
                )
                for m in MECHANISMS
            }
        )
        non_blame = NonBlameScore(
            float(nb["score"]),
            flags(nb.get("flags")),
            flags(data.get("strengths")),
            float(nb.get("probability", 0.0)),
        )
        return cls(empathy, non_blame, int(data.get("rubric_version", 0)), str(data.get("scorer", "fast")))

    def rank(self) -> tuple[float, int, int, float]:
        """The one ordering of scores, wherever Attune picks the better text (a draft, a rewrite, a retry):
        less blame first, then more distinct antidotes, then more empathy, then the scorer's confidence."""
        return (
            self.non_blame.score,
            len({f.kind for f in self.non_blame.strengths}),
            self.empathy.total,
            sum(getattr(self.empathy, m).confidence for m in MECHANISMS),
        )

    def better_than(self, other: RubricScore) -> bool:
        return self.rank()[:3] > other.rank()[:3]
