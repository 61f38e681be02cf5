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
_QUESTION_WORDS = frozenset(
    "what how why when who where which have has do did does are is was were would could can will".split()
)
_DEEP_QUESTION = re.compile(r"\b(?:feel|felt|like for you|hardest|worr|scar|hurt|need|going on for you)", re.I)


def _own_sentences(text: str, non_blame: NonBlameScore) -> list[tuple[int, str, str]]:
    """(start, words to check, original words) of sentences that are the writer's own and blame no one:
    quoted scripts are blanked out (offsets kept) and flagged sentences drop out."""
    masked = list(text)
    for a, b in quoted_ranges(text):
        masked[a:b] = " " * (b - a)
    blanked = "".join(masked)
    # Flags and every rule cue: "I'm sorry you feel that way" is a non-apology even where the classifier clears it.
    blamed = [(f.start, f.end) for f in (*non_blame.flags, *non_blame.cues)]
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
    """The sentence plainly does what the mechanism names (a pattern in the rubric)."""
    if check == "curiosity":
        c = spec.curiosity
        return any(p.search(sentence) for p in c.compiled) and not any(p.search(sentence) for p in c.compiled_not)
    patterns = spec.warmth if check == "warmth" else spec.understanding
    return any(p.search(sentence) for p in patterns.compiled)


def _can_carry(check: str, sentence: str, spec: SubstanceSpec) -> bool:
    """The sentence could carry the learned credit: any own sentence for warmth and understanding (their
    wording varies far beyond any pattern list), and for curiosity a real question, not a request or a
    rhetorical one."""
    if check != "curiosity":
        return True
    words = sentence.lower().split()
    asks = "?" in sentence or (bool(words) and words[0] in _QUESTION_WORDS)
    return asks and not any(p.search(sentence) for p in spec.curiosity.compiled_not)


def credit_substance(empathy: EmpathyScore, text: str, non_blame: NonBlameScore, spec: SubstanceSpec) -> EmpathyScore:
    """Withhold a learned level that nothing of the writer's own could carry (blame, quoted scripts, commands
    and rhetorical questions carry none); grant a level the model missed where a sentence plainly earns it.

    A first version required a pattern match for every level and took EPITOME's macro-F1 from 0.78/0.56/0.72
    to 0.50/0.27/0.56: real empathy is worded far more ways than any list.
    """
    own = _own_sentences(text, non_blame)
    changed: dict[str, MechanismScore] = {}
    for mechanism, check in CHECKS.items():
        score: MechanismScore = getattr(empathy, mechanism)
        reason = getattr(spec, check).reason
        carriers = [(start, original) for start, s, original in own if _can_carry(check, s, spec)]
        if score.level and not carriers:
            changed[mechanism] = MechanismScore(0, (), score.confidence)
            continue
        doing = [(start, original) for start, s, original in own if _matches(check, s, spec)]
        if score.level:
            kept = tuple(
                e
                for e in score.evidence
                if text[e.start : e.end] == e.span and any(e.start < st + len(s) and st < e.end for st, s in carriers)
            )
            evidence = kept or tuple(Evidence(s, st, st + len(s), reason) for st, s in (doing or carriers)[:2])
            changed[mechanism] = MechanismScore(score.level, evidence, score.confidence)
        elif doing:
            level = 1
            if check == "curiosity":
                # Only a question about their feelings: raising every pattern-matched question to a weak
                # exploration cost EPITOME's explorations 0.015 macro-F1 out of fold.
                doing = [(st, s) for st, s in doing if _DEEP_QUESTION.search(s)]
                level = 2  # a strong exploration, even where the model missed it
            if doing:
                evidence = tuple(Evidence(s, st, st + len(s), reason) for st, s in doing[:2])
                changed[mechanism] = MechanismScore(level, evidence, score.confidence)
    return replace(empathy, **changed)
