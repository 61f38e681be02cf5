"""`attune eval validate`: the rubric against human labels (EPITOME, labelled conflict turns, UCC, CounselChat)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from agent.commands import (
    EXIT_OK,
    UsageError,
    app_from_args,
)
from eval.commands import existing as _existing
from eval.commands import scorer_from_args
from eval.validation import judge_agreement, print_validation, time_fast_scorer


def add(actions: Any) -> None:
    validate = actions.add_parser(
        "validate",
        help="measure the rubric against human labels (development data)",
        description="Cross-validate the empathy model on EPITOME-format data; measure the non-blame classifier on "
        "labelled conflict turns (--blame), on UCC comments (--ucc) and on therapists' answers (--counselchat).",
    )
    validate.add_argument("--epitome", type=Path, metavar="FILE.jsonl")
    validate.add_argument(
        "--blame",
        type=Path,
        metavar="FILE.jsonl",
        help='labelled turns {"id", "context", "text", "kinds": [horsemen]}: recall per horseman, false flags, '
        "ROC AUC, macro-F1, speed per reply",
    )
    validate.add_argument(
        "--ucc", type=Path, metavar="FILE.jsonl", help="Unhealthy Comments Corpus rows: ROC AUC of the blame score"
    )
    validate.add_argument("--counselchat", type=Path, metavar="FILE.jsonl")
    validate.add_argument(
        "--folds", type=int, default=5, metavar="K", help="cross-validation folds (default 5; 0 skips it)"
    )
    validate.add_argument(
        "--judge-sample",
        type=int,
        default=0,
        metavar="N",
        help="also score N EPITOME rows (a fixed random sample) with the LLM judge and report its agreement",
    )
    validate.add_argument("--show", type=int, default=0, metavar="N", help="with --blame: list up to N misses and "
                          "false flags")
    validate.add_argument("--json", action="store_true", help="print the figures as JSON")

    validate.set_defaults(eval_handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    if not (args.epitome or args.counselchat or args.blame or args.ucc):
        raise UsageError("give --epitome FILE, --blame FILE, --ucc FILE or --counselchat FILE (any of them)")
    if args.folds == 1 or args.folds < 0:
        raise UsageError("--folds must be 0 (skip cross-validation) or at least 2")
    if args.show < 0:
        raise UsageError("--show must be 0 or more")
    for given in (args.epitome, args.blame, args.ucc, args.counselchat):
        if given:
            _existing(given)
    figures: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    if args.epitome and args.folds:
        from tqdm import tqdm

        from eval.rubric.train import cross_validate, read_epitome

        rows = read_epitome(args.epitome)
        embed = app_from_args(args).embed
        started = time.perf_counter()
        with tqdm(total=args.folds, desc="Cross-validating", unit="fold") as bar:
            report = cross_validate(
                rows, embed, folds=args.folds, on_fold=lambda _: bar.update(), adjust=_substance_check(embed)
            )
        figures["speed"] = time_fast_scorer(rows, embed)
        figures["empathy"] = {
            "rows": len(rows),
            "folds": args.folds,
            "seconds": round(time.perf_counter() - started, 1),
            "mechanisms": {m: vars(r) for m, r in report.items()},
        }
    if args.epitome and args.judge_sample > 0:
        figures["judge"] = _validate_judge(args)
    if args.blame or args.ucc or args.counselchat:
        figures |= _validate_blame(args, shown)
    if args.json:
        print(json.dumps(figures, indent=2))
        return EXIT_OK
    print_validation(figures, shown, args.show)
    return EXIT_OK


def _substance_check(embed: Any) -> Any:
    """The fast scorer's substance checks, for cross-validated empathy levels."""
    from eval.rubric import FastScorer

    return FastScorer(embed).credit_substance


def _validate_blame(args: argparse.Namespace, shown: dict[str, Any]) -> dict[str, Any]:
    from eval.blame_report import evaluate_counselchat, evaluate_turns, evaluate_ucc, read_ucc
    from eval.rubric.train import read_turns

    scorer = scorer_from_args(args)
    scorer.score("warm-up", "Loading the models first.")

    def non_blame(texts: list[str]) -> list[Any]:
        return [s.non_blame for s in scorer.score_many([("", t) for t in texts])]

    figures: dict[str, Any] = {}
    if args.blame:
        try:
            turns = read_turns(args.blame)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        report = evaluate_turns(turns, non_blame)
        figures["blame"] = {"file": args.blame.name, **report.to_json()}
        shown["blame"] = report
    if args.ucc:
        try:
            figures["ucc"] = evaluate_ucc(read_ucc(args.ucc), non_blame).to_json()
        except (ValueError, KeyError) as exc:
            raise UsageError(f"{args.ucc}: {exc}") from None
    if args.counselchat:
        trained_on = scorer.blame.meta.get("advice_question_ids", [])
        cc = evaluate_counselchat(args.counselchat, non_blame, trained_on)
        figures["non_blame"] = cc.to_json()
        shown["counselchat"] = cc
    return figures


def _validate_judge(args: argparse.Namespace) -> dict[str, Any]:
    from agent.judge import JudgeScorer
    from eval.rubric.train import read_epitome

    app = app_from_args(args)
    model = app.settings.model
    name = str(model.path or model.base_url or "bundled SmolLM2-135M")
    return judge_agreement(read_epitome(_existing(args.epitome)), JudgeScorer(app.model), args.judge_sample, name)
