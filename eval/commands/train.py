"""`attune eval safety` and `attune eval train`: measure the safety check; refit the rubric's and the safety
check's learned models (for developers)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

from agent.commands import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    app_from_args,
    settings_from_args,
)
from eval.commands import existing as _existing

_BUNDLED_BLAME_TRAIN = Path("<bundled>")
# blame_test2 has been measured (docs/measurements.md), so it trains; blame_test, blame_test3 and blame_test4 are
# frozen test parts (a retraining with blame_test3 was worse on blame_test4 and was reverted).
BUNDLED_BLAME_TRAINING = ("blame_train.jsonl", "blame_train2.jsonl", "blame_test2.jsonl")


def add(actions: Any) -> None:
    safety = actions.add_parser(
        "safety",
        help="measure the safety check on a labelled set",
        description="Run the safety check over a labelled set (default: the bundled eval/suites/safety.jsonl plus "
        "the questions of the bundled suites as ordinary questions) and report recall on disclosures and the "
        "false-positive rate on ordinary questions and hard negatives.",
        epilog="Targets: every explicit disclosure caught; at most 2% of ordinary questions flagged. "
        "Exit status 1 with --check when a target is missed.",
    )
    safety.add_argument("--set", type=Path, metavar="FILE.jsonl", help='labelled lines {"id", "text", "flagged", '
                        '"category", "kind"} (default: the bundled set)')
    safety.add_argument("--json", action="store_true", help="print the figures as JSON")
    safety.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    safety.add_argument("--rules-only", action="store_true", help="measure the rules without the learned classifier")
    safety.add_argument(
        "--train",
        action="store_true",
        help="developers: refit the learned classifier on the labelled set plus --counselchat questions as "
        "negatives, then measure",
    )
    safety.add_argument("--counselchat", type=Path, metavar="FILE.jsonl", help="with --train: real questions")
    safety.add_argument("--out", type=Path, metavar="FILE.npz", help="with --train: where to save (default: shipped)")

    train = actions.add_parser(
        "train",
        help="fit the empathy model or the non-blame classifier (development)",
        description="Fit the empathy model on EPITOME-format data (--epitome), or the non-blame classifier on "
        "labelled conflict turns (--blame; default eval/suites/blame_train.jsonl) with sentences of therapists' "
        "answers as examples of advice that blames no one (--counselchat), and save it (default: the one Attune "
        "ships).",
    )
    what = train.add_mutually_exclusive_group(required=True)
    what.add_argument("--epitome", type=Path, metavar="FILE.jsonl")
    what.add_argument(
        "--blame", type=Path, nargs="?", const=_BUNDLED_BLAME_TRAIN, metavar="FILE.jsonl",
        help="labelled turns to train the non-blame classifier on (default: the bundled training part)",
    )
    train.add_argument("--counselchat", type=Path, metavar="FILE.jsonl", help="with --blame: therapists' answers")
    train.add_argument("--out", type=Path, metavar="FILE.npz")


    safety.set_defaults(eval_handler=_safety)
    train.set_defaults(eval_handler=_train)


def _safety(args: argparse.Namespace) -> int:
    from eval.safety import bundled_set, evaluate, ordinary_from_suites, read_labelled

    if args.set:
        examples = read_labelled(_existing(args.set))
    else:
        suites = files("eval") / "suites"
        examples = read_labelled(bundled_set()) + ordinary_from_suites(
            [Path(str(suites / "relationship_questions.jsonl")), Path(str(suites / "counselchat.jsonl"))]
        )
    settings = settings_from_args(args)
    check = None
    if args.train:
        check = _train_safety(args, settings)
    elif settings.safety.classifier and not args.rules_only:
        from agent.app import Attune

        check = Attune(settings).safety_check
    report = evaluate(examples, check) if check is not None else evaluate(examples)
    if args.json:
        print(json.dumps(report.to_json() | {"classifier": check is not None}, indent=2, ensure_ascii=False))
    else:
        for kind in ("explicit", "indirect", "narrative", "past", "hard_negative", "ordinary"):
            if report.counts.get(kind):
                what = "caught" if kind in ("explicit", "indirect", "narrative", "past") else "flagged"
                print(f"{kind:14} {report.caught.get(kind, 0):3}/{report.counts[kind]:<3} {what} "
                      f"({report.rate(kind):.1%})")
        for ex in report.misses:
            print(f"missed          {ex.id} [{ex.kind}, {ex.category}] {ex.text}")
        for ex, category in report.false_positives:
            print(f"false positive  {ex.id} [{ex.kind}, flagged {category}] {ex.text}")
        for ex, category in report.wrong_category:
            print(f"other category  {ex.id} [{ex.category} -> {category}] {ex.text}")
        print("targets met" if report.meets_targets else "TARGETS MISSED: every explicit disclosure caught, "
              "at most 2% of ordinary questions flagged")
    return EXIT_FAILED if args.check and not report.meets_targets else EXIT_OK


def _train_safety(args: argparse.Namespace, settings: Any) -> Any:
    from agent.app import Attune
    from agent.safety import SafetyCheck
    from eval.safety import bundled_set, read_counselchat_questions, read_labelled, train_safety_model, training_sets

    if not args.counselchat:
        raise UsageError("--train needs --counselchat FILE.jsonl (real questions to learn what is ordinary)")
    embed = Attune(settings).embed
    model, report = train_safety_model(
        # Long narrative posts are left out: the classifier reads single sentences.
        [ex for path in [bundled_set(), *training_sets()] for ex in read_labelled(path) if ex.kind != "narrative"],
        read_counselchat_questions(_existing(args.counselchat)),
        embed,
    )
    out = args.out or Path(str(files("agent") / "safety_model.npz"))
    model.save(out)
    print(f"trained: {json.dumps(report.to_json())}; saved {out}", file=sys.stderr)
    return SafetyCheck(embed, model)


def _train(args: argparse.Namespace) -> int:
    embed = app_from_args(args).embed
    started = time.perf_counter()
    if args.blame:
        return _train_blame(args, embed, started)
    from eval.rubric.empathy import MODEL_FILE
    from eval.rubric.train import read_epitome, train_empathy_model

    rows = read_epitome(_existing(args.epitome))
    out = args.out or Path(str(files("eval.rubric").joinpath(MODEL_FILE)))
    model = train_empathy_model(rows, embed, {"trained_on": args.epitome.name})
    model.save(out)
    print(
        f"Trained on {len(rows)} rows in {time.perf_counter() - started:.0f} s; saved {out} "
        f"({out.stat().st_size / 1e6:.1f} MB)."
    )
    return EXIT_OK


def _train_blame(args: argparse.Namespace, embed: Any, started: float) -> int:
    from eval.rubric import load_rubric
    from eval.rubric.blame import MODEL_FILE
    from eval.rubric.train import counselchat_advice_sentences, read_turns, train_blame_model

    suites = files("eval") / "suites"
    paths = [Path(str(suites / name)) for name in BUNDLED_BLAME_TRAINING] if args.blame == _BUNDLED_BLAME_TRAIN \
        else [args.blame]
    try:
        turns = [turn for p in paths for turn in read_turns(_existing(p))]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    advice, ids = counselchat_advice_sentences(_existing(args.counselchat)) if args.counselchat else ([], [])
    model, cv = train_blame_model(
        turns, advice, embed, load_rubric().non_blame,
        {"trained_on": ", ".join(p.name for p in paths),
         "advice_from": args.counselchat.name if args.counselchat else None,
         "advice_question_ids": ids},
    )
    out = args.out or Path(str(files("eval.rubric").joinpath(MODEL_FILE)))
    model.save(out)
    print(
        f"Trained on {len(turns)} turns and {len(advice)} advice sentences in {time.perf_counter() - started:.0f} s; "
        f"out of fold: {cv['cv_recall']:.1%} of blaming turns flagged, {cv['cv_false_flags']:.1%} of clean turns "
        f"(threshold {cv['threshold']:.3f}); saved {out} ({out.stat().st_size / 1e3:.0f} kB)."
    )
    return EXIT_OK
