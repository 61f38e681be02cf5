"""The practice conversation at the terminal: the other person's lines, the coach's notes after each turn, and
the commands (/retry, /end, /quit) of `attune practice` without --say."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from agent.commands import EXIT_OK

if TYPE_CHECKING:
    from agent.app import Attune
    from agent.practice.scenarios import Scenario
    from agent.practice.session import BranchComparison, PracticeSession, SafetyStop
    from agent.practice.store import TurnRecord
    from agent.practice.summary import SessionSummary

HELP = "Type what you would say. /retry: say the last turn again. /end: finish with a summary. /quit: stop (saved)."


def pick_scenario(app: Attune) -> Scenario:
    """Ask at the terminal which scenario to practise."""
    from agent.commands import UsageError

    scenarios = list(app.scenarios().values())
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


def safety_text(app: Attune, stop: SafetyStop) -> str:
    from agent.safety import safety_reply

    return safety_reply(stop.verdict, app.help_resources)


def plot_for(app: Attune, session: PracticeSession, summary: SessionSummary) -> Path | None:
    """The session's PNG plot, or None for an unsaved session (which must leave nothing on disk)."""
    from agent.practice.summary import plot_summary

    if not session.store.saved:
        return None
    path = app.settings.plots_dir / f"{session.id}.png"
    plot_summary(summary, path, session.scenario.title)
    return path


def _wrap(text: str, prefix: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=prefix, subsequent_indent=" " * len(prefix))


def print_turn(session: PracticeSession, turn: TurnRecord) -> None:
    from agent.practice.summary import EMPATHY_MAX

    flags = ", ".join(turn.horsemen)
    print(
        f"  coach: non-blame {turn.non_blame:.2f}, empathy {turn.empathy_total}/{EMPATHY_MAX}"
        + (f", blame: {flags}" if flags else "")
    )
    print(_wrap(turn.feedback or "", "         "))
    if turn.rewrite:
        print(_wrap(f"\"{turn.rewrite}\"", "  try:   "))
    print(_wrap(turn.partner or "", f"{session.scenario.name}: "))


def print_comparison(session: PracticeSession, comparison: BranchComparison) -> None:
    from agent.practice.summary import EMPATHY_MAX

    print_turn(session, comparison.retry)
    first, retry = comparison.first, comparison.retry
    print(
        f"  compare: first try non-blame {first.non_blame:.2f}, empathy {first.empathy_total}/{EMPATHY_MAX}; "
        f"retry non-blame {retry.non_blame:.2f}, empathy {retry.empathy_total}/{EMPATHY_MAX} -> "
        + ("the retry scores better and replaces the first try" if comparison.retry_better
           else "no better on the rubric; the first try stays")
    )


def interactive(app: Attune, session: PracticeSession) -> int:
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
            print_turn(session, finished)
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
                plot = plot_for(app, session, summary)
                print("\n" + summary.text() + (f"\nPlot: {plot}" if plot else ""))
                return EXIT_OK
            elif text.startswith("/retry"):
                again = text[len("/retry"):].strip() or input("try again> ").strip()
                print_comparison(session, session.retry(again))
            elif text.startswith("/"):
                print(f"unknown command {text.split()[0]}. {HELP}")
            else:
                print_turn(session, session.say(text))
        except BadTurn as exc:
            print(f"  ({exc})")
        except SafetyStop as stop:
            print("\n" + safety_text(app, stop))
            return EXIT_OK
