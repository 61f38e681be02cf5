"""Keep `[n]` citation markers honest while an answer streams: drop markers that point at nothing,
and attach the best-matching passage to sentences the model left uncited.

Works on the token stream, holding back only a possible marker or a sentence's final punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARKER = re.compile(r"\[(\d{1,3})\]")
_PARTIAL_MARKER = re.compile(r"\[\d{0,3}")
_SPACE_BRACKET = re.compile(r"[ \t]*\[")
_MARKER_AFTER_SPACE = re.compile(r"[ \t]*\[(\d{1,3})\]")
_PARTIAL_AFTER_SPACE = re.compile(r"[ \t]*\[\d{0,3}")
_SENTENCE_END = ".!?"

# Given a sentence, the number (1-based) of the passage that supports it, or None.
Attributor = Callable[[str], int | None]


class CitationFilter:
    """Feed it text deltas; it returns what is safe to show now. Call `finish()` at the end."""

    def __init__(self, n_passages: int, attribute: Attributor | None = None) -> None:
        self.n_passages = n_passages
        self.attribute = attribute
        self.cited: list[int] = []
        self._pending = ""  # text not yet decided on: a partial marker, or a sentence end
        self._sentence = ""  # the current sentence as shown so far
        self._sentence_cited = False
        self._swallow_space = False  # set after dropping a marker at a line start

    def _valid(self, n: int) -> bool:
        return 1 <= n <= self.n_passages

    def _note_cited(self, n: int) -> None:
        self._sentence_cited = True
        if n not in self.cited:
            self.cited.append(n)

    def _emit(self, text: str) -> str:
        self._sentence += text
        return text

    def _close_sentence(self, punctuation: str) -> str:
        """End the sentence: add a citation before its punctuation if it has none and one fits."""
        out = ""
        if not self._sentence_cited and self.attribute is not None and self.n_passages:
            n = self.attribute(self._sentence.strip())
            if n is not None and self._valid(n):
                self._note_cited(n)
                out = f" [{n}]"
        self._sentence, self._sentence_cited = "", False
        return out + punctuation

    def _take_marker(self, match: re.Match[str]) -> str:
        """Show a valid marker; drop one that points at no passage."""
        n = int(match.group(1))
        if not self._valid(n):
            return ""
        self._note_cited(n)
        return self._emit(f"[{n}]" if self._sentence.endswith((" ", "\n")) or not self._sentence else f" [{n}]")

    def feed(self, delta: str) -> str:
        self._pending += delta
        out: list[str] = []
        while self._pending:
            if self._swallow_space:
                self._swallow_space = False
                if self._pending[0] == " ":
                    self._pending = self._pending[1:]
                    continue
            text = self._pending
            if _SPACE_BRACKET.match(text):
                match = _MARKER_AFTER_SPACE.match(text)
                if match:
                    shown = self._take_marker(match)
                    rest = text[match.end():]
                    if not shown:
                        if self._sentence[-1:].isdigit() or self._sentence.endswith("["):
                            shown = self._emit(" ")  # never let the text around a dropped marker form a new one
                        elif not self._sentence or self._sentence[-1].isspace():
                            self._swallow_space = True  # "\n[9] Next" -> "\nNext"
                    out.append(shown)
                    self._pending = rest
                elif _PARTIAL_AFTER_SPACE.fullmatch(text):
                    break  # a marker may still be arriving
                else:
                    bracket = text.index("[") + 1
                    out.append(self._emit(text[:bracket]))
                    self._pending = text[bracket:]
            elif text.isspace():
                break  # held in case a marker follows, to drop it with its space
            elif text[0] in _SENTENCE_END:
                rest = text[1:]
                if not rest or _PARTIAL_AFTER_SPACE.fullmatch(rest) or rest.isspace():
                    break  # wait: "3.5" and "..." are no sentence ends, and a marker may follow
                after = _MARKER_AFTER_SPACE.match(rest)
                if after:
                    # A marker after the full stop ("... kind. [1]") is moved before it.
                    out.append(self._take_marker(after))
                    self._pending = text[0] + rest[after.end():]
                elif rest[0].isspace() and not self._sentence.endswith("."):  # "..." trails off
                    out.append(self._close_sentence(text[0]))
                    self._pending = rest
                else:
                    out.append(self._emit(text[0]))
                    self._pending = rest
            else:
                cut = next((i for i, c in enumerate(text) if c == "[" or c in _SENTENCE_END), len(text))
                chunk = text[:cut]
                if cut == len(text) or text[cut] == "[":
                    chunk = chunk.rstrip(" \t")  # a trailing space waits to see whether a marker follows
                out.append(self._emit(chunk))
                self._pending = text[len(chunk):]
            if self._pending == text:
                # Every branch above consumes text or breaks; this guard keeps a future edit from looping.
                out.append(self._emit(text[0]))
                self._pending = text[1:]
        return "".join(out)

    def finish(self) -> str:
        """Flush what was held back; the last sentence may get its citation here."""
        text, self._pending = self._pending, ""
        out = ""
        if text and text[0] in _SENTENCE_END:
            out = self._close_sentence(text[0])
            text = text[1:]
        elif self._sentence.strip() and not self._sentence_cited:
            out = self._close_sentence("")
        # Anything else left is an unfinished marker: never shown.
        return out + _PARTIAL_MARKER.sub("", text).rstrip()
