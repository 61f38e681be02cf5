"""The rubric as data: `rubric.yaml` loaded into typed, validated models with compiled patterns.

Editing the YAML changes the rubric; the code only interprets it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternSet(_Strict):
    reason: str
    patterns: list[str]
    weight: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"bad pattern {p!r}: {exc}") from None
        return patterns

    @property
    def compiled(self) -> list[re.Pattern[str]]:
        return _compile(tuple(self.patterns))


class MechanismSpec(_Strict):
    question: str
    weak: str
    strong: str


class CuriositySpec(PatternSet):
    not_curiosity: list[str]

    @field_validator("not_curiosity")
    @classmethod
    def _not_compiles(cls, patterns: list[str]) -> list[str]:
        return PatternSet._compiles(patterns)

    @property
    def compiled_not(self) -> list[re.Pattern[str]]:
        return _compile(tuple(self.not_curiosity))


class SubstanceSpec(_Strict):
    """What each empathy mechanism needs the words to do before its learned level counts."""

    curiosity: CuriositySpec  # explorations
    understanding: PatternSet  # interpretations
    warmth: PatternSet  # emotional reactions


class EmpathySpec(_Strict):
    source: str
    levels: dict[int, str]
    mechanisms: dict[str, MechanismSpec]
    substance: SubstanceSpec


class CueSpec(PatternSet):
    """A named kind of blame (sarcasm, non-apology, withdrawal ...) that belongs to one horseman."""

    horseman: str


class NonBlameSpec(_Strict):
    source: str
    horsemen: dict[str, PatternSet]
    cues: dict[str, CueSpec] = Field(default_factory=dict)
    exemptions: list[str]
    appreciation: list[str]
    antidotes: dict[str, PatternSet]

    @model_validator(mode="after")
    def _cues_name_a_horseman(self) -> NonBlameSpec:
        for name, cue in self.cues.items():
            if cue.horseman not in self.horsemen:
                raise ValueError(f"cue {name!r} names an unknown horseman {cue.horseman!r}")
        return self

    @property
    def pattern_sets(self) -> list[tuple[str, str, PatternSet]]:
        """(horseman, name, patterns) for the horsemen's own patterns and every cue, in a fixed order."""
        own = [(kind, kind, ps) for kind, ps in self.horsemen.items()]
        return own + [(cue.horseman, name, cue) for name, cue in self.cues.items()]

    @property
    def compiled_exemptions(self) -> list[re.Pattern[str]]:
        return _compile(tuple(self.exemptions))

    @property
    def compiled_appreciation(self) -> list[re.Pattern[str]]:
        return _compile(tuple(self.appreciation))


class Rubric(_Strict):
    version: int
    empathy: EmpathySpec
    non_blame: NonBlameSpec


@cache
def _compile(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


@cache
def load_rubric() -> Rubric:
    """The rubric shipped with Attune (eval/rubric/rubric.yaml)."""
    text = files("eval.rubric").joinpath("rubric.yaml").read_text(encoding="utf-8")
    return Rubric.model_validate(yaml.safe_load(text))
