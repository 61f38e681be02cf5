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
    settings_from_args,
)
from eval.commands import existing as _existing
from eval.commands import scorer_from_args


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
        figures["speed"] = _time_fast_scorer(rows, embed)
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
    _print_validation(figures, shown, args.show)
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


def _print_validation(figures: dict[str, Any], shown: dict[str, Any], show: int) -> None:
    if "empathy" in figures:
        e = figures["empathy"]
        print(f"Empathy model, {e['folds']}-fold cross-validation on {e['rows']} rows ({e['seconds']} s):")
        print(f"  {'mechanism':22}{'accuracy':>10}{'macro-F1':>10}{'majority acc':>14}{'majority F1':>13}")
        for m, r in e["mechanisms"].items():
            print(
                f"  {m:22}{r['accuracy']:>10.3f}{r['macro_f1']:>10.3f}{r['baseline_accuracy']:>14.3f}"
                f"{r['baseline_macro_f1']:>13.3f}"
            )
    if "speed" in figures:
        s = figures["speed"]
        print(f"Fast scorer, one reply at a time after loading: median {s['median_ms']} ms, p95 {s['p95_ms']} ms "
              f"over {s['replies']} replies.")
    if "judge" in figures:
        j = figures["judge"]
        print(f"LLM judge ({j['model']}) on {j['rows']} sampled rows, {j['failed']} invalid verdicts counted as 0:")
        for m, r in j["mechanisms"].items():
            print(f"  {m:22}{r['accuracy']:>10.3f}{r['macro_f1']:>10.3f}")
    if "blame" in figures:
        b = figures["blame"]
        print(f"Non-blame on {b['file']} ({b['turns']} turns):")
        print(f"  blaming turns flagged with a right horseman: {b['flagged_with_right_horseman']}/{b['blaming']} "
              f"({b['recall']:.1%}); flagged at all {b['flagged']}/{b['blaming']}")
        print(f"  clean turns flagged: {b['false_flags']}/{b['clean']} ({b['false_flag_rate']:.1%})")
        print(f"  ROC AUC {b['roc_auc']:.3f}, macro-F1 {b['macro_f1']:.3f}, "
              f"median {b['median_ms_per_reply']} ms per reply (whole scorer)")
        for k, r in b["per_horseman"].items():
            print(f"  {k:14} {r['named']:3}/{r['turns']:<3} named ({r['recall']:.0%}), flagged {r['flagged']}")
        report = shown["blame"]
        for t, sc in report.misses[:show]:
            print(f"  missed      [{'+'.join(t.kinds)}] p={sc.probability:.2f} named {sc.horsemen}: {t.text}")
        for t, sc in report.false_positives[:show]:
            print(f"  false flag  p={sc.probability:.2f} {sc.horsemen}: {t.text}")
    if "ucc" in figures:
        u = figures["ucc"]
        per = ", ".join(f"{k} {v:.3f}" for k, v in u["per_attribute_auc"].items())
        print(f"UCC: hostile/antagonistic/condescending/dismissive ({u['positives']}) vs confidently healthy "
              f"({u['negatives']}): ROC AUC {u['roc_auc']:.3f} ({per}); flagged {u['flagged_positives']:.1%} vs "
              f"{u['flagged_negatives']:.1%}")
    if "non_blame" in figures:
        n = figures["non_blame"]
        left = f"; {n['skipped_training_half']} answers to questions used in training left out" if n[
            "skipped_training_half"] else ""
        print(f"Non-blame: {n['flagged']} of {n['answers']} therapists' answers flagged ({n['flag_rate']:.1%}){left}.")
        for text, sc in shown["counselchat"].examples[:show]:
            print(f"  flagged p={sc.probability:.2f} {[f.span for f in sc.flags]}: {text[:160]}")


def _time_fast_scorer(rows: list, embed: Any, n: int = 100) -> dict[str, Any]:
    import statistics

    from eval.rubric import FastScorer

    scorer = FastScorer(embed)
    scorer.score(rows[0].context, rows[0].response)  # load the embedder and the model first
    times = []
    for row in rows[:n]:
        started = time.perf_counter()
        scorer.score(row.context, row.response)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "replies": len(times),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
    }


def _validate_judge(args: argparse.Namespace) -> dict[str, Any]:
    import random

    from sklearn.metrics import accuracy_score, f1_score
    from tqdm import tqdm

    from agent.backends import make_chat_model
    from agent.judge import JudgeFailed, JudgeScorer
    from eval.rubric import MECHANISMS
    from eval.rubric.train import read_epitome

    settings = settings_from_args(args)
    rows = read_epitome(_existing(args.epitome))
    sample = random.Random(0).sample(rows, min(args.judge_sample, len(rows)))
    judge = JudgeScorer(make_chat_model(settings))
    predicted: dict[str, list[int]] = {m: [] for m in MECHANISMS}
    failed = 0
    for row in tqdm(sample, desc="Judging", unit="reply"):
        try:
            levels = judge.score(row.context, row.response).empathy.levels()
        except JudgeFailed:
            failed += 1
            levels = dict.fromkeys(MECHANISMS, 0)
        for m in MECHANISMS:
            predicted[m].append(levels[m])
    out: dict[str, Any] = {"rows": len(sample), "failed": failed, "mechanisms": {}}
    out["model"] = str(settings.model.path or settings.model.base_url or "bundled SmolLM2-135M")
    for m in MECHANISMS:
        truth = [r.levels[m] for r in sample]
        out["mechanisms"][m] = {
            "accuracy": round(float(accuracy_score(truth, predicted[m])), 3),
            "macro_f1": round(float(f1_score(truth, predicted[m], average="macro", labels=[0, 1, 2])), 3),
        }
    return out
