"""Uploaded documents: a safe name inside the uploads folder, type and size checked, written atomically.

An upload's name comes from a browser, so it is untrusted: directories, '..', control characters and odd
Unicode are stripped before the file touches the disk.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from knowledge.loaders import SUPPORTED_SUFFIXES, UnreadableDocument

MAX_NAME = 120


def safe_upload_name(name: str) -> str:
    """A plain file name for an upload, or UnreadableDocument saying why none can be made."""
    base = re.split(r"[\\/]", name.replace("\x00", ""))[-1]  # no directories, Windows or POSIX
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    base = re.sub(r"\s+", " ", base).strip(" .")  # no hidden files, no trailing dots, no '..'
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocument(f"unsupported type {suffix or '(none)'}; use .md, .txt, .html or .pdf")
    stem = re.sub(r"[^\w\- ()]+", "_", stem).strip(" _")[: MAX_NAME - len(suffix)] or "document"
    return stem + suffix


def save_upload(folder: Path, name: str, data: bytes, max_bytes: int) -> Path:
    """Write an upload into `folder` under a safe, unique name; all-or-nothing (a temp file, then a rename)."""
    if len(data) == 0:
        raise UnreadableDocument("the file is empty")
    if len(data) > max_bytes:
        raise UnreadableDocument(f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    clean = safe_upload_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean
    stem, suffix = target.stem, target.suffix
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{stem} ({n}){suffix}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    assert target.resolve().parent == folder.resolve()
    return target
