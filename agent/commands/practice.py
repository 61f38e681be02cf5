"""`attune practice`: role-play a conflict conversation in one non-interactive call (`--say`), or hand over to
the terminal conversation in `practice_chat`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.commands import EXIT_OK, UsageError, app_from_args, say
from agent.commands.practice_chat import (
    interactive,
    pick_scenario,
    plot_for,
    print_comparison,
    print_turn,
    safety_text,
)

if TYPE_CHECKING:
    from agent.app import Attune
    from agent.practice.scenarios import Scenario
    from agent.practice.session import PracticeSession

RELATIONSHIPS = ("partner", "friend", "family", "coworker")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "practice",
        help="role-play a hard conversation and get coached on every turn",
        description="Practise a conflict conversation: Attune plays the other person and, after each of your "
        "turns, scores it on the rubric (empathy, non-blame), quotes what worked and what sounded like blame, "
        "and suggests a better way to say it. With no --say, the session is interactive: type your turns, "
        "/retry to redo the last one, /end for the summary and plot. Sessions are saved as you go.",
        epilog="Examples: attune practice --list; attune practice --scenario plans-changed; "
        "attune practice --scenario plans-changed --say \"I feel hurt when plans change.\" --json",
    )
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--json", action="store_true", help="print JSON (with --list or --say)")
    p.add_argument("--scenario", metavar="ID", help="the scenario to practise (see --list)")
    p.add_argument("--describe", metavar="TEXT", help="describe your own conflict to build a scenario from it")
    p.add_argument("--relationship", choices=RELATIONSHIPS, default="partner", help="with --describe (default partner)")
    p.add_argument("--name", default="Sam", help="with --describe: the other person's name (default Sam)")
    p.add_argument("--say", action="append", metavar="TEXT", help="a turn to say (repeatable): no prompt, one run")
    p.add_argument("--retry", metavar="TEXT", help="after the --say turns, say the last turn again this way")
    p.add_argument("--end", action="store_true", help="after the --say turns, end the session: summary and plot")
    p.add_argument("--resume", metavar="SESSION_ID", help="continue a saved session")
    p.add_argument(
        "--no-save", action="store_true", help="don't save: keep this session in memory only and write nothing to disk"
    )
    p.add_argument("--model", type=Path, metavar="FILE.gguf", help="a GGUF model file instead of the bundled one")
    p.set_defaults(handler=cmd_practice)


def cmd_practice(args: argparse.Namespace) -> int:
    from agent.practice.scenarios import load_scenarios

    if args.list:
        scenarios = load_scenarios().values()
        if args.json:
            rows = [
                {"id": s.id, "title": s.title, "relationship": s.relationship, "name": s.name,
                 "difficulty": s.difficulty, "style": s.style}
                for s in scenarios
            ]
            print(json.dumps(rows, indent=2))
        else:
            for s in scenarios:
                print(f"{s.id:24} {s.relationship:9} {s.difficulty:7} {s.title} (with {s.name}, {s.style})")
        return EXIT_OK
    chosen = [bool(args.scenario), bool(args.describe), bool(args.resume)]
    if sum(chosen) > 1:
        raise UsageError("give one of --scenario, --describe or --resume")
    if args.no_save and args.resume:
        raise UsageError("--no-save cannot resume a saved session")
    if (args.retry or args.end) and not (args.say or args.resume):
        raise UsageError("--retry and --end act on a session: give --say turns or --resume ID")
    talk = not (args.say or args.retry or args.end)
    if args.json and talk:
        raise UsageError("--json needs --say (the non-interactive mode)")
    if not talk and sum(chosen) == 0:
        raise UsageError("say which scenario: --scenario ID (see --list), --describe TEXT or --resume ID")

    app = app_from_args(args)
    session = _open_session(app, args, talk)
    return interactive(app, session) if talk else _scripted(app, session, args)


def _open_session(app: Attune, args: argparse.Namespace, talk: bool) -> PracticeSession:
    from agent.practice.scenarios import ScenarioRefused, get_scenario
    from agent.practice.store import SessionNotFound

    if args.resume:
        try:
            resumed = app.sessions.load(args.resume)
        except SessionNotFound as exc:
            raise UsageError(str(exc)) from None
        if resumed.ended_at is not None:
            raise UsageError(
                f"session {args.resume} has ended ({resumed.ended_reason or 'user'}); "
                f"`attune sessions show {args.resume}` shows it, --scenario starts a new one"
            )
        if talk:
            say("Loading the model ...")
        return app.resume_practice(args.resume)
    scenario: Scenario | None = None
    if args.scenario:
        try:
            scenario = get_scenario(args.scenario)
        except ScenarioRefused as exc:
            raise UsageError(str(exc)) from None
    elif not args.describe:
        scenario = pick_scenario(app)
    if talk:
        say("Loading the model ...")
    if args.describe:
        try:
            scenario = app.scenario_from_description(args.describe, args.relationship, args.name)
        except ScenarioRefused as exc:
            raise UsageError(str(exc)) from None
    assert scenario is not None
    return app.start_practice(scenario, save=not args.no_save)


def _scripted(app: Attune, session: PracticeSession, args: argparse.Namespace) -> int:
    from agent.practice.session import BadTurn, SafetyStop
    from agent.practice.summary import summarize

    comparison = None
    try:
        session.finish_pending()
        for text in args.say or []:
            turn = session.say(text)
            if not args.json:
                print_turn(session, turn)
        if args.retry:
            comparison = session.retry(args.retry)
            if not args.json:
                print_comparison(session, comparison)
    except BadTurn as exc:
        raise UsageError(f"{exc} (session {session.id} is saved)") from None
    except SafetyStop as stop:
        reply = safety_text(app, stop)
        if args.json:
            print(json.dumps({"session_id": session.id, "stopped": True, "safety": stop.verdict.to_json(),
                              "reply": reply, "turns": [t.to_json() for t in session.record().active_turns]},
                             ensure_ascii=False, indent=2))
        else:
            print(reply)
        return EXIT_OK
    record = session.record()
    out: dict[str, Any] = {
        "session_id": session.id,
        "scenario": session.scenario.id,
        "turns": [t.to_json() for t in record.active_turns],
        "state": record.state,
    }
    if comparison is not None:
        out["retry"] = comparison.to_json()
    if args.end:
        session.end()
        summary = summarize(session.record())
        plot = plot_for(app, session, summary)
        out["summary"] = summary.to_json()
        out["plot"] = str(plot) if plot else None
        if not args.json:
            print("\n" + summary.text() + (f"\nPlot: {plot}" if plot else ""))
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    elif session.store.saved:
        print(f"\nSaved as session {session.id} (attune sessions show {session.id}).")
    else:
        print("\nNot saved (--no-save): nothing of this session was written to disk.")
    return EXIT_OK
