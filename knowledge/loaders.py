"""Read a user's document (.md, .txt, .html, .pdf) into clean Markdown, or say why it cannot be read.

Every failure is an `UnreadableDocument` with a one-line reason, so ingestion can skip the file and go on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from knowledge.clean import clean_text, normalize_text, text_to_markdown
from knowledge.types import LoadedDocument

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf"})
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


class UnreadableDocument(Exception):
    """A document that cannot be ingested; the message says why in one line."""


def read_text_strict(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableDocument("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"not UTF-8 text (bad byte at offset {exc.start})") from None


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


def _first_heading(markdown: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", markdown, re.MULTILINE)
    return match.group(1).strip() if match else None


def _markdown_document(text: str, path: Path) -> tuple[str, str]:
    meta, body = split_front_matter(normalize_text(text))
    body = clean_text(body)
    title = str(meta.get("title") or _first_heading(body) or path.stem)
    return title, body


def _text_document(text: str, path: Path) -> tuple[str, str]:
    body = clean_text(text)
    first = body.split("\n", 1)[0].strip()
    # A short first line without a full stop is the title, as in most saved web articles.
    title = first if first and len(first) <= 120 and not first.endswith(".") else path.stem
    return title, text_to_markdown(body, title=title)


MAX_HTML_DEPTH = 256
_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>")
# Elements that never hold others, or that pages routinely leave unclosed: not counted as nesting.
_FLAT = frozenset(
    "area base br col embed hr img input link meta source track wbr p li dt dd tr td th option".split()
)


def html_depth(text: str) -> int:
    """How deeply the page's elements nest, in one linear pass over its tags."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(text):
        if name.lower() in _FLAT or self_closing:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|em|rem|pt|%)?\s*(?:;|$)"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)",
    re.IGNORECASE,
)


def _hidden(tag: Any) -> bool:
    return bool(
        tag.has_attr("hidden")
        or str(tag.get("aria-hidden", "")).lower() == "true"
        or _HIDDEN_STYLE.search(str(tag.get("style", "")))
    )


def _html_document(text: str, path: Path) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    # The parser's time grows with the square of the nesting: 20,000 levels in 500 kB took 38 s and held up
    # every other request; no real article nests past a few dozen.
    depth = html_depth(text)
    if depth > MAX_HTML_DEPTH:
        raise UnreadableDocument(f"HTML nested {depth} levels deep; Attune reads pages nested up to {MAX_HTML_DEPTH}")

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "aside", "form", "noscript", "iframe", "header"]):
        tag.decompose()
    # Text a reader never sees is where planted instructions hide: it is not indexed.
    for tag in soup.find_all(_hidden):
        if not getattr(tag, "decomposed", False):
            tag.decompose()
    title_tag = soup.find("title") or soup.find("h1")
    lines: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "blockquote"]):
        words = " ".join(el.get_text(" ", strip=True).split())
        if not words:
            continue
        if el.name and el.name[0] == "h":
            lines.append(f"{'#' * int(el.name[1])} {words}")
        elif el.name == "li":
            lines.append(f"- {words}")
        else:
            lines.append(words)
    body = clean_text("\n\n".join(lines))
    title = title_tag.get_text(" ", strip=True) if title_tag else (_first_heading(body) or path.stem)
    return title, body


def _pdf_document(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise UnreadableDocument("encrypted PDF")
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        title = (reader.metadata.title if reader.metadata else None) or path.stem
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__})") from None
    return str(title), text_to_markdown(clean_text(text), title=str(title))


def load_document(path: Path, source: str | None = None, max_bytes: int = 20_000_000) -> LoadedDocument:
    """Load one file as cleaned Markdown; raise `UnreadableDocument` with the reason if it cannot be."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocument(f"unsupported type {suffix or '(none)'}; use .md, .txt, .html or .pdf")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or "cannot be read") from None
    if size == 0:
        raise UnreadableDocument("empty file")
    if size > max_bytes:
        raise UnreadableDocument(f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)")
    try:
        if suffix == ".pdf":
            title, markdown = _pdf_document(path)
        else:
            text = read_text_strict(path)
            reader = {".txt": _text_document, ".html": _html_document, ".htm": _html_document}.get(
                suffix, _markdown_document
            )
            title, markdown = reader(text, path)
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or "cannot be read") from None
    if len(re.sub(r"^#.*$", "", markdown, flags=re.MULTILINE).split()) < 5:
        raise UnreadableDocument("no text left after cleaning (empty or only page clutter)")
    return LoadedDocument(source=source or str(path.resolve()), title=title.strip(), markdown=markdown)
