"""`attune eval score`, `run` and `compare`: score replies, run a suite through the coach, compare two runs."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

from agent.commands import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    app_from_args,
    say,
    setting_default,
)
from eval.commands import scorer_from_args


def add(actions: Any) -> None:
    score = actions.add_parser(
        "score",
        help="score replies from a JSON Lines file",
        description='Score each line {"id", "context", "response"}; print one JSON line per input, in order.',
    )
    score.add_argument("file", type=Path, metavar="FILE.jsonl")
    score.add_argument("--judge", action="store_true", help="ask the chat model instead of the fast scorer")
    score.add_argument("--evidence", action="store_true", help="include the evidence spans for empathy levels")

    run = actions.add_parser(
        "run",
        help="run the coach over a suite of questions and write results and a report",
        description='Answer every {"id", "question"} line of the suite, score each answer (and any human '
        "references), and write OUT/results.jsonl and OUT/report.html with PNG plots.",
        epilog="Exit status: 0 when done (and, with --check, every threshold met), 1 when a check fails.",
    )
    run.add_argument("--suite", type=Path, required=True, metavar="FILE.jsonl")
    run.add_argument("--out", type=Path, required=True, metavar="DIR")
    run.add_argument("--model", type=Path, metavar="FILE.gguf", help="a GGUF model instead of the bundled one")
    run.add_argument(
        "--candidates",
        type=int,
        metavar="N",
        help="rubric-guided answering: redraft up to N times when a draft falls short "
        f"(default {setting_default('ask.candidates')}, as for `attune ask`)",
    )
    run.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    run.add_argument("--check", action="store_true", help="fail when scores fall below eval/thresholds.toml")

    compare = actions.add_parser(
        "compare", help="compare two runs side by side", description="Write a side-by-side report of two runs."
    )
    compare.add_argument("a", type=Path, metavar="RUN_A")
    compare.add_argument("b", type=Path, metavar="RUN_B")
    compare.add_argument("--out", type=Path, metavar="DIR", help="where to write it (default: RUN_A/compare)")

    for name, handler in (("score", _score), ("run", _run), ("compare", _compare)):
        actions.choices[name].set_defaults(eval_handler=handler)


def _score(args: argparse.Namespace) -> int:
    from agent.judge import JudgeFailed
    from eval.run import read_score_requests

    requests = read_score_requests(args.file)
    scorer = scorer_from_args(args)
    many = getattr(scorer, "score_many", None)
    failed = 0
    batch = 32
    for start in range(0, len(requests), batch):
        chunk = requests[start : start + batch]
        if many:
            scores = many([(r.context, r.response) for r in chunk])
        else:
            scores = []
            for r in chunk:
                try:
                    scores.append(scorer.score(r.context, r.response))
                except JudgeFailed as exc:
                    failed += 1
                    print(json.dumps({"id": r.id, "error": str(exc)}), flush=True)
                    scores.append(None)
        for r, s in zip(chunk, scores, strict=True):
            if s is not None:
                print(json.dumps({"id": r.id, **s.to_json(evidence=args.evidence)}, ensure_ascii=False), flush=True)
    return EXIT_FAILED if failed else EXIT_OK


def _thresholds():  # type: ignore[no-untyped-def]
    from eval.run import Thresholds

    data = tomllib.loads(files("eval").joinpath("thresholds.toml").read_text(encoding="utf-8"))
    return Thresholds(**data["default"])


def _run(args: argparse.Namespace) -> int:
    from eval.rubric import EMPATHY_MAX
    from eval.run import check, read_suite
    from eval.suite import evaluate_suite

    if args.candidates is not None and not 1 <= args.candidates <= 8:
        raise UsageError("--candidates must be between 1 and 8")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    read_suite(args.suite)  # a bad suite fails here, before the model loads
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"{args.out} exists and is not a folder")
    app = app_from_args(args)
    _ = app.model  # a missing model file fails before any indexing
    app.prepare_library(say)
    run = evaluate_suite(app, args.suite, args.out, limit=args.limit)
    print(f"{len(run.results)} answers in {run.seconds:.0f} s. Results: {args.out / 'results.jsonl'}; "
          f"report: {run.report}")
    for name, s in run.groups.items():
        print(
            f"  {name:18} empathy {s.empathy_total:.2f}/{EMPATHY_MAX}  non-blame {s.non_blame:.3f}  "
            f"flagged {s.flagged_share:.0%}  (n={s.n})"
        )
    if args.check:
        failures = check(run.groups["coach"], _thresholds())
        for f in failures:
            print(f"check failed: {f}", file=sys.stderr)
        return EXIT_FAILED if failures else EXIT_OK
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from eval.report import write_comparison
    from eval.run import read_results

    a, b = read_results(args.a), read_results(args.b)
    out = args.out or (args.a if args.a.is_dir() else args.a.parent) / "compare"
    names = (args.a.name or "A", args.b.name or "B")
    if names[0] == names[1]:
        names = (f"A: {names[0]}", f"B: {names[1]}")
    path = write_comparison(a, b, names, out)
    print(f"Comparison of {len(a)} and {len(b)} answers: {path}")
    return EXIT_OK
