"""`attune practice` and `attune sessions`: role-play in the terminal or in one non-interactive call, and the
saved sessions afterwards."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.cli import EXIT_OK, UsageError, settings_from_args

if TYPE_CHECKING:
    from agent.practice.session import BranchComparison, PracticeSession, SafetyStop
    from agent.practice.store import TurnRecord
    from agent.settings import AttuneSettings

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
    interactive = not (args.say or args.retry or args.end)
    if args.json and interactive:
        raise UsageError("--json needs --say (the non-interactive mode)")
    if not interactive and sum(chosen) == 0:
        raise UsageError("say which scenario: --scenario ID (see --list), --describe TEXT or --resume ID")

    settings = settings_from_args(args)
    session = _open_session(args, settings, interactive)
    if interactive:
        return _interactive(session, settings)
    return _scripted(session, settings, args)


def _open_session(args: argparse.Namespace, settings: AttuneSettings, interactive: bool) -> PracticeSession:
    from agent.backends import make_chat_model
    from agent.practice.scenarios import ScenarioRefused, get_scenario, scenario_from_description
    from agent.practice.session import PracticeSession
    from agent.practice.store import SessionNotFound
    from agent.runtime import make_embeddings, make_safety_check, make_scorer, open_sessions
    from knowledge.library import LazyEmbeddings

    store = open_sessions(settings, save=not args.no_save)
    scenario = None
    if args.resume:
        try:
            resumed = store.load(args.resume)
        except SessionNotFound as exc:
            raise UsageError(str(exc)) from None
        if resumed.ended_at is not None:
            raise UsageError(
                f"session {args.resume} has ended ({resumed.ended_reason or 'user'}); "
                f"`attune sessions show {args.resume}` shows it, --scenario starts a new one"
            )
    elif args.scenario:
        try:
            scenario = get_scenario(args.scenario)
        except ScenarioRefused as exc:
            raise UsageError(str(exc)) from None
    elif not args.describe:
        scenario = _pick_scenario()
    if interactive:
        print("Loading the model ...", file=sys.stderr)
    model = make_chat_model(settings)
    embeddings = LazyEmbeddings(lambda: make_embeddings(settings.embedding_model_path))  # one load for both
    scorer = make_scorer(settings, embeddings)
    safety = make_safety_check(settings, embeddings)
    if args.describe:
        try:
            scenario = scenario_from_description(
                args.describe, relationship=args.relationship, name=args.name, model=model
            )
        except ScenarioRefused as exc:
            raise UsageError(str(exc)) from None
    if args.resume:
        session = PracticeSession.resume(store, args.resume, model, scorer, max_turn_chars=settings.max_turn_chars)
    else:
        assert scenario is not None
        session = PracticeSession.start(store, scenario, model, scorer, max_turn_chars=settings.max_turn_chars)
    session.safety_check = safety
    return session


def _pick_scenario() -> Any:
    from agent.practice.scenarios import load_scenarios

    scenarios = list(load_scenarios().values())
    for n, s in enumerate(scenarios, 1):
        print(f"  {n:2}. {s.title} (with {s.name}, {s.role}; {s.difficulty})")
    try:
        choice = input("Pick a scenario by number or id: ").strip()
    except EOFError:
        raise UsageError("no scenario chosen: give --scenario ID (see --list)") from None
    by_id = {s.id: s for s in scenarios}
    if choice in by_id:
        return by_id[choice]
    if choice.isdigit() and 1 <= int(choice) <= len(scenarios):
        return scenarios[int(choice) - 1]
    raise UsageError(f"no scenario {choice!r}; `attune practice --list` shows them")


def _safety_text(stop: SafetyStop, settings: AttuneSettings) -> str:
    from agent.safety import load_help_resources, safety_reply

    return safety_reply(stop.verdict, load_help_resources(settings.help_resources))


def _scripted(session: PracticeSession, settings: AttuneSettings, args: argparse.Namespace) -> int:
    from agent.practice.session import BadTurn, SafetyStop
    from agent.practice.summary import summarize

    comparison = None
    try:
        session.finish_pending()
        for text in args.say or []:
            turn = session.say(text)
            if not args.json:
                _print_turn(session, turn)
        if args.retry:
            comparison = session.retry(args.retry)
            if not args.json:
                _print_comparison(session, comparison)
    except BadTurn as exc:
        raise UsageError(f"{exc} (session {session.id} is saved)") from None
    except SafetyStop as stop:
        reply = _safety_text(stop, settings)
        if args.json:
            print(json.dumps({"session_id": session.id, "stopped": True, "safety": stop.verdict.to_json(),
                              "reply": reply, "turns": [t.to_json() for t in session.record().active_turns]},
                             ensure_ascii=False, indent=2))
        else:
            print(reply)
        return EXIT_OK
    record = session.record()
    out: dict[str, object] = {
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
        plot = _plot(session, summary, settings)
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


def _plot(session: PracticeSession, summary: Any, settings: AttuneSettings) -> Path | None:
    """The session's PNG plot, or None for an unsaved session (which must leave nothing on disk)."""
    from agent.practice.summary import plot_summary

    if not session.store.saved:
        return None
    path = settings.plots_dir / f"{session.id}.png"
    plot_summary(summary, path, session.scenario.title)
    return path


def _wrap(text: str, prefix: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=prefix, subsequent_indent=" " * len(prefix))


def _print_turn(session: PracticeSession, turn: TurnRecord) -> None:
    flags = ", ".join(turn.horsemen)
    print(
        f"  coach: non-blame {turn.non_blame:.2f}, empathy {turn.empathy_total}/6"
        + (f", blame: {flags}" if flags else "")
    )
    print(_wrap(turn.feedback or "", "         "))
    if turn.rewrite:
        print(_wrap(f"\"{turn.rewrite}\"", "  try:   "))
    print(_wrap(turn.partner or "", f"{session.scenario.name}: "))


def _print_comparison(session: PracticeSession, comparison: BranchComparison) -> None:
    _print_turn(session, comparison.retry)
    first, retry = comparison.first, comparison.retry
    print(
        f"  compare: first try non-blame {first.non_blame:.2f}, empathy {first.empathy_total}/6; "
        f"retry non-blame {retry.non_blame:.2f}, empathy {retry.empathy_total}/6 -> "
        + ("the retry scores better and replaces the first try" if comparison.retry_better
           else "no better on the rubric; the first try stays")
    )


HELP = "Type what you would say. /retry: say the last turn again. /end: finish with a summary. /quit: stop (saved)."


def _interactive(session: PracticeSession, settings: AttuneSettings) -> int:
    from agent.practice.session import BadTurn, SafetyStop
    from agent.practice.summary import summarize

    s = session.scenario
    print(f"\nPractising \"{s.title}\" with {s.name} ({s.role}). {HELP}\n")
    print(_wrap(s.situation, "Situation: ") + "\n")
    record = session.record()
    if not record.active_turns:
        print(_wrap(s.opening_line, f"{s.name}: "))
    else:
        for turn in record.active_turns:
            print(_wrap(turn.user, "you> "))
            if turn.partner:
                print(_wrap(turn.partner, f"{s.name}: "))
        finished = session.finish_pending()
        if finished:
            _print_turn(session, finished)
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            print(f"\nSaved. Continue with: attune practice --resume {session.id}" if session.store.saved else "")
            return EXIT_OK
        if not text:
            continue
        try:
            if text in ("/quit", "/q"):
                if session.store.saved:
                    print(f"Saved. Continue with: attune practice --resume {session.id}")
                return EXIT_OK
            if text in ("/help", "/?"):
                print(HELP)
            elif text == "/end":
                session.end()
                summary = summarize(session.record())
                plot = _plot(session, summary, settings)
                print("\n" + summary.text() + (f"\nPlot: {plot}" if plot else ""))
                return EXIT_OK
            elif text.startswith("/retry"):
                again = text[len("/retry"):].strip() or input("try again> ").strip()
                _print_comparison(session, session.retry(again))
            elif text.startswith("/"):
                print(f"unknown command {text.split()[0]}. {HELP}")
            else:
                _print_turn(session, session.say(text))
        except BadTurn as exc:
            print(f"  ({exc})")
        except SafetyStop as stop:
            print("\n" + _safety_text(stop, settings))
            return EXIT_OK


def cmd_sessions(args: argparse.Namespace) -> int:
    from agent.practice.store import SessionNotFound
    from agent.practice.summary import plot_summary, summarize, to_markdown
    from agent.runtime import open_sessions

    settings = settings_from_args(args)
    store = open_sessions(settings)
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
