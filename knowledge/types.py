"""Typed data that crosses the knowledge package's boundary.

Plain dataclasses so callers (the coach, the CLI, the UI) never handle loose dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of a library document."""

    id: str
    title: str
    section: str
    text: str
    source: str
    relevance: float  # cosine similarity to the query, in [-1, 1]


@dataclass(frozen=True)
class Chunk:
    """A piece of a document ready to index; its id derives from its content."""

    id: str
    text: str
    section: str


@dataclass(frozen=True)
class LoadedDocument:
    """A readable document, cleaned and in Markdown."""

    source: str
    title: str
    markdown: str


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str


@dataclass
class IngestReport:
    files_added: list[str] = field(default_factory=list)
    files_updated: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)
    files_pruned: list[str] = field(default_factory=list)
    # Documents whose content is already indexed under another path: (this path, the indexed source).
    files_duplicate: list[tuple[str, str]] = field(default_factory=list)
    files_unsupported: list[str] = field(default_factory=list)  # in a folder, of a type Attune cannot read
    failures: list[FileFailure] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, object]:
        return {
            "files_added": self.files_added,
            "files_updated": self.files_updated,
            "files_unchanged": self.files_unchanged,
            "files_pruned": self.files_pruned,
            "files_duplicate": [{"path": path, "same_as": twin} for path, twin in self.files_duplicate],
            "files_unsupported": self.files_unsupported,
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
            "chunks_added": self.chunks_added,
            "chunks_removed": self.chunks_removed,
            "chunks_total": self.chunks_total,
            "seconds": round(self.seconds, 3),
        }
