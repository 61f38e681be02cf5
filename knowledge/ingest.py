"""Ingest documents into the library: load, clean, split, embed, upsert; idempotent by content.

Running it twice adds nothing; a changed file replaces its chunks; `prune` drops sources that are gone.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from knowledge.library import Library
from knowledge.loaders import SUPPORTED_SUFFIXES, UnreadableDocument, load_document
from knowledge.split import split_markdown
from knowledge.types import FileFailure, IngestReport

log = logging.getLogger(__name__)

BUNDLED_PREFIX = "attune-library/"


def bundled_corpus_dir() -> Path:
    return Path(__file__).parent / "corpus"


def bundled_files() -> list[Path]:
    return sorted(bundled_corpus_dir().glob("*.md"))


def source_name(path: Path) -> str:
    """Bundled articles get a location-independent name; user files their absolute path."""
    resolved = path.resolve()
    if resolved.parent == bundled_corpus_dir().resolve():
        return BUNDLED_PREFIX + resolved.name
    return str(resolved)


def is_yours(source: str) -> bool:
    """A document the user added (ingested or uploaded), as opposed to one of the bundled articles."""
    return not source.startswith(BUNDLED_PREFIX)


def source_exists(source: str) -> bool:
    if source.startswith(BUNDLED_PREFIX):
        return (bundled_corpus_dir() / source.removeprefix(BUNDLED_PREFIX)).is_file()
    return Path(source).is_file()


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[FileFailure], list[Path]]:
    """Files to ingest (folders walked, hidden entries skipped), missing paths, and files in the folders whose
    type cannot be read (said, not silently dropped)."""
    files: list[Path] = []
    missing: list[FileFailure] = []
    unsupported: list[Path] = []
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if not p.is_file() or any(part.startswith(".") for part in p.relative_to(path).parts):
                    continue
                (files if p.suffix.lower() in SUPPORTED_SUFFIXES else unsupported).append(p)
        elif path.exists():
            files.append(path)
        else:
            missing.append(FileFailure(str(path), "no such file or folder"))
    return list(dict.fromkeys(files)), missing, unsupported


def ingest(
    library: Library,
    paths: Iterable[Path] | None = None,
    *,
    prune: bool = False,
    chunk_size: int = 900,
    chunk_overlap: int = 120,
    max_bytes: int = 20_000_000,
    progress: bool = True,
) -> IngestReport:
    """Ingest files (default: the bundled library) and report what changed and what failed."""
    started = time.perf_counter()
    files, failures, unsupported = expand_paths(list(paths) if paths else bundled_files())
    report = IngestReport(failures=failures, files_unsupported=[str(p) for p in unsupported])
    for path in tqdm(files, desc="Ingesting", unit="file", disable=not progress, leave=False):
        source = source_name(path)
        try:
            doc = load_document(path, source=source, max_bytes=max_bytes)
        except UnreadableDocument as exc:
            report.failures.append(FileFailure(str(path), str(exc)))
            continue
        digest = hashlib.sha256(doc.markdown.encode("utf-8")).hexdigest()
        twin = library.source_with_digest(digest)
        if twin is not None and twin != source:
            report.files_duplicate.append((str(path), twin))
            continue
        chunks = split_markdown(doc.markdown, source, chunk_size, chunk_overlap)
        had = bool(library.ids_for_source(source))
        added, removed = library.replace_source(source, doc.title, chunks, digest)
        report.chunks_added += added
        report.chunks_removed += removed
        if not had:
            report.files_added.append(str(path))
        elif added or removed:
            report.files_updated.append(str(path))
        else:
            report.files_unchanged.append(str(path))
    if prune:
        for source in library.sources():
            if not source_exists(source):
                report.chunks_removed += library.delete_source(source)
                report.files_pruned.append(source)
    report.chunks_total = library.count()
    report.seconds = time.perf_counter() - started
    return report
