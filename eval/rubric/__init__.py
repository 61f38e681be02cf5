"""Attune's rubric: empathy (EPITOME) and non-blame (the four horsemen), as data plus typed scorers.

A leaf package: it imports nothing else of Attune's, so the agent, practice and reports can all use it.
"""

from eval.rubric.empathy import EmpathyModel
from eval.rubric.scorer import FastScorer, Scorer
from eval.rubric.spec import Rubric, load_rubric
from eval.rubric.types import (
    EMPATHY_MAX,
    MECHANISMS,
    EmpathyScore,
    Evidence,
    Flag,
    MechanismScore,
    NonBlameScore,
    RubricScore,
)

__all__ = [
    "EMPATHY_MAX",
    "MECHANISMS",
    "EmpathyModel",
    "EmpathyScore",
    "Evidence",
    "FastScorer",
    "Flag",
    "MechanismScore",
    "NonBlameScore",
    "Rubric",
    "RubricScore",
    "Scorer",
    "load_rubric",
]
