"""`attune eval`: score replies, run suites, compare runs, and (for developers) train and validate the rubric.

Registered with the `attune` command through the `attune.commands` entry point, so the agent never imports eval.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

from agent.cli import EXIT_FAILED, EXIT_OK, OneLineParser, UsageError, settings_from_args

_BUNDLED_BLAME_TRAIN = Path("<bundled>")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score replies with the rubric, run evaluation suites, compare runs",
        description="The rubric of empathy (EPITOME: emotional reactions, interpretations, explorations, 0-2 each) "
        "and non-blame (Gottman's four horsemen; 1.0 = no blame), and suites that run the coach and score it.",
    )
    p.set_defaults(handler=run_eval)
    actions = p.add_subparsers(dest="eval_command", metavar="ACTION", parser_class=OneLineParser, required=True)

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
        help="rubric-guided answering: redraft up to N times when a draft falls short (default 3)",
    )
    run.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    run.add_argument("--check", action="store_true", help="fail when scores fall below eval/thresholds.toml")

    compare = actions.add_parser(
        "compare", help="compare two runs side by side", description="Write a side-by-side report of two runs."
    )
    compare.add_argument("a", type=Path, metavar="RUN_A")
    compare.add_argument("b", type=Path, metavar="RUN_B")
    compare.add_argument("--out", type=Path, metavar="DIR", help="where to write it (default: RUN_A/compare)")

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


def run_eval(args: argparse.Namespace) -> int:
    from eval.run import SuiteError

    handler = {
        "score": _score,
        "run": _run,
        "compare": _compare,
        "validate": _validate,
        "train": _train,
        "safety": _safety,
    }[args.eval_command]
    try:
        return handler(args)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None


def _scorer(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from agent.runtime import make_scorer

    settings = settings_from_args(args)
    if getattr(args, "judge", False):
        from agent.backends import make_chat_model
        from agent.judge import JudgeScorer

        return JudgeScorer(make_chat_model(settings))
    return make_scorer(settings)


def _score(args: argparse.Namespace) -> int:
    from agent.judge import JudgeFailed
    from eval.run import read_score_requests

    requests = read_score_requests(args.file)
    scorer = _scorer(args)
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
    from agent.backends import make_chat_model
    from agent.runtime import build_coach, ingest_into, open_library
    from eval.report import write_report
    from eval.run import check, read_suite, run_suite, summaries

    if args.candidates is not None and not 1 <= args.candidates <= 8:
        raise UsageError("--candidates must be between 1 and 8")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    cases = read_suite(args.suite)[: args.limit]
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"{args.out} exists and is not a folder")
    settings = settings_from_args(args)
    model = make_chat_model(settings)
    library = open_library(settings)
    if library.count() == 0:
        print("The library is empty: indexing the bundled articles first.", file=sys.stderr)
        ingest_into(library, settings)
    coach = build_coach(settings, library, model)
    assert coach.scorer is not None
    candidates = args.candidates or 3
    started = time.perf_counter()
    results = run_suite(cases, lambda q: coach.ask(q, candidates=candidates).result(), coach.scorer, args.out)
    rows = [r.to_json() for r in results]
    report = write_report(rows, args.out, title=f"Attune evaluation: {args.suite.name}")
    groups = summaries(rows)
    print(
        f"{len(rows)} answers in {time.perf_counter() - started:.0f} s. Results: {args.out / 'results.jsonl'}; "
        f"report: {report}"
    )
    for name, s in groups.items():
        print(
            f"  {name:18} empathy {s.empathy_total:.2f}/6  non-blame {s.non_blame:.3f}  "
            f"flagged {s.flagged_share:.0%}  (n={s.n})"
        )
    if args.check:
        failures = check(groups["coach"], _thresholds())
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

        from agent.runtime import make_embed
        from eval.rubric.train import cross_validate, read_epitome

        rows = read_epitome(args.epitome)
        embed = make_embed(settings_from_args(args))
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

    scorer = _scorer(args)
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
    out["model"] = str(settings.model_path or settings.llm_base_url or "bundled SmolLM2-135M")
    for m in MECHANISMS:
        truth = [r.levels[m] for r in sample]
        out["mechanisms"][m] = {
            "accuracy": round(float(accuracy_score(truth, predicted[m])), 3),
            "macro_f1": round(float(f1_score(truth, predicted[m], average="macro", labels=[0, 1, 2])), 3),
        }
    return out


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
    elif settings.safety_classifier and not args.rules_only:
        from agent.runtime import make_safety_check

        check = make_safety_check(settings)
    report = evaluate(examples, check) if check is not None else evaluate(examples)
    if args.json:
        print(json.dumps(report.to_json() | {"classifier": check is not None}, indent=2, ensure_ascii=False))
    else:
        for kind in ("explicit", "indirect", "past", "hard_negative", "ordinary"):
            if report.counts.get(kind):
                what = "caught" if kind in ("explicit", "indirect", "past") else "flagged"
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
    from agent.runtime import make_embed
    from agent.safety import SafetyCheck
    from eval.safety import bundled_set, read_counselchat_questions, read_labelled, train_safety_model, training_set

    if not args.counselchat:
        raise UsageError("--train needs --counselchat FILE.jsonl (real questions to learn what is ordinary)")
    embed = make_embed(settings)
    model, report = train_safety_model(
        read_labelled(bundled_set()) + read_labelled(training_set()),
        read_counselchat_questions(_existing(args.counselchat)),
        embed,
    )
    out = args.out or Path(str(files("agent") / "safety_model.npz"))
    model.save(out)
    print(f"trained: {json.dumps(report.to_json())}; saved {out}", file=sys.stderr)
    return SafetyCheck(embed, model)


def _train(args: argparse.Namespace) -> int:
    from agent.runtime import make_embed

    embed = make_embed(settings_from_args(args))
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

    path = args.blame
    if path == _BUNDLED_BLAME_TRAIN:
        path = Path(str(files("eval") / "suites" / "blame_train.jsonl"))
    try:
        turns = read_turns(_existing(path))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    advice, ids = counselchat_advice_sentences(_existing(args.counselchat)) if args.counselchat else ([], [])
    model, cv = train_blame_model(
        turns, advice, embed, load_rubric().non_blame,
        {"trained_on": path.name, "advice_from": args.counselchat.name if args.counselchat else None,
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


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    return path
