"""`attune sessions`: the saved practice sessions, listed, or one shown as Markdown, JSON or a plot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agent.commands import EXIT_OK, UsageError, app_from_args


def register(sub: Any) -> None:
    s = sub.add_parser(
        "sessions",
        help="list saved practice sessions, or show one",
        description="List saved practice sessions (newest first), or show one as a Markdown transcript.",
    )
    s.add_argument("--json", action="store_true", help="print JSON")
    actions = s.add_subparsers(dest="action", metavar="ACTION", parser_class=type(s))
    show = actions.add_parser(
        "show", help="show one session's transcript", description="Show one session as Markdown (or JSON)."
    )
    show.add_argument("session_id", metavar="SESSION_ID")
    show.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    show.add_argument("--output", type=Path, metavar="FILE.md", help="write the Markdown to this file")
    show.add_argument("--plot", type=Path, metavar="FILE.png", help="also write the score plot here")
    s.set_defaults(handler=cmd_sessions)


def cmd_sessions(args: argparse.Namespace) -> int:
    from agent.practice.store import SessionNotFound
    from agent.practice.summary import plot_summary, summarize, to_markdown

    store = app_from_args(args).sessions
    if args.action == "show":
        try:
            record = store.load(args.session_id)
        except SessionNotFound as exc:
            raise UsageError(str(exc)) from None
        if args.plot:
            plot_summary(summarize(record), args.plot, record.scenario.title)
        if args.json:
            out = record.to_json()
            out["summary"] = summarize(record).to_json()
            print(json.dumps(out, ensure_ascii=False, indent=2))
        elif args.output:
            args.output.write_text(to_markdown(record), encoding="utf-8")
            print(f"wrote {args.output}")
        else:
            print(to_markdown(record))
        return EXIT_OK
    records = store.list()
    if args.json:
        print(json.dumps([r.to_json(turns=False) for r in records], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not records:
        print("No practice sessions yet: start one with `attune practice`.")
    for r in records:
        status = "ended" if r.ended_at else "open"
        turns = len(r.active_turns)
        print(f"{r.id}  {r.created_at}  {turns:2} turn(s)  {status:5}  {r.scenario.title} ({r.scenario.name})")
    return EXIT_OK
