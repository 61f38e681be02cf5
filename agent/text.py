"""Text as people type it, made safe to store, show and embed.

Invalid UTF-8 from a terminal arrives as lone surrogates (Python's surrogateescape); nothing downstream can encode
those, so every entry point drops them, with control and format characters, before any work.
"""

from __future__ import annotations

import re
import unicodedata


def printable(text: str) -> str:
    """The text without control, format, private or unpaired-surrogate characters, NFC-normalised; newlines and
    tabs kept."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return unicodedata.normalize("NFC", kept)


def one_line(text: str) -> str:
    """`printable`, with every run of whitespace made one space."""
    return re.sub(r"\s+", " ", printable(text)).strip()
