"""How many answers show a reader what they should not see, with the answer tidier and without it.

Checks, each by its own plain rule (not the tidier's): the prompt's labels or self-description, letter sign-offs,
placeholders such as [Your Name], a sentence said twice, an answer that stops mid-sentence. Prints one row per
check, before and after, and the mean tokens and seconds per answer. Uses the model Attune is set to use:
    python eval/measure/answer_hygiene.py [--questions eval/suites/answer_questions.jsonl] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHECKS = {
    "prompt scaffolding": re.compile(
        r"(?im)^\W*(?:question|passages?|answer|sources?|context)\s*:|\battune\b|\brelationship coach\b"
        r"|answer in four to six|cite each one you use"
    ),
    "sign-off": re.compile(r"(?i)\bregards\b|\bsincerely\b|\bbest wishes\b|\byours truly\b"),
    "placeholder": re.compile(r"(?i)\[[^\]\n]*\b(?:name|signature)\b[^\]\n]*\]"),
}


_RELATION = re.compile(
    r"\byour (husband|wife|boyfriend|girlfriend|fianc[ée]e?|ex|mother|mum|mom|father|dad|sister|brother|son|"
    r"daughter|kids?|children|boss|manager|coworkers?|colleagues?|roommate|flatmate|in-laws?)\b", re.IGNORECASE)


def names_someone_new(question: str, text: str) -> bool:
    """The answer speaks of "your <person>" where the question named no such person."""
    def stem(word: str) -> str:
        return word[:-1] if word.endswith("s") and not word.endswith("ss") else word

    return any(not re.search(rf"\b{re.escape(stem(m.group(1).lower()))}", question.lower())
               for m in _RELATION.finditer(text))


def repeated_sentence(text: str) -> bool:
    seen = Counter(" ".join(re.findall(r"[a-z']+", s.lower())) for s in re.split(r"(?<=[.!?])\s+|\n+", text))
    return any(n > 1 for s, n in seen.items() if len(s.split()) >= 5)


def unfinished(text: str) -> bool:
    return bool(text.strip()) and not re.search(r"[.!?][\"'”’)\]]*\s*(?:\[\d+\])?\s*$", text.strip())


def problems(text: str, question: str) -> list[str]:
    found = [name for name, rule in CHECKS.items() if rule.search(text)]
    found += ["names someone the question did not"] if names_someone_new(question, text) else []
    return found + (["sentence said twice"] if repeated_sentence(text) else []) + (
        ["stops mid-sentence"] if unfinished(text) else [])


class _PassThrough:
    """The tidier switched off: everything the model wrote is shown."""

    stop = False

    def feed(self, piece: str) -> str:
        return piece

    def finish(self, cut: bool = False) -> str:
        return ""


def main() -> int:
    from agent.app import Attune
    from agent.settings import AttuneSettings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=ROOT / "eval/suites/answer_questions.jsonl")
    parser.add_argument("--home", type=Path, help="an ATTUNE_HOME to use (default: a new one, ingested here)")
    parser.add_argument("--out", type=Path, help="write every answer, before and after, to this JSONL file")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    home = args.home or Path(tempfile.mkdtemp(prefix="attune-hygiene-"))
    app = Attune(AttuneSettings(home=home))
    app.prepare_library(lambda _m: None, progress=False)
    coach = app.coach
    tidy_for = coach.tidier
    rows: list[dict[str, object]] = []
    tally: dict[str, Counter[str]] = {"before": Counter(), "after": Counter()}
    tokens: dict[str, list[int]] = {"before": [], "after": []}
    seconds: dict[str, list[float]] = {"before": [], "after": []}
    for question in questions:
        row = {"question": question}
        for label in ("before", "after"):
            coach.tidier = (lambda *_a: _PassThrough()) if label == "before" else tidy_for  # type: ignore[misc,method-assign,assignment,return-value]
            answer = coach.ask(question).result()
            found = problems(answer.text, question)
            tally[label].update(found)
            tally[label]["answers with any problem"] += bool(found)
            tokens[label].append(answer.timings.tokens)
            seconds[label].append(answer.timings.total_ms / 1000)
            row[label] = {"text": answer.text, "problems": found, "tokens": answer.timings.tokens}
        rows.append(row)
        print(f"{len(rows):3d}/{len(questions)} before {row['before']['problems']} after {row['after']['problems']}",
              file=sys.stderr, flush=True)
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    n = len(questions)
    print(f"{'check':36s} {'before':>8s} {'after':>8s}   ({n} questions)")
    for name in [*CHECKS, "names someone the question did not", "sentence said twice", "stops mid-sentence",
                 "answers with any problem"]:
        print(f"{name:36s} {tally['before'][name]:8d} {tally['after'][name]:8d}")
    print(f"{'mean tokens':36s} {statistics.mean(tokens['before']):8.0f} {statistics.mean(tokens['after']):8.0f}")
    print(f"{'mean seconds':36s} {statistics.mean(seconds['before']):8.1f} {statistics.mean(seconds['after']):8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
