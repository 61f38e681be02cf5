"""The rubric as data: `rubric.yaml` loaded into typed, validated models with compiled patterns.

Editing the YAML changes the rubric; the code only interprets it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MechanismSpec(_Strict):
    question: str
    weak: str
    strong: str


class EmpathySpec(_Strict):
    source: str
    levels: dict[int, str]
    mechanisms: dict[str, MechanismSpec]


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


class NonBlameSpec(_Strict):
    source: str
    horsemen: dict[str, PatternSet]
    exemptions: list[str]
    appreciation: list[str]
    antidotes: dict[str, PatternSet]

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
