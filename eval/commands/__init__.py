"""`attune eval`: score replies, run suites, compare runs, and (for developers) validate and train the rubric.

Registered with the `attune` command through the `attune.commands` entry point, so the agent never imports eval;
each group of actions lives in its own module here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent.commands import OneLineParser, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    from eval.commands import practice, suites, train, validate

    p = sub.add_parser(
        "eval",
        help="score replies with the rubric, run evaluation suites, compare runs",
        description="The rubric of empathy (EPITOME: emotional reactions, interpretations, explorations, 0-2 each) "
        "and non-blame (Gottman's four horsemen; 1.0 = no blame), and suites that run the coach and score it.",
    )
    p.set_defaults(handler=run_eval)
    actions = p.add_subparsers(dest="eval_command", metavar="ACTION", parser_class=OneLineParser, required=True)
    for module in (suites, practice, validate, train):
        module.add(actions)


def run_eval(args: argparse.Namespace) -> int:
    from eval.run import SuiteError

    try:
        return int(args.eval_handler(args))
    except SuiteError as exc:
        raise UsageError(str(exc)) from None


def existing(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    return path


def scorer_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The fast scorer, or the LLM judge with --judge."""
    from agent.commands import app_from_args

    app = app_from_args(args)
    if getattr(args, "judge", False):
        from agent.judge import JudgeScorer

        return JudgeScorer(app.model)
    return app.scorer
