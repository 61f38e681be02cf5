"""Empathy credit that needs substance: a learned level counts only where the words do what the mechanism names.

Withheld inside blamed sentences, quoted scripts, commands and rhetorical questions; granted (weakly) where a
sentence plainly reflects, cares or asks about the other person and the model missed it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from eval.rubric.nonblame import quoted_ranges, sentences
from eval.rubric.spec import SubstanceSpec
from eval.rubric.types import EmpathyScore, Evidence, MechanismScore, NonBlameScore

# Which substance check each EPITOME mechanism answers to.
CHECKS = {"emotional_reactions": "warmth", "interpretations": "understanding", "explorations": "curiosity"}
_DEEP_QUESTION = re.compile(r"\b(?:feel|felt|like for you|hardest|worr|scar|hurt|need|going on for you)", re.I)


def _own_sentences(text: str, non_blame: NonBlameScore) -> list[tuple[int, str, str]]:
    """(start, words to check, original words) of sentences that are the writer's own and blame no one:
    quoted scripts are blanked out (offsets kept) and flagged sentences drop out."""
    masked = list(text)
    for a, b in quoted_ranges(text):
        masked[a:b] = " " * (b - a)
    blanked = "".join(masked)
    blamed = [(f.start, f.end) for f in non_blame.flags]
    out = []
    for offset, s in sentences(blanked):
        end = offset + len(s)
        if any(a < end and offset < b for a, b in blamed) or not s.strip():
            continue
        stripped = s.strip()
        start = offset + s.find(stripped)
        out.append((start, " ".join(stripped.split()), text[start : start + len(stripped)]))
    return out


def _matches(check: str, sentence: str, spec: SubstanceSpec) -> bool:
    if check == "curiosity":
        c = spec.curiosity
        return any(p.search(sentence) for p in c.compiled) and not any(p.search(sentence) for p in c.compiled_not)
    patterns = spec.warmth if check == "warmth" else spec.understanding
    return any(p.search(sentence) for p in patterns.compiled)


def credit_substance(empathy: EmpathyScore, text: str, non_blame: NonBlameScore, spec: SubstanceSpec) -> EmpathyScore:
    own = _own_sentences(text, non_blame)
    changed: dict[str, MechanismScore] = {}
    for mechanism, check in CHECKS.items():
        score: MechanismScore = getattr(empathy, mechanism)
        reason = getattr(spec, check).reason
        doing = [(start, original) for start, s, original in own if _matches(check, s, spec)]
        if not doing:
            if score.level:
                changed[mechanism] = MechanismScore(0, (), score.confidence)
            continue
        evidence = tuple(Evidence(s, start, start + len(s), reason) for start, s in doing[:2])
        level = max(score.level, 1)
        if check == "curiosity" and score.level == 0 and any(_DEEP_QUESTION.search(s) for _, s in doing):
            level = 2  # a question about their feelings is a strong exploration, even where the model missed it
        kept = tuple(
            e
            for e in score.evidence
            if text[e.start : e.end] == e.span and any(e.start < st + len(s) and st < e.end for st, s in doing)
        )
        changed[mechanism] = MechanismScore(level, kept or evidence, score.confidence)
    return replace(empathy, **changed)
