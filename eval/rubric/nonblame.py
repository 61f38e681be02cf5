"""Non-blame scoring by rules: Gottman's four horsemen (and character labels) found sentence by sentence.

Every flag quotes the words that triggered it, so feedback can show the user their own phrasing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from eval.rubric.spec import NonBlameSpec
from eval.rubric.types import Flag, NonBlameScore

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’|\*[^*\n]{1,200}\*(?!\*)")


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs covering the text's sentences."""
    for m in _SENTENCE.finditer(text):
        if m.group().strip():
            yield m.start(), m.group()


def _quoted_ranges(text: str) -> list[tuple[int, int]]:
    # *rolls eyes* is an action, not a quote: keep it visible to the contempt patterns.
    return [(m.start(), m.end()) for m in _QUOTED.finditer(text) if not m.group().startswith("*")]


def _inside(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in ranges)


def find_flags(text: str, spec: NonBlameSpec) -> list[Flag]:
    """Horsemen in `text`: at most one flag per (kind, sentence), quoted examples and 'instead of ...' exempt."""
    quoted = _quoted_ranges(text)
    exemptions, appreciation = spec.compiled_exemptions, spec.compiled_appreciation
    flags: list[Flag] = []
    for offset, sentence in sentences(text):
        if any(e.search(sentence) for e in exemptions) or any(a.search(sentence) for a in appreciation):
            continue
        for kind, patterns in spec.horsemen.items():
            for pattern in patterns.compiled:
                m = pattern.search(sentence)
                if m and not _inside(offset + m.start(), offset + m.end(), quoted):
                    flags.append(Flag(kind, m.group().strip(), patterns.reason, offset + m.start(), offset + m.end()))
                    break
    return flags


def find_strengths(text: str, spec: NonBlameSpec) -> list[Flag]:
    found: list[Flag] = []
    for kind, patterns in spec.antidotes.items():
        for offset, sentence in sentences(text):
            m = next((m for p in patterns.compiled if (m := p.search(sentence))), None)
            if m:
                found.append(Flag(kind, m.group().strip(), patterns.reason, offset + m.start(), offset + m.end()))
                break
    return found


def score_non_blame(text: str, spec: NonBlameSpec) -> NonBlameScore:
    """1.0 when no horseman appears; each distinct horseman multiplies the score by (1 - its weight)."""
    flags = find_flags(text, spec)
    return NonBlameScore(
        score=blame_score(flags, spec), flags=tuple(flags), strengths=tuple(find_strengths(text, spec))
    )


def blame_score(flags: Sequence[Flag], spec: NonBlameSpec) -> float:
    """The rubric's non-blame score for these flags, whoever found them (rules or the judge)."""
    score = 1.0
    for kind in {f.kind for f in flags}:
        score *= 1.0 - spec.horsemen[kind].weight
    return round(score, 4)
