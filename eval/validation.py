"""What `attune eval validate` measures beyond the rubric's own reports: the scorer's speed, the LLM judge's
agreement with human labels, and the text the command prints."""

from __future__ import annotations

import time
from typing import Any


def time_fast_scorer(rows: list, embed: Any, n: int = 100) -> dict[str, Any]:
    """Median and p95 milliseconds per reply of the fast scorer, one reply at a time, after loading."""
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


def print_validation(figures: dict[str, Any], shown: dict[str, Any], show: int) -> None:
    """The figures of `attune eval validate` as text, with up to `show` misses and false flags."""
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


def judge_agreement(rows: list, judge: Any, sample: int, model_name: str) -> dict[str, Any]:
    """Accuracy and macro-F1 of the LLM judge's empathy levels on a fixed random sample of EPITOME rows."""
    import random

    from sklearn.metrics import accuracy_score, f1_score
    from tqdm import tqdm

    from agent.judge import JudgeFailed
    from eval.rubric import MECHANISMS

    chosen = random.Random(0).sample(rows, min(sample, len(rows)))
    predicted: dict[str, list[int]] = {m: [] for m in MECHANISMS}
    failed = 0
    for row in tqdm(chosen, desc="Judging", unit="reply"):
        try:
            levels = judge.score(row.context, row.response).empathy.levels()
        except JudgeFailed:
            failed += 1
            levels = dict.fromkeys(MECHANISMS, 0)
        for m in MECHANISMS:
            predicted[m].append(levels[m])
    out: dict[str, Any] = {"rows": len(chosen), "failed": failed, "model": model_name, "mechanisms": {}}
    for m in MECHANISMS:
        truth = [r.levels[m] for r in chosen]
        out["mechanisms"][m] = {
            "accuracy": round(float(accuracy_score(truth, predicted[m])), 3),
            "macro_f1": round(float(f1_score(truth, predicted[m], average="macro", labels=[0, 1, 2])), 3),
        }
    return out
