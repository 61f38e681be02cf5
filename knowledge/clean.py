"""Drop web clutter from article text and give plain text a Markdown heading structure.

Pure string functions, no I/O, so the rules are easy to test and to extend.
"""

from __future__ import annotations

import re
import unicodedata

# Lines that start a page footer: everything after them is navigation, not article text.
_FOOTER_STARTS = re.compile(
    r"^\s*(similar posts|popular posts|related posts|recent posts|you may also like|"
    r"leave a (comment|reply)|latest video|news via inbox)\b",
    re.IGNORECASE,
)

# Single lines that are page furniture wherever they appear.
_CLUTTER_LINES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*leave a (comment|reply)\s*$",
        r"^\s*(similar|popular|related|recent) posts\s*$",
        r"^\s*last updated:.*$",
        r"^\s*(posted|published) (on|in|by)\b.{0,80}$",
        r"^\s*(share|share this|share on \w+|tweet|pin it)\s*:?\s*$",
        r"^\s*(read more|continue reading|click here).{0,40}$",
        r"^\s*tags?:.{0,120}$",
        r".*\b(subscribe|sign up|join)\b.{0,60}\b(newsletter|inbox|mailing list|updates)\b.*",
        r".*\bnewsletter\b.{0,80}$",
        r"^\s*news via inbox\s*$",
        r"^\s*latest video\s*$",
        r"^\s*(this (site|website) uses cookies|we use cookies).*$",
        r"^\s*(table of contents|contents)\s*$",
        r"^\s*advertisement\s*$",
    )
]

# Words typical of placeholder ("lorem ipsum") Latin that never occur in the articles we ingest.
_LATIN_WORDS = frozenset(
    """lorem ipsum dolor sit amet consectetur consectetuer adipiscing adipisicing elit sed eiusmod tempor
    incididunt labore dolore magna aliqua enim minim veniam quis nostrud exercitation ullamco laboris nisi
    aliquip commodo consequat duis aute irure reprehenderit voluptate velit esse cillum fugiat nulla pariatur
    excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum
    integer liberos libero euismod pretium faucibus faucibua cursus turpis turp dis parturient montes nascetur
    ridiculus mus donec vitae sapien ut nunc tincidunt vel risus vestibulum mauris eget lacus ac felis
    ornare massa nec augue praesent aenean quam justo vivamus elementum semper nisl tellus viverra
    maecenas tempus condimentum rhoncus metus nullam dictum eu pede mollis pellentesque leo etiam
    ultricies imperdiet blandit porttitor feugiat morbi suscipit tortor sagittis mattis lectus
    curabitur fringilla vulputate arcu lobortis tristique senectus netus malesuada fames egestas
    phasellus scelerisque nibh sollicitudin quisque volutpat accumsan urna""".split()
)
_ENGLISH_GLUE = frozenset(
    "the a an and or of to in is are be it that this with for on you your we our they their".split()
)
_WORD = re.compile(r"[A-Za-z\u00C0-\u024F']+")


def is_placeholder_latin(line: str) -> bool:
    """True for a line of lorem-ipsum style filler: mostly Latin filler words, almost no English glue."""
    words = [w.lower() for w in _WORD.findall(line)]
    if len(words) < 3:
        return False
    latin = sum(w in _LATIN_WORDS for w in words)
    glue = sum(w in _ENGLISH_GLUE for w in words)
    return latin / len(words) >= 0.4 and glue / len(words) < 0.1


def is_clutter_line(line: str) -> bool:
    """True for a line that is page furniture rather than article text."""
    return any(p.match(line) for p in _CLUTTER_LINES) or is_placeholder_latin(line)


def normalize_text(text: str) -> str:
    """Unify Unicode, line endings and bullets; drop control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"^[ \t]*[•▪●◦·][ \t]*", "- ", text, flags=re.MULTILINE)


def clean_text(text: str) -> str:
    """Return the article text without footers, clutter lines, placeholder Latin or stray list numbers."""
    kept: list[str] = []
    for line in normalize_text(text).split("\n"):
        if _FOOTER_STARTS.match(line):
            break
        if is_clutter_line(line):
            continue
        # A list number that lost its line break ("... validation. 3.") belongs to nothing.
        kept.append(re.sub(r"(?<=[.!?])\s+\d{1,2}\.\s*$", "", line.rstrip()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() + "\n"


def _looks_like_heading(block: str) -> bool:
    if "\n" in block or len(block) > 90 or len(block.split()) > 12:
        return False
    stripped = re.sub(r"^\d{1,2}\.\s+", "", block)
    if block.startswith(("- ", "* ", "#")) or re.search(r"[.!?]\s", stripped):
        return False
    if not stripped or not stripped[0].isupper():
        return False
    # Sentences end with a full stop; headings end with a word, a question mark or a colon-free phrase.
    return not block.endswith((".", ",", ";", ":", "!")) or block.endswith("...")


def text_to_markdown(text: str, title: str | None = None) -> str:
    """Turn cleaned plain text into Markdown: short title-like paragraphs become headings.

    Numbered headings ("2. Practice Active Listening") become level-3 headings under the level-2
    heading before them, so each passage can say which section it comes from.
    """
    blocks: list[str] = []
    for block in (b.strip() for b in re.split(r"\n\s*\n", text)):
        # A paragraph broken mid-sentence by the page ("It's" / "about showing up") is one paragraph.
        if block and blocks and block[0].islower() and not blocks[-1].endswith((".", "!", "?", ":")):
            blocks[-1] = f"{blocks[-1]} {block}"
        elif block:
            blocks.append(block)
    out: list[str] = []
    if title:
        out.append(f"# {title}")
    for block in blocks:
        if title and _same_words(block, title):
            continue
        if block.startswith("#"):
            out.append(block)
        elif _looks_like_heading(block):
            level = "###" if re.match(r"^\d{1,2}\.\s", block) else "##"
            out.append(f"{level} {block}")
        else:
            out.append(block)
    return "\n\n".join(out) + "\n"


def _same_words(a: str, b: str) -> bool:
    return [w.lower() for w in _WORD.findall(a)] == [w.lower() for w in _WORD.findall(b)]
