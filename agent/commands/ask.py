"""`attune ask`: one question, a streamed answer grounded in the library, and the passages it cites."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from agent.commands import DISCLAIMER, EXIT_OK, UsageError, app_from_args, say, setting_default


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ask",
        help="ask a relationship question and get a grounded, cited answer",
        description="Answer a relationship question from the library, streaming the answer, then list the "
        "passages it cites. When no passage fits, the answer is marked as general advice.",
        epilog=DISCLAIMER,
    )
    p.add_argument("question", help="your question, in quotes")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument(
        "--model", type=Path, metavar="FILE.gguf", help="a GGUF model file to use instead of the bundled model"
    )
    p.add_argument(
        "--top-k",
        type=int,
        metavar="N",
        help=f"how many passages to give the model (default {setting_default('retrieval.top_k')})",
    )
    p.add_argument(
        "--candidates",
        type=int,
        metavar="N",
        help="rubric-guided: redraft up to N times when the answer falls short of the rubric (shown whole, "
        f"not streamed; default {setting_default('ask.candidates')})",
    )
    p.set_defaults(handler=cmd_ask)


def cmd_ask(args: argparse.Namespace) -> int:
    from agent.coach import BadQuestion, checked_question, safety_answer
    from agent.prompts import GENERAL_ADVICE_NOTE
    from agent.safety import check_message

    app = app_from_args(args)
    try:
        # Refused before loading anything; a question within the limit gets the rules alone here (the coach
        # checks it fully), one over it the full check, since it is refused unless it tells of danger.
        question, verdict = checked_question(args.question, app.settings.ask.max_question_chars, app.safety_check,
                                             short_check=check_message)
    except BadQuestion as exc:
        raise UsageError(str(exc)) from None
    if verdict.flagged:  # help at once: nothing is loaded, retrieved or generated
        answer = safety_answer(question, verdict, app.help_resources)
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2) if args.json else answer.text)
        return EXIT_OK
    _ = app.model  # a missing model file fails here, before any indexing
    app.prepare_library(say, progress=not args.json)
    stream = app.ask(args.question)
    if args.json:
        print(json.dumps(stream.result().to_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not stream.passages and not stream.safety.flagged:
        print(f"({GENERAL_ADVICE_NOTE})\n")
    for piece in stream:
        print(piece, end="", flush=True)
    answer = stream.result()
    print()
    if answer.grounded:
        print("\nSources:")
        for n, p in enumerate(answer.sources, 1):
            mark = "" if n in answer.cited else "  (not cited)"
            print(f"  [{n}] {p.title}{' - ' + p.section if p.section else ''}{mark}")
            print(textwrap.indent(textwrap.shorten(p.text, 220, placeholder=" ..."), "      "))
    if answer.scores:
        e, nb = answer.scores.empathy, answer.scores.non_blame
        print(
            f"\nRubric: empathy {e.emotional_reactions.level}/{e.interpretations.level}/{e.explorations.level} "
            f"(reactions/interpretations/explorations, 0-2), non-blame {nb.score:.2f}"
            + (f", flagged: {', '.join(nb.horsemen)}" if nb.flagged else "")
        )
    return EXIT_OK
