"""`attune eval practice`: the practice quality suite (fixed user scripts through every scenario) on the
configured model, with the figures printed and the transcripts in an HTML report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agent.commands import EXIT_OK, UsageError, app_from_args


def add(actions: Any) -> None:
    p = actions.add_parser(
        "practice",
        help="play fixed scripts through every practice scenario and check the partner, the state and the rewrites",
        description="Play fixed user scripts (skilful, blaming, subtle, mixed, repairing; three turns each) through "
        "the practice scenarios on the configured model, in memory. Report partner lines passing the character "
        "checks (by source: model or scenario card), card leaks, role swaps, parroting and repeats, whether the "
        "other person's openness moved the expected way, and rewrites that score better or keep flagged words. "
        "Writes OUT/results.jsonl and OUT/report.html with every transcript.",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument("--model", type=Path, metavar="FILE.gguf", help="a GGUF model instead of the default one")
    p.add_argument("--scenarios", metavar="ID,ID|N", help="these scenarios, or the first N (default: all)")
    p.add_argument("--scripts", metavar="NAME,NAME", help="these scripts (default: all five)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(eval_handler=_practice)


def _practice(args: argparse.Namespace) -> int:
    from eval.practice_suite import SCRIPTS, run_practice_suite

    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"{args.out} exists and is not a folder")
    scripts = args.scripts.split(",") if args.scripts else list(SCRIPTS)
    unknown = [s for s in scripts if s not in SCRIPTS]
    if unknown:
        raise UsageError(f"no script {', '.join(unknown)}; the scripts are {', '.join(SCRIPTS)}")
    app = app_from_args(args)
    everything = app.scenarios()
    if not args.scenarios:
        chosen = list(everything.values())
    elif args.scenarios.isdigit() and int(args.scenarios) > 0:
        chosen = list(everything.values())[: int(args.scenarios)]
    else:
        missing = [s for s in args.scenarios.split(",") if s not in everything]
        if missing:
            raise UsageError(f"no scenario {', '.join(missing)}; `attune practice --list` shows them")
        chosen = [everything[s] for s in args.scenarios.split(",")]
    report = run_practice_suite(app, chosen, scripts, args.out)
    figures = report.figures()
    if args.json:
        print(json.dumps(figures, indent=2))
        return EXIT_OK
    lines, passing = figures["partner_lines"], figures["lines_passing"]
    print(f"{figures['runs']} runs, {lines} partner lines: {passing} pass the character checks "
          f"({figures['lines_passing_share']:.0%}); by source {json.dumps(figures['by_source'])}")
    print(f"failures: {json.dumps(figures['failures'])}")
    print(f"openness as expected, per script: {json.dumps(figures['direction_ok'])}")
    print(f"rewrites: {figures['rewrites']}, better on the rubric {figures['rewrites_better']}, keeping flagged words "
          f"{figures['rewrites_keeping_flagged_words']}; safety stops {figures['safety_stops']}")
    print(f"report: {args.out / 'report.html'}")
    return EXIT_OK
