"""Non-blame evidence by rules: the four horsemen, labels and named cues (sarcasm, non-apology, withdrawal ...)
found sentence by sentence, and the antidotes that earn credit only outside blamed words.

Every hit quotes the words that triggered it; the learned classifier (eval.rubric.blame) decides whether a turn
blames and uses these hits as features, so feedback can show the user their own phrasing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from eval.rubric.spec import NonBlameSpec
from eval.rubric.text import sentence_matches
from eval.rubric.types import Flag, NonBlameScore

_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’|\*[^*\n]{1,200}\*(?!\*)")
# A sentence that introduces a script to say to someone else: its words are advice, not the writer's own.
_SCRIPT = re.compile(
    r"\b(?:you (?:could|might|can) (?:say|try|tell)|try(?: saying)?|say(?:ing)? something like|you might say)\b\s*[:,]",
    re.IGNORECASE,
)


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs covering the text's sentences."""
    for m in sentence_matches(text):
        yield m.start(), m.group()


def quoted_ranges(text: str) -> list[tuple[int, int]]:
    """Quoted passages and scripts introduced by "you could say:"; *rolls eyes* is an action, not a quote."""
    ranges = [(m.start(), m.end()) for m in _QUOTED.finditer(text) if not m.group().startswith("*")]
    for m in _SCRIPT.finditer(text):
        end = text.find("\n", m.end())
        ranges.append((m.end(), len(text) if end < 0 else end))
    return ranges


def inside(start: int, end: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in ranges)


def find_rule_hits(text: str, spec: NonBlameSpec) -> list[Flag]:
    """Rule evidence of blame: at most one hit per (cue, sentence); quoted examples and 'instead of ...' exempt."""
    quoted = quoted_ranges(text)
    exemptions, appreciation = spec.compiled_exemptions, spec.compiled_appreciation
    hits: list[Flag] = []
    for offset, sentence in sentences(text):
        if any(e.search(sentence) for e in exemptions):
            continue
        praise = any(a.search(sentence) for a in appreciation)
        for kind, name, patterns in spec.pattern_sets:
            if praise and name == "criticism":  # "you always make me laugh"; sarcasm is not exempt
                continue
            for pattern in patterns.compiled:
                m = pattern.search(sentence)
                if m and not inside(offset + m.start(), offset + m.end(), quoted):
                    span = m.group().strip()
                    start = offset + m.start() + (len(m.group()) - len(m.group().lstrip()))
                    hits.append(Flag(kind, span, patterns.reason, start, start + len(span), cue=name))
                    break
    return hits


def find_strengths(text: str, spec: NonBlameSpec, blamed: Sequence[tuple[int, int]] = ()) -> list[Flag]:
    """Antidotes, one per kind: none inside a blamed sentence, a quoted script or another speaker's words."""
    quoted = quoted_ranges(text)
    found: list[Flag] = []
    for kind, patterns in spec.antidotes.items():
        for offset, sentence in sentences(text):
            end = offset + len(sentence)
            if any(a < end and offset < b for a, b in blamed):
                continue
            m = next(
                (
                    m
                    for p in patterns.compiled
                    if (m := p.search(sentence)) and not inside(offset + m.start(), offset + m.end(), quoted)
                ),
                None,
            )
            if m:
                found.append(Flag(kind, m.group().strip(), patterns.reason, offset + m.start(), offset + m.end()))
                break
    return found


def score_non_blame(text: str, spec: NonBlameSpec) -> NonBlameScore:
    """The rules alone (no classifier): every hit is a flag. The fast scorer uses eval.rubric.blame instead."""
    flags = find_rule_hits(text, spec)
    blamed = [(f.start, f.end) for f in flags]
    return NonBlameScore(
        score=blame_score(flags, spec),
        flags=tuple(flags),
        strengths=tuple(find_strengths(text, spec, blamed)),
        probability=1.0 if flags else 0.0,
        cues=tuple(flags),
    )


def blame_score(flags: Sequence[Flag], spec: NonBlameSpec) -> float:
    """The rubric's non-blame score for these flags, whoever found them (rules, classifier or the judge)."""
    score = 1.0
    for kind in {f.kind for f in flags}:
        score *= 1.0 - spec.horsemen[kind].weight
    return round(score, 4)
