"""The rubric's sentence splitter, shared with the practice coach and partner (the rubric is a leaf they may use).

A sentence runs to its closing punctuation or the end of its line; blank pieces are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)


def sentence_matches(text: str) -> Iterator[re.Match[str]]:
    """Every non-blank sentence of the text, as a match (its span indexes the text)."""
    return (m for m in _SENTENCE.finditer(text) if m.group().strip())


def sentences(text: str) -> list[str]:
    """The text's sentences, stripped."""
    return [m.group().strip() for m in sentence_matches(text)]
