"""Evaluate one question suite with the application core: answer, score, write results and the HTML report.

The one place both `attune eval run` and the UI's Evaluate tab run a suite, so they agree on every default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from agent.app import Attune
from eval.report import write_report
from eval.run import CaseResult, Summary, read_suite, run_suite, summaries


@dataclass(frozen=True)
class SuiteRun:
    results: list[CaseResult]
    groups: dict[str, Summary]  # "coach", and "coach_first_draft" / "references" when there are any
    out: Path
    report: Path
    seconds: float

    @property
    def rows(self) -> list[dict]:
        return [r.to_json() for r in self.results]


def evaluate_suite(
    app: Attune, suite: Path, out: Path, *, limit: int | None = None, progress: bool = True
) -> SuiteRun:
    """Answer the suite's questions (the first `limit`) as `attune ask` would, with the settings' candidates."""
    cases = read_suite(suite)[:limit]
    started = time.perf_counter()
    results = run_suite(cases, lambda q: app.ask(q).result(), app.scorer, out, progress=progress)
    rows = [r.to_json() for r in results]
    report = write_report(rows, out, title=f"Attune evaluation: {suite.name}")
    return SuiteRun(results, summaries(rows), out, report, time.perf_counter() - started)
