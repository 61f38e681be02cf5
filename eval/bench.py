"""`attune bench`: measure speed and memory on this machine and print each figure beside its target.

The measuring lives in `eval.benchmarks`; this is the command around it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.commands import EXIT_FAILED, EXIT_OK, UsageError, settings_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure speed and memory on this machine (decode, first token, retrieval, ingest, cold start)",
        description="Measure Attune on this machine in a throwaway data folder: decode speed against "
        "llama-cpp-python's own Llama, time to first token over two interleaved practice sessions, warm `ask`, "
        "retrieval on the bundled library and on a synthetic one, ingest, cold start and peak memory.",
        epilog="Exit status: 0 when done (with --check, when every target is met), 1 when a target is missed.",
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    p.add_argument("--model", type=Path, metavar="FILE.gguf", help="a GGUF model instead of the bundled one")
    p.add_argument("--turns", type=int, default=20, metavar="N", help="turns per practice session (default 20)")
    p.add_argument(
        "--chunks", type=int, default=100_000, metavar="N", help="synthetic passages (default 100000; 0: none)"
    )
    p.add_argument("--questions", type=int, default=40, metavar="N", help="questions timed for retrieval (default 40)")
    p.add_argument("--repeats", type=int, default=8, metavar="N", help="decode runs of each kind (default 8)")
    p.set_defaults(handler=run_bench_command)


def run_bench_command(args: argparse.Namespace) -> int:
    from eval.benchmarks import format_table, run_bench

    if args.turns < 1 or args.chunks < 0 or args.questions < 6 or args.repeats < 1:
        raise UsageError("--turns and --repeats must be at least 1, --questions at least 6, --chunks 0 or more")
    settings = settings_from_args(args)
    try:
        result = run_bench(
            settings, turns=args.turns, chunks=args.chunks, questions=args.questions, repeats=args.repeats
        )
    except RuntimeError as exc:
        print(f"attune bench: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result.to_json(), indent=2) if args.json else format_table(result))
    return EXIT_FAILED if args.check and not all(result.met().values()) else EXIT_OK

