"""The `attune` command: one entry point with a subcommand for each job.

Settings are built once per command from its flags and passed down; logging is configured only here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agent.commands import DISCLAIMER, EXIT_FAILED, EXIT_USAGE, OneLineParser, UsageError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from agent.commands import ask, library, models, practice, sessions

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
    for register in (
        library.register, ask.register, practice.register, sessions.register, models.register, *_plugin_commands()
    ):
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.config is not None:
            if not args.config.is_file():
                raise UsageError(f"no settings file {args.config}")
            os.environ["ATTUNE_CONFIG"] = str(args.config.resolve())  # read when the settings are built
        return int(args.handler(args))
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
