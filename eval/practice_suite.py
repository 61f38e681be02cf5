"""The practice quality suite: fixed user scripts (skilful, blaming, subtle, mixed, repairing) played through
every scenario on the configured model, with the partner's lines, the state's path and the rewrites checked.

`attune eval practice` runs it and writes results.jsonl and report.html with the transcripts.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from agent.app import Attune
from agent.practice.partner import NEAR_REPEAT, clean_line, leaks_card, similarity
from agent.practice.scenarios import Scenario
from agent.practice.session import SafetyStop
from agent.practice.store import TurnRecord

# Each script: three user turns ({topic} is the scenario's) and the direction the partner's openness should take
# from where it starts: "up", "not up" (blame must not be rewarded) or "recovers" (up from after the first turn).
SCRIPTS: dict[str, tuple[tuple[str, ...], str]] = {
    "skilful": (
        (
            "I feel hurt when {topic}, and I'd like us to find a way to talk about it.",
            "I can see this has been hard for you too. What has it been like on your side?",
            "Thank you for telling me. Could we work out together what would help us both?",
        ),
        "up",
    ),
    "blaming": (
        (
            "You never listen to me and you are so selfish.",
            "This is all your fault, as usual. You always do this.",
            "Whatever. I'm done talking about this.",
        ),
        "not up",
    ),
    "subtle": (
        (
            "Wow, okay. Sorry for having feelings, I guess.",
            "I'm sorry you feel that way. It's not a big deal.",
            "Fine. Do whatever you want, you will anyway.",
        ),
        "not up",
    ),
    "mixed": (
        (
            "I feel upset when {topic}, but honestly you always do this.",
            "Okay. What has it been like for you?",
            "I'd like us to find something that works for both of us.",
        ),
        "up",
    ),
    "repairing": (
        (
            "That's ridiculous. You clearly don't care.",
            "I'm sorry, that came out harsh. That's partly on me.",
            "I really want to understand your side. What has this been like for you?",
        ),
        "recovers",
    ),
}


@dataclass
class LineCheck:
    """One partner line and which character checks it failed (none: it passes)."""

    turn: int
    text: str
    source: str  # model or script
    failures: list[str] = field(default_factory=list)


@dataclass
class ScriptRun:
    scenario: str
    script: str
    expected: str
    openness: list[int]  # at the start, then after each turn
    direction_ok: bool
    turns: list[dict[str, object]]
    lines: list[LineCheck]
    stopped: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario, "script": self.script, "expected": self.expected,
            "openness": self.openness, "direction_ok": self.direction_ok, "stopped": self.stopped,
            "turns": self.turns,
            "lines": [{"turn": c.turn, "text": c.text, "source": c.source, "failures": c.failures} for c in self.lines],
        }


def check_line(line: str, scenario: Scenario, earlier: Sequence[str], user: str, revealed: bool) -> list[str]:
    """The character checks a partner line must pass: why it fails, or [] when it passes."""
    failures = []
    if clean_line(line, scenario) is None:
        failures.append("out of character")
    if leaks_card(line, scenario, revealed):
        failures.append("card leak")
    name = re.escape(scenario.name)
    if re.search(rf"^\s*{name}\b\s*[,!]|\b(?:hey|hi|oh|look|listen|sorry),?\s+{name}\b|,\s*{name}\s*[.!?,]",
                 line, re.IGNORECASE):
        failures.append("role swap")  # addressing itself by its own name: it is speaking as the user
    if similarity(line, user) > 0.8:
        failures.append("parrot")
    if any(similarity(line, before) > NEAR_REPEAT for before in earlier):
        failures.append("repeat")
    return failures


def _direction_ok(expected: str, openness: list[int]) -> bool:
    start, end = openness[0], openness[-1]
    if expected == "up":
        return end > start
    if expected == "not up":
        return end <= start
    return end > min(openness[1:2] or [start])  # recovers: ends above where the first turn left it


def run_script(app: Attune, scenario: Scenario, script: str) -> ScriptRun:
    lines_in, expected = SCRIPTS[script]
    session = app.start_practice(scenario, save=False)
    openness = [int(str(session.record().state["openness"]))]
    checks: list[LineCheck] = []
    turns: list[dict[str, object]] = []
    earlier = [scenario.opening_line]
    stopped = False
    for n, template in enumerate(lines_in, 1):
        user = template.format(topic=scenario.topic)
        try:
            turn: TurnRecord = session.say(user)
        except SafetyStop:
            stopped = True
            break
        state = turn.state_after or {}
        openness.append(int(str(state.get("openness", openness[-1]))))
        line = turn.partner or ""
        checks.append(LineCheck(n, line, turn.partner_source or "", check_line(
            line, scenario, earlier, user, bool(turn.state_before.get("revealed")) or bool(state.get("revealed"))
        )))
        earlier.append(line)
        turns.append(turn.to_json() | {"rewrite_check": rewrite_check(turn)})
    return ScriptRun(scenario.id, script, expected, openness, _direction_ok(expected, openness), turns, checks,
                     stopped)


def rewrite_check(turn: TurnRecord) -> dict[str, object] | None:
    """For a turn that got a rewrite: is it better on the rubric, and does it keep none of the flagged words?"""
    if not turn.rewrite:
        return None
    score = turn.score
    flags = score.non_blame.flags if score else ()
    kept = [f.span for f in flags if f.span and f.span.lower() in turn.rewrite.lower()]
    better = None
    if turn.rewrite_scores and score:
        from eval.rubric import RubricScore

        better = RubricScore.from_json(turn.rewrite_scores).better_than(score)
    return {"better": better, "keeps_flagged": kept}


@dataclass
class PracticeReport:
    runs: list[ScriptRun]

    def figures(self) -> dict[str, object]:
        lines = [c for r in self.runs for c in r.lines]
        by_source = Counter(c.source for c in lines)
        passing = Counter(c.source for c in lines if not c.failures)
        failures = Counter(f for c in lines for f in c.failures)
        rewrites = [t["rewrite_check"] for r in self.runs for t in r.turns if t.get("rewrite_check")]
        directions = Counter((r.script, r.direction_ok) for r in self.runs)
        return {
            "runs": len(self.runs),
            "partner_lines": len(lines),
            "lines_passing": sum(passing.values()),
            "lines_passing_share": round(sum(passing.values()) / len(lines), 3) if lines else 0.0,
            "by_source": {s: {"lines": n, "passing": passing[s]} for s, n in by_source.items()},
            "failures": dict(failures),
            "direction_ok": {
                script: f"{directions[(script, True)]}/{directions[(script, True)] + directions[(script, False)]}"
                for script in SCRIPTS
                if directions[(script, True)] + directions[(script, False)]
            },
            "rewrites": len(rewrites),
            "rewrites_better": sum(1 for r in rewrites if isinstance(r, dict) and r.get("better")),
            "rewrites_keeping_flagged_words": sum(
                1 for r in rewrites if isinstance(r, dict) and r.get("keeps_flagged")
            ),
            "safety_stops": sum(r.stopped for r in self.runs),
        }


def run_practice_suite(
    app: Attune,
    scenarios: Sequence[Scenario],
    scripts: Sequence[str],
    out: Path,
    *,
    on_run: Callable[[ScriptRun], None] | None = None,
) -> PracticeReport:
    """Every script through every scenario, each run appended to `out/results.jsonl` as soon as it is done."""
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    with (out / "results.jsonl").open("w", encoding="utf-8") as results:
        for scenario, script in tqdm(
            [(s, k) for s in scenarios for k in scripts], desc="Practising", unit="script"
        ):
            run = run_script(app, scenario, script)
            results.write(json.dumps(run.to_json(), ensure_ascii=False) + "\n")
            results.flush()
            runs.append(run)
            if on_run:
                on_run(run)
    report = PracticeReport(runs)
    write_practice_report(report, out / "report.html", title=f"Practice quality: {len(runs)} runs")
    return report


def write_practice_report(report: PracticeReport, path: Path, title: str) -> Path:
    e = html.escape
    figures = report.figures()
    rows = "".join(f"<tr><td>{e(str(k))}</td><td>{e(json.dumps(v))}</td></tr>" for k, v in figures.items())
    runs = []
    for r in report.runs:
        mark = "ok" if r.direction_ok else "NOT as expected"
        lines = {c.turn: c for c in r.lines}
        body = []
        for t in r.turns:
            n = int(str(t["turn"]))
            check = lines.get(n)
            flags = f" <b class=bad>[{', '.join(check.failures)}]</b>" if check and check.failures else ""
            body.append(
                f"<p><b>You:</b> {e(str(t['user']))}<br><i>Coach:</i> {e(str(t.get('feedback') or ''))}"
                + (f"<br><i>Try:</i> {e(str(t['rewrite']))}" if t.get("rewrite") else "")
                + f"<br><b>Partner ({e(str(t.get('partner_source')))}, {e(str(t.get('partner_move')))}):</b> "
                f"{e(str(t.get('partner') or ''))}{flags}</p>"
            )
        runs.append(
            f"<h3>{e(r.scenario)}: {e(r.script)} (openness {' → '.join(map(str, r.openness))}, expected "
            f"{e(r.expected)}: {mark})</h3>" + "".join(body)
        )
    page = (
        f"<!doctype html><meta charset=utf-8><title>{e(title)}</title><style>body{{font-family:system-ui;"
        "max-width:60em;margin:auto}} .bad{color:#c0392b} td{padding:2px 8px;vertical-align:top}</style>"
        f"<h1>{e(title)}</h1><table>{rows}</table>" + "".join(runs)
    )
    path.write_text(page, encoding="utf-8")
    return path
