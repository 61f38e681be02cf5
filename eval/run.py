"""Evaluation suites: run the coach over a question file, score every answer, write results and a report.

Also scores reference answers (e.g. therapists') with the same rubric, so the report can set them side by side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from agent.coach import Answer
from eval.rubric import MECHANISMS, RubricScore, Scorer


class SuiteError(ValueError):
    """A suite or input file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class SuiteCase:
    id: str
    question: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreRequest:
    id: str
    context: str
    response: str


def _read_jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    if not path.is_file():
        raise SuiteError(f"{path}: no such file")
    # Invalid UTF-8 becomes U+FFFD, as a terminal shows it, instead of stopping the whole suite.
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SuiteError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise SuiteError(f"{path}:{n}: expected a JSON object")
            yield n, row


def _field(path: Path, n: int, row: dict, name: str) -> str:
    value = row.get(name)
    if name == "id" and isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise SuiteError(f'{path}:{n}: missing or empty "{name}"')
    return value


def bundled_question_suites() -> list[Path]:
    """The shipped suites of questions for the coach (the folder also holds labelled safety and blame sets)."""
    from importlib.resources import files

    folder = Path(str(files("eval") / "suites"))
    suites = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            first = json.loads(f.readline() or "{}")
        if isinstance(first, dict) and "question" in first and "label" not in first:
            suites.append(path)
    return suites


def read_suite(path: Path) -> list[SuiteCase]:
    cases, seen = [], set()
    for n, row in _read_jsonl(path):
        case_id = _field(path, n, row, "id")
        if case_id in seen:
            raise SuiteError(f"{path}:{n}: duplicate id {case_id!r}")
        seen.add(case_id)
        refs = tuple(r["text"] for r in row.get("references", []) if isinstance(r, dict) and r.get("text"))
        cases.append(SuiteCase(case_id, _field(path, n, row, "question"), refs))
    if not cases:
        raise SuiteError(f"{path}: no questions in the file")
    return cases


def read_score_requests(path: Path) -> list[ScoreRequest]:
    requests = []
    for n, row in _read_jsonl(path):
        context = row.get("context", "")
        if not isinstance(context, str):
            raise SuiteError(f'{path}:{n}: "context" must be a string')
        requests.append(ScoreRequest(_field(path, n, row, "id"), context, _field(path, n, row, "response")))
    if not requests:
        raise SuiteError(f"{path}: no lines to score")
    return requests


@dataclass
class CaseResult:
    id: str
    question: str
    answer: str
    sources: list[dict[str, object]]
    scores: dict[str, object]
    drafts: list[dict[str, object]] = field(default_factory=list)
    references: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> RubricScore:
        return RubricScore.from_json(self.scores)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "sources": self.sources,
            "scores": self.scores,
            "drafts": self.drafts,
            "references": self.references,
            "seconds": self.seconds,
        }


def run_suite(
    cases: Sequence[SuiteCase],
    answer: Callable[[str], Answer],
    scorer: Scorer,
    out_dir: Path,
    *,
    progress: bool = True,
) -> list[CaseResult]:
    """Answer and score every case, appending each result to `out_dir/results.jsonl` as soon as it is done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.jsonl"
    results = []
    with results_path.open("w", encoding="utf-8") as out:
        for case in tqdm(cases, desc="Evaluating", unit="question", disable=not progress):
            a = answer(case.question)
            scores = a.scores or scorer.score(case.question, a.text)
            refs = [
                {"text": text, "scores": s.to_json()}
                for text, s in zip(
                    case.references, _score_many(scorer, [(case.question, r) for r in case.references]), strict=True
                )
            ]
            result = CaseResult(
                id=case.id,
                question=case.question,
                answer=a.text,
                sources=[
                    {"n": n, "title": p.title, "section": p.section, "source": p.source, "cited": n in a.cited}
                    for n, p in enumerate(a.sources, 1)
                ],
                scores=scores.to_json(),
                drafts=[{"text": d.text, "scores": d.scores.to_json()} for d in a.drafts if d.scores],
                references=refs,
                seconds=round(a.timings.total_ms / 1000, 2),
            )
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            out.flush()
            results.append(result)
    return results


def _score_many(scorer: Scorer, pairs: list[tuple[str, str]]) -> list[RubricScore]:
    many = getattr(scorer, "score_many", None)
    return many(pairs) if many else [scorer.score(c, r) for c, r in pairs]


def read_results(path: Path) -> list[dict]:
    """A run's results.jsonl, given the run folder or the file itself."""
    file = path / "results.jsonl" if path.is_dir() else path
    rows = [row for _, row in _read_jsonl(file)]
    for row in rows:
        if "scores" not in row or "id" not in row:
            raise SuiteError(f"{file}: not an `attune eval run` results file")
    return rows


@dataclass(frozen=True)
class Summary:
    """Means over one set of scored answers: the figures `--check` and the report use."""

    n: int
    empathy: dict[str, float]
    empathy_total: float
    non_blame: float
    flagged_share: float

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "empathy": self.empathy,
            "empathy_total": self.empathy_total,
            "non_blame": self.non_blame,
            "flagged_share": self.flagged_share,
        }


def summarize(scores: Sequence[dict]) -> Summary:
    """Means over scores in the rubric's JSON form (as a results file holds them)."""
    typed = [RubricScore.from_json(s) for s in scores]
    n = len(typed)
    if n == 0:
        return Summary(0, dict.fromkeys(MECHANISMS, 0.0), 0.0, 1.0, 0.0)
    empathy = {m: round(sum(t.empathy.levels()[m] for t in typed) / n, 3) for m in MECHANISMS}
    return Summary(
        n=n,
        empathy=empathy,
        empathy_total=round(sum(t.empathy.total for t in typed) / n, 3),
        non_blame=round(sum(t.non_blame.score for t in typed) / n, 3),
        flagged_share=round(sum(t.non_blame.flagged for t in typed) / n, 3),
    )


def summaries(rows: Sequence[dict]) -> dict[str, Summary]:
    """The coach's answers, its first drafts (when guided) and the human references, each summarized."""
    out = {"coach": summarize([r["scores"] for r in rows])}
    drafts = [r["drafts"][0]["scores"] for r in rows if r.get("drafts")]
    if drafts and len(drafts) == len(rows):
        out["coach_first_draft"] = summarize(drafts)
    refs = [ref["scores"] for r in rows for ref in r.get("references", [])]
    if refs:
        out["references"] = summarize(refs)
    return out


@dataclass(frozen=True)
class Thresholds:
    empathy_total: float
    non_blame: float
    flagged_share: float


def check(summary: Summary, thresholds: Thresholds) -> list[str]:
    """Failed checks, one line each; empty when every threshold is met."""
    failures = []
    if summary.empathy_total < thresholds.empathy_total:
        failures.append(f"mean empathy {summary.empathy_total} is below {thresholds.empathy_total}")
    if summary.non_blame < thresholds.non_blame:
        failures.append(f"mean non-blame {summary.non_blame} is below {thresholds.non_blame}")
    if summary.flagged_share > thresholds.flagged_share:
        failures.append(
            f"{summary.flagged_share:.0%} of answers flagged for blame; the limit is {thresholds.flagged_share:.0%}"
        )
    return failures
