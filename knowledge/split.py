"""Split a Markdown document into passages that know their section, with content-derived ids.

Headings become metadata (langchain's MarkdownHeaderTextSplitter), long sections are split further
(RecursiveCharacterTextSplitter), and each chunk id is a hash of source, section and text.
"""

from __future__ import annotations

import hashlib

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from knowledge.types import Chunk

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


def chunk_id(source: str, section: str, text: str) -> str:
    return hashlib.sha256(f"{source}\x1f{section}\x1f{text}".encode()).hexdigest()[:32]


def split_markdown(markdown: str, source: str, chunk_size: int = 900, chunk_overlap: int = 120) -> list[Chunk]:
    by_heading = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
    by_size = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        separators=["\n\n", "\n", ". ", " ", ""],
    )
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for part in by_heading.split_text(markdown):
        meta = part.metadata
        # The document title (h1) is shown beside each passage already; the section is what lies under it.
        section = " › ".join(meta[h] for h in ("h2", "h3") if meta.get(h)) or meta.get("h1", "")
        for text in by_size.split_text(part.page_content):
            text = text.strip()
            cid = chunk_id(source, section, text)
            if len(text.split()) < 4 or cid in seen:
                continue
            seen.add(cid)
            chunks.append(Chunk(id=cid, text=text, section=section))
    return chunks
