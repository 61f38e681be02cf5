"""The `attune` command: one entry point with a subcommand for each job.

Settings are built once here and passed down; logging is configured only here.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

if TYPE_CHECKING:
    from agent.coach import Answer
    from agent.settings import AttuneSettings

DISCLAIMER = (
    "Attune is a coach, not a therapist: it cannot assess risk, diagnose or treat, and it can be wrong. If you "
    "or someone else is in danger, call your local emergency number now (112 in the EU, 911 in the US, 999 in "
    "the UK); https://findahelpline.com lists free crisis lines in over 130 countries."
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="attune",
        description="Attune: a relationship coach that runs on your own machine.",
        epilog=DISCLAIMER,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens, with tracebacks")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="settings file (default: ~/.config/attune/attune.toml if it exists; never the working directory's)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    p_ingest = sub.add_parser(
        "ingest",
        help="index documents into the library",
        description="Index documents (.md, .txt, .html, .pdf, or folders of them) into the library. "
        "With no path, index the bundled library of articles. Running it again adds nothing new; "
        "a changed file replaces its passages.",
        epilog="Exit status: 0 when every file was ingested, 1 when some could not be read, 2 on bad usage.",
    )
    p_ingest.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders to ingest")
    p_ingest.add_argument("--prune", action="store_true", help="also remove passages of files that are gone")
    p_ingest.add_argument("--json", action="store_true", help="print a JSON report instead of text")

    p_ask = sub.add_parser(
        "ask",
        help="ask a relationship question and get a grounded, cited answer",
        description="Answer a relationship question from the library, streaming the answer, then list the "
        "passages it cites. When no passage fits, the answer is marked as general advice.",
        epilog=DISCLAIMER,
    )
    p_ask.add_argument("question", help="your question, in quotes")
    p_ask.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p_ask.add_argument(
        "--model", type=Path, metavar="FILE.gguf", help="a GGUF model file to use instead of the bundled model"
    )
    from agent.settings import AttuneSettings as Defaults  # help shows the settings' own defaults

    top_k, candidates = (Defaults.model_fields[name].default for name in ("top_k", "candidates"))
    p_ask.add_argument("--top-k", type=int, metavar="N", help=f"how many passages to give the model (default {top_k})")
    p_ask.add_argument(
        "--candidates",
        type=int,
        metavar="N",
        help="rubric-guided: redraft up to N times when the answer falls short of the rubric (shown whole, "
        f"not streamed; default {candidates})",
    )
    p_forget = sub.add_parser(
        "forget",
        help="delete your practice sessions and your own documents from this machine",
        description="Delete what Attune keeps about you: saved practice sessions and their plots, and the passages "
        "of documents you ingested or uploaded (the bundled articles stay). With neither flag, both.",
        epilog="Asks for confirmation unless --yes is given; without a terminal to ask on, --yes is required.",
    )
    p_forget.add_argument("--sessions", action="store_true", help="only the practice sessions and plots")
    p_forget.add_argument("--documents", action="store_true", help="only your ingested and uploaded documents")
    p_forget.add_argument("--yes", action="store_true", help="don't ask for confirmation")
    p_forget.add_argument("--json", action="store_true", help="print what was deleted as JSON")
    p_forget.set_defaults(handler=cmd_forget)
    p_ingest.set_defaults(handler=cmd_ingest)
    p_ask.set_defaults(handler=cmd_ask)
    from agent.practice.cli import register as register_practice

    register_practice(sub)
    for register in _plugin_commands():
        register(sub)
    return parser


def _plugin_commands() -> list[Callable[[Any], None]]:
    """Subcommands registered by Attune's other packages (`attune.commands` entry points), e.g. `attune eval`.

    The agent must not import eval or ui, yet `attune` is one command: like llm's plugins, each package adds its
    own subparser, and only `pip install` wires them together.
    """
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group="attune.commands"), key=lambda ep: ep.name)]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("attune-coach")
    except PackageNotFoundError:
        return "unknown"


def settings_from_args(args: argparse.Namespace) -> AttuneSettings:
    from agent.settings import load_settings

    try:
        settings = load_settings(
            model_path=getattr(args, "model", None),
            top_k=getattr(args, "top_k", None),
            candidates=getattr(args, "candidates", None),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"invalid setting {where}: {first['msg']}") from None
    announce_sources(settings)
    return settings


def announce_sources(settings: AttuneSettings) -> None:
    """Say which settings file and which model server are in force, once: neither may act unseen."""
    from agent.settings import config_file

    toml = config_file()
    said = [f"settings from {toml}"] if toml else []
    if settings.backend == "openai":
        said.append(f"answers come from the server at {settings.llm_base_url}")
    if said:
        print(f"attune: {'; '.join(said)}", file=sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    from agent.runtime import ingest_into, open_library
    from knowledge.loaders import SUPPORTED_SUFFIXES

    settings = settings_from_args(args)
    missing = [str(p) for p in args.paths or [] if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    library = open_library(settings)
    report = ingest_into(library, settings, args.paths or None, prune=args.prune, progress=not args.json)
    if args.json:
        print(
            json.dumps(
                {
                    "files_added": report.files_added,
                    "files_updated": report.files_updated,
                    "files_unchanged": report.files_unchanged,
                    "files_pruned": report.files_pruned,
                    "files_duplicate": [{"path": path, "same_as": twin} for path, twin in report.files_duplicate],
                    "files_unsupported": report.files_unsupported,
                    "failures": [{"path": f.path, "reason": f.reason} for f in report.failures],
                    "chunks_added": report.chunks_added,
                    "chunks_removed": report.chunks_removed,
                    "chunks_total": report.chunks_total,
                    "seconds": round(report.seconds, 3),
                },
                indent=2,
            )
        )
    else:
        changed = len(report.files_added) + len(report.files_updated)
        print(
            f"Ingested {changed} new or changed file(s), {len(report.files_unchanged)} unchanged"
            f"{f', {len(report.files_pruned)} pruned' if report.files_pruned else ''}: "
            f"+{report.chunks_added} / -{report.chunks_removed} passages, {report.chunks_total} in the library "
            f"({report.seconds:.1f} s)."
        )
        for path, twin in report.files_duplicate:
            print(f"skipped {path}: the same document is already in the library as {twin}", file=sys.stderr)
        for path in report.files_unsupported:
            print(f"skipped {path}: Attune reads {', '.join(sorted(SUPPORTED_SUFFIXES))} files", file=sys.stderr)
        for failure in report.failures:
            print(f"skipped {failure.path}: {failure.reason}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_forget(args: argparse.Namespace) -> int:
    import shutil

    from agent.practice.store import forget_sessions
    from agent.runtime import open_library
    from knowledge.ingest import BUNDLED_PREFIX

    settings = settings_from_args(args)
    both = not (args.sessions or args.documents)
    what = " and ".join(
        w for w, on in (("practice sessions", args.sessions or both), ("your documents", args.documents or both)) if on
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"this deletes {what} in {settings.home}; add --yes to confirm")
        answer = input(f"Delete {what} in {settings.home}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return EXIT_OK
    report: dict[str, object] = {}
    if args.sessions or both:
        report["sessions_deleted"] = forget_sessions(settings.sessions_db)
        shutil.rmtree(settings.plots_dir, ignore_errors=True)
    if args.documents or both:
        removed: list[str] = []
        if settings.chroma_path.exists():
            library = open_library(settings)
            for source in library.sources():
                if not source.startswith(BUNDLED_PREFIX):
                    library.delete_source(source)
                    removed.append(source)
            if removed and not settings.chroma_url:
                from knowledge.library import compact_index

                compact_index(settings.chroma_path, settings.collection)  # deleted text must not linger on disk
        shutil.rmtree(settings.uploads_dir, ignore_errors=True)
        report["documents_deleted"] = removed
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key.replace('_', ' ')}: {len(value) if isinstance(value, list) else value}")
    return EXIT_OK


def _answer_json(answer: Answer) -> dict[str, object]:
    from agent.prompts import GENERAL_ADVICE_NOTE

    t = answer.timings
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "grounded": answer.grounded,
        "grounding": "library" if answer.grounded else "general",
        "note": None if answer.grounded else GENERAL_ADVICE_NOTE,
        "sources": [
            {
                "n": n,
                "title": p.title,
                "section": p.section,
                "text": p.text,
                "source": p.source,
                "relevance": p.relevance,
                "cited": n in answer.cited,
            }
            for n, p in enumerate(answer.sources, 1)
        ],
        "cited": answer.cited,
        "scores": answer.scores.to_json() if answer.scores else None,
        "drafts": len(answer.drafts) or 1,
        "safety": answer.safety.to_json(),
        "timings": {
            "retrieval_ms": round(t.retrieval_ms, 1),
            "first_token_ms": round(t.first_token_ms, 1),
            "prompt_eval_ms": t.prompt_eval_ms,
            "prompt_tokens_evaluated": t.prompt_tokens_evaluated,
            "total_ms": round(t.total_ms, 1),
            "tokens": t.tokens,
            "tokens_per_s": round(t.tokens_per_s, 1),
        },
    }


def cmd_ask(args: argparse.Namespace) -> int:
    from agent.backends import make_chat_model
    from agent.coach import BadQuestion, clean_question, safety_answer
    from agent.prompts import GENERAL_ADVICE_NOTE
    from agent.runtime import build_coach, ingest_into, open_library
    from agent.safety import check_message, load_help_resources

    settings = settings_from_args(args)
    try:
        question = clean_question(args.question, settings.max_question_chars)  # refuse before loading anything
    except BadQuestion as exc:
        raise UsageError(str(exc)) from None
    verdict = check_message(question)
    if verdict.flagged:  # help at once: nothing is loaded, retrieved or generated
        answer = safety_answer(question, verdict, load_help_resources(settings.help_resources))
        print(json.dumps(_answer_json(answer), ensure_ascii=False, indent=2) if args.json else answer.text)
        return EXIT_OK
    model = make_chat_model(settings)  # a missing model file fails here, before any indexing
    library = open_library(settings)
    if library.count() == 0:
        print("The library is empty: indexing the bundled articles first.", file=sys.stderr)
        ingest_into(library, settings, progress=not args.json)
    coach = build_coach(settings, library, model)
    stream = coach.ask(args.question)
    if args.json:
        print(json.dumps(_answer_json(stream.result()), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not stream.passages and not stream.safety.flagged:
        print(f"({GENERAL_ADVICE_NOTE})\n")
    for piece in stream:
        print(piece, end="", flush=True)
    answer = stream.result()
    print()
    if answer.grounded:
        print("\nSources:")
        for n, p in enumerate(answer.sources, 1):
            mark = "" if n in answer.cited else "  (not cited)"
            print(f"  [{n}] {p.title}{' - ' + p.section if p.section else ''}{mark}")
            print(textwrap.indent(textwrap.shorten(p.text, 220, placeholder=" ..."), "      "))
    if answer.scores:
        e, nb = answer.scores.empathy, answer.scores.non_blame
        print(
            f"\nRubric: empathy {e.emotional_reactions.level}/{e.interpretations.level}/{e.explorations.level} "
            f"(reactions/interpretations/explorations, 0-2), non-blame {nb.score:.2f}"
            + (f", flagged: {', '.join(nb.horsemen)}" if nb.flagged else "")
        )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = args.handler
    try:
        if args.config is not None:
            if not args.config.is_file():
                raise UsageError(f"no settings file {args.config}")
            os.environ["ATTUNE_CONFIG"] = str(args.config.resolve())  # read when the settings are built
        return handler(args)
    except UsageError as exc:
        print(f"attune {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; the traceback with --verbose
        if args.verbose:
            raise
        from agent.backends import BackendUnavailable
        from knowledge.library import LibraryUnavailable

        code = EXIT_USAGE if isinstance(exc, BackendUnavailable | LibraryUnavailable) else EXIT_FAILED
        print(f"attune {args.command}: error: {exc}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
