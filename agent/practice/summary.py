"""The end of a session: per-turn scores, their trend, one strength, one thing to practise, a PNG plot, and
the transcript as Markdown."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from agent.practice.feedback import ANTIDOTE_NAMES, HORSEMAN_NAMES
from agent.practice.store import SessionRecord, TurnRecord
from eval.rubric import EMPATHY_MAX

PRACTICE_TIPS = {
    "criticism": "describe one behaviour and how it made you feel, instead of what the other person is",
    "contempt": "drop sarcasm and mockery; say what you need plainly",
    "defensiveness": "accept a small part of the problem before you explain your side",
    "stonewalling": "if you need a break, say so and name when you will come back to it",
    "labels": "describe what happened rather than naming what they are",
    "i_statement": "start with how you feel: \"I feel ... when ...\"",
    "need": "say what you would like to happen, as a request",
    "explorations": "ask one curious question about their side",
    "interpretations": "say back what you heard them feel before you answer",
    "all_used": "you used every skill the coach looks for: try the same words in the real conversation",
}


@dataclass(frozen=True)
class TurnPoint:
    turn: int
    non_blame: float
    empathy: int  # 0..EMPATHY_MAX
    flagged: bool

    @property
    def combined(self) -> float:
        """0..1: non-blame and empathy weighted equally; the trend is measured on this."""
        return (self.non_blame + self.empathy / EMPATHY_MAX) / 2


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    points: tuple[TurnPoint, ...]
    trend: str  # "improving", "steady", "slipping", or "too short to tell"
    slope: float  # change in the combined score per turn
    strength: str
    practise_next: str
    final_openness: str

    def to_json(self) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "turns": [
                {"turn": p.turn, "non_blame": p.non_blame, "empathy": p.empathy, "flagged": p.flagged}
                for p in self.points
            ],
            "trend": self.trend,
            "slope": round(self.slope, 4),
            "strength": self.strength,
            "practise_next": self.practise_next,
            "final_openness": self.final_openness,
        }

    def text(self) -> str:
        n = len(self.points)
        lines = [f"Session {self.session_id}: {n} turn(s); the other person ended {self.final_openness}."]
        for p in self.points:
            blame = "  (blame)" if p.flagged else ""
            lines.append(f"  turn {p.turn}: non-blame {p.non_blame:.2f}, empathy {p.empathy}/{EMPATHY_MAX}{blame}")
        lines.append(f"Trend: {self.trend} ({self.slope:+.2f} per turn).")
        lines.append(f"Strength: {self.strength}.")
        lines.append(f"Practise next: {self.practise_next}.")
        return "\n".join(lines)


def summarize(record: SessionRecord) -> SessionSummary:
    turns = [t for t in record.active_turns if t.scores]
    points = tuple(
        TurnPoint(t.idx, t.non_blame or 0.0, t.empathy_total or 0, bool(t.horsemen)) for t in turns
    )
    slope = _slope([p.combined for p in points])
    trend = (
        "too short to tell"
        if len(points) < 2
        else "improving" if slope > 0.02 else "slipping" if slope < -0.02 else "steady"
    )
    strengths = Counter(k for t in turns for k in t.strengths)
    mechanisms = Counter(
        m for t in turns for m, level in _levels(t).items() if level > 0
    )
    if strengths:
        kind, n = strengths.most_common(1)[0]
        strength = f"{ANTIDOTE_NAMES.get(kind, kind)} ({n} of {len(turns)} turns)"
    elif mechanisms:
        kind, n = mechanisms.most_common(1)[0]
        strength = f"{kind.replace('_', ' ')} ({n} of {len(turns)} turns)"
    elif points and not any(p.flagged for p in points):
        strength = "no blame in any turn"
    else:
        strength = "you kept the conversation going"
    horsemen = Counter(h for t in turns for h in t.horsemen)
    if horsemen:
        kind = horsemen.most_common(1)[0][0]
        practise = f"{HORSEMAN_NAMES.get(kind, kind)}: {PRACTICE_TIPS.get(kind, '')}"
    else:
        missing = [k for k in ("i_statement", "need") if k not in strengths]
        missing += [m for m in ("explorations", "interpretations") if not any(_levels(t).get(m) for t in turns)]
        # Only ever a skill the session lacked: advice to do what was already done reads as not listening.
        practise = PRACTICE_TIPS[missing[0] if missing else "all_used"]
    state = record.state.get("label", "")
    return SessionSummary(record.id, points, trend, slope, strength, practise, str(state))


def _levels(turn: TurnRecord) -> dict[str, int]:
    score = turn.score
    return score.empathy.levels() if score else {}


def _slope(values: list[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n + 1) / 2, sum(values) / n
    num = sum((i + 1 - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i + 1 - mean_x) ** 2 for i in range(n))
    return num / den


@dataclass(frozen=True)
class SessionMeans:
    """One session at a glance, for the progress view: its mean scores over the scored turns."""

    record: SessionRecord
    non_blame: float | None
    empathy: float | None  # 0..EMPATHY_MAX

    @classmethod
    def of(cls, record: SessionRecord) -> SessionMeans:
        scored = [t for t in record.active_turns if t.score]
        if not scored:
            return cls(record, None, None)
        return cls(
            record,
            sum(t.non_blame or 0.0 for t in scored) / len(scored),
            sum(t.empathy_total or 0 for t in scored) / len(scored),
        )


def plot_progress(sessions: list[SessionMeans], out: Path | BinaryIO) -> Path | BinaryIO:
    """A PNG of each scored session's mean non-blame and empathy, oldest first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [s for s in sessions if s.non_blame is not None and s.empathy is not None]
    xs = list(range(1, len(scored) + 1))
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    ax.plot(xs, [s.non_blame or 0.0 for s in scored], "o-", color="#2a7ab0", label="non-blame (mean)")
    ax.plot(xs, [(s.empathy or 0) / EMPATHY_MAX for s in scored], "s--", color="#3a9a5b",
            label="empathy (mean, scaled)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(xs)
    ax.set_xlabel("session, oldest first")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out


def plot_summary(summary: SessionSummary, path: Path | BinaryIO, title: str = "") -> Path | BinaryIO:
    """A PNG of non-blame and empathy per turn, blamed turns marked in red, written to a path or a buffer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    turns = [p.turn for p in summary.points]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    ax.plot(turns, [p.non_blame for p in summary.points], "o-", color="#2a7ab0", label="non-blame (0-1)")
    ax.plot(turns, [p.empathy / EMPATHY_MAX for p in summary.points], "s--", color="#3a9a5b",
            label=f"empathy (0-{EMPATHY_MAX}, scaled)")
    flagged = [p for p in summary.points if p.flagged]
    if flagged:
        ax.scatter([p.turn for p in flagged], [p.non_blame for p in flagged], s=120, facecolors="none",
                   edgecolors="#c0392b", linewidths=2, label="blame flagged", zorder=3)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(turns or [1])
    ax.set_xlabel("turn")
    ax.set_title(title or f"Practice session {summary.session_id}: {summary.trend}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def to_markdown(record: SessionRecord) -> str:
    """The transcript with the coach's notes, every attempt included."""
    s = record.scenario
    out = [
        f"# Practice: {s.title}",
        "",
        f"- Session: `{record.id}`, started {record.created_at}" + (", ended" if record.ended_at else ""),
        f"- With: {s.name} ({s.role}), difficulty {s.difficulty}, style {s.style}",
        f"- Situation: {s.situation}",
        "",
        f"**{s.name}:** {s.opening_line}",
        "",
    ]
    for t in record.turns:
        label = f"Turn {t.idx}" + (f", attempt {t.attempt}" if t.attempt > 1 else "")
        label += "" if t.active else " (replaced by a retry)"
        out += [f"## {label}", "", f"**You:** {t.user}", ""]
        if t.scores:
            flags = ", ".join(t.horsemen) or "none"
            out.append(
                f"> Coach: non-blame {t.non_blame:.2f}, empathy {t.empathy_total}/{EMPATHY_MAX}, blame flags: {flags}. "
                f"{t.feedback}"
            )
            if t.rewrite:
                out += [">", f"> Try: *{t.rewrite}*"]
            out.append("")
        out += [f"**{s.name}:** {t.partner}" if t.partner else "*(no reply: the session stopped here)*", ""]
    if record.active_turns:
        out += ["## Summary", "", "```text", summarize(record).text(), "```", ""]
    return "\n".join(out)
