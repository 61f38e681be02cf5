"""`attune ingest` and `attune forget`: put documents into the library, and take yours (and your sessions) out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.commands import EXIT_FAILED, EXIT_OK, UsageError, app_from_args, say


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ingest",
        help="index documents into the library",
        description="Index documents (.md, .txt, .html, .pdf, or folders of them) into the library. "
        "With no path, index the bundled library of articles. Running it again adds nothing new; "
        "a changed file replaces its passages.",
        epilog="Exit status: 0 when every file was ingested, 1 when some could not be read, 2 on bad usage.",
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders to ingest")
    p.add_argument("--prune", action="store_true", help="also remove passages of files that are gone")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    p.set_defaults(handler=cmd_ingest)

    f = sub.add_parser(
        "forget",
        help="delete your practice sessions and your own documents from this machine",
        description="Delete what Attune keeps about you: saved practice sessions and their plots, and the passages "
        "of documents you ingested or uploaded (the bundled articles stay). With neither flag, both.",
        epilog="Asks for confirmation unless --yes is given; without a terminal to ask on, --yes is required.",
    )
    f.add_argument("--sessions", action="store_true", help="only the practice sessions and plots")
    f.add_argument("--documents", action="store_true", help="only your ingested and uploaded documents")
    f.add_argument("--yes", action="store_true", help="don't ask for confirmation")
    f.add_argument("--json", action="store_true", help="print what was deleted as JSON")
    f.set_defaults(handler=cmd_forget)


def cmd_ingest(args: argparse.Namespace) -> int:
    from knowledge.loaders import SUPPORTED_SUFFIXES

    app = app_from_args(args)
    missing = [str(p) for p in args.paths or [] if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    report = app.ingest(args.paths or None, prune=args.prune, progress=not args.json)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return EXIT_OK if report.ok else EXIT_FAILED
    changed = len(report.files_added) + len(report.files_updated)
    print(
        f"Ingested {changed} new or changed file(s), {len(report.files_unchanged)} unchanged"
        f"{f', {len(report.files_pruned)} pruned' if report.files_pruned else ''}: "
        f"+{report.chunks_added} / -{report.chunks_removed} passages, {report.chunks_total} in the library "
        f"({report.seconds:.1f} s)."
    )
    for path, twin in report.files_duplicate:
        say(f"skipped {path}: the same document is already in the library as {twin}")
    for path in report.files_unsupported:
        say(f"skipped {path}: Attune reads {', '.join(sorted(SUPPORTED_SUFFIXES))} files")
    for failure in report.failures:
        say(f"skipped {failure.path}: {failure.reason}")
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_forget(args: argparse.Namespace) -> int:
    app = app_from_args(args)
    both = not (args.sessions or args.documents)
    sessions, documents = args.sessions or both, args.documents or both
    what = " and ".join(w for w, on in (("practice sessions", sessions), ("your documents", documents)) if on)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"this deletes {what} in {app.settings.home}; add --yes to confirm")
        answer = input(f"Delete {what} in {app.settings.home}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return EXIT_OK
    report = app.forget(sessions=sessions, documents=documents).to_json()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key.replace('_', ' ')}: {len(value) if isinstance(value, list) else value}")
    return EXIT_OK
