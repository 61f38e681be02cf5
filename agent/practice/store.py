"""Saved practice sessions in SQLite under ATTUNE_HOME: sessions, turns, scores and rewrites.

Each write is its own committed transaction (WAL mode), and the user's turn is written before any model call,
so a killed process loses at most the reply that was being generated.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from agent.practice.scenarios import Scenario
from eval.rubric import RubricScore


class _AnyOwner(enum.Enum):
    ANY = "any"


# `load` and `list` for the terminal: every session. The web UI passes its browser's owner id instead.
ANY_OWNER = _AnyOwner.ANY
Owner = str | None | _AnyOwner  # who may see a session: an owner, the terminal's (None), or anyone

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    state_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT,
    ended_reason TEXT,              -- NULL, "user", or "safety" when the user disclosed danger
    owner TEXT                      -- the web browser that made it; NULL for the terminal's own
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,           -- the turn's place in the conversation, from 1
    attempt INTEGER NOT NULL,       -- 1, then 2, 3 ... for each "try that again"
    active INTEGER NOT NULL,        -- 0 once a retry replaced it
    user_text TEXT NOT NULL,
    state_before TEXT NOT NULL,
    partner_text TEXT,              -- NULL until the reply is in: a pending turn
    partner_move TEXT,
    partner_source TEXT,
    state_after TEXT,
    safety_category TEXT,           -- set when the safety check fired on this turn: no reply will come
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session_id, idx, attempt);
CREATE TABLE IF NOT EXISTS scores (
    turn_id INTEGER PRIMARY KEY REFERENCES turns(id) ON DELETE CASCADE,
    scores_json TEXT NOT NULL,
    feedback TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rewrites (
    turn_id INTEGER PRIMARY KEY REFERENCES turns(id) ON DELETE CASCADE,
    text TEXT,
    source TEXT,
    scores_json TEXT
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SessionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class TurnRecord:
    id: int
    idx: int
    attempt: int
    active: bool
    user: str
    partner: str | None
    move: str | None
    partner_source: str | None
    state_before: dict[str, object]
    state_after: dict[str, object] | None
    scores: dict[str, object] | None  # the rubric's JSON format
    feedback: str | None
    rewrite: str | None
    rewrite_source: str | None
    rewrite_scores: dict[str, object] | None
    created_at: str
    safety_category: str | None = None

    @property
    def pending(self) -> bool:
        """Saved, but the reply never came (the process stopped); a turn the safety check stopped is not."""
        return self.partner is None and self.safety_category is None

    @cached_property  # non_blame, empathy_total, horsemen and strengths all read it: parse the JSON once
    def score(self) -> RubricScore | None:
        """The rubric's score of this turn, typed (stored as the rubric's JSON)."""
        return RubricScore.from_json(self.scores) if self.scores else None

    @property
    def non_blame(self) -> float | None:
        score = self.score
        return score.non_blame.score if score else None

    @property
    def empathy_total(self) -> int | None:
        score = self.score
        return score.empathy.total if score else None

    @property
    def horsemen(self) -> list[str]:
        score = self.score
        return score.non_blame.horsemen if score else []

    @property
    def strengths(self) -> list[str]:
        score = self.score
        return [f.kind for f in score.non_blame.strengths] if score else []

    def to_json(self) -> dict[str, object]:
        return {
            "turn": self.idx,
            "attempt": self.attempt,
            "user": self.user,
            "scores": self.scores,
            "feedback": self.feedback,
            "rewrite": self.rewrite,
            "rewrite_source": self.rewrite_source,
            "rewrite_scores": self.rewrite_scores,
            "partner": self.partner,
            "partner_move": self.move,
            "partner_source": self.partner_source,
            "safety": {"flagged": self.safety_category is not None, "category": self.safety_category},
            "state": self.state_after,
        }


@dataclass(frozen=True)
class SessionRecord:
    id: str
    scenario: Scenario
    state: dict[str, object]
    created_at: str
    updated_at: str
    ended_at: str | None
    ended_reason: str | None
    turns: tuple[TurnRecord, ...]  # every attempt, in order

    @property
    def active_turns(self) -> list[TurnRecord]:
        return [t for t in self.turns if t.active]

    def to_json(self, *, turns: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "session_id": self.id,
            "scenario": self.scenario.id,
            "title": self.scenario.title,
            "partner": self.scenario.name,
            "relationship": self.scenario.relationship,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "ended": self.ended_at is not None,
            "ended_reason": self.ended_reason,
            "turns": len(self.active_turns),
            "state": self.state,
        }
        if turns:
            out["turns"] = [t.to_json() for t in self.active_turns]
            out["earlier_attempts"] = [t.to_json() for t in self.turns if not t.active]
        return out


class SessionStore:
    """Sessions in SQLite at `path`; with `path=None`, in memory only ("don't save": nothing touches the disk)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: sqlite3.Connection | None = None
        if path is None:
            self._memory = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            _add_missing_columns(db)

    @property
    def saved(self) -> bool:
        return self.path is not None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = self._memory or sqlite3.connect(self.path or ":memory:", timeout=10)
        try:
            if self._memory is None:
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            if self._memory is None:
                db.close()

    def create(self, scenario: Scenario, state: dict[str, object], owner: str | None = None) -> str:
        session_id = uuid.uuid4().hex[:12]
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO sessions (id, scenario_id, scenario_json, state_json, created_at, updated_at, owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, scenario.id, scenario.model_dump_json(), json.dumps(state), now, now, owner),
            )
        return session_id

    def add_user_turn(
        self,
        session_id: str,
        idx: int,
        attempt: int,
        text: str,
        state_before: dict[str, object],
        safety_category: str | None = None,
    ) -> int:
        with self._connect() as db:
            if attempt > 1:
                db.execute("UPDATE turns SET active = 0 WHERE session_id = ? AND idx = ?", (session_id, idx))
            cur = db.execute(
                "INSERT INTO turns (session_id, idx, attempt, active, user_text, state_before, safety_category, "
                "created_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
                (session_id, idx, attempt, text, json.dumps(state_before), safety_category, _now()),
            )
            db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (_now(), session_id))
            assert cur.lastrowid is not None
            return cur.lastrowid

    def save_feedback(
        self,
        turn_id: int,
        scores: dict[str, object],
        feedback: str,
        rewrite: str | None,
        rewrite_source: str | None,
        rewrite_scores: dict[str, object] | None,
    ) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO scores (turn_id, scores_json, feedback) VALUES (?, ?, ?)",
                (turn_id, json.dumps(scores), feedback),
            )
            db.execute(
                "INSERT OR REPLACE INTO rewrites (turn_id, text, source, scores_json) VALUES (?, ?, ?, ?)",
                (turn_id, rewrite, rewrite_source, json.dumps(rewrite_scores) if rewrite_scores else None),
            )

    def save_reply(
        self, session_id: str, turn_id: int, text: str, move: str, source: str, state_after: dict[str, object]
    ) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE turns SET partner_text = ?, partner_move = ?, partner_source = ?, state_after = ? "
                "WHERE id = ?",
                (text, move, source, json.dumps(state_after), turn_id),
            )
            db.execute(
                "UPDATE sessions SET state_json = ?, updated_at = ? WHERE id = ?",
                (json.dumps(state_after), _now(), session_id),
            )

    def activate(self, session_id: str, turn_id: int) -> None:
        """Make this attempt the one in the conversation (its siblings stay saved as branches)."""
        with self._connect() as db:
            row = db.execute("SELECT idx FROM turns WHERE id = ? AND session_id = ?", (turn_id, session_id)).fetchone()
            if row is None:
                raise SessionNotFound(f"no turn {turn_id} in session {session_id!r}")
            db.execute(
                "UPDATE turns SET active = (id = ?) WHERE session_id = ? AND idx = ?", (turn_id, session_id, row["idx"])
            )

    def restore_state(self, session_id: str, state: dict[str, object]) -> None:
        with self._connect() as db:
            db.execute("UPDATE sessions SET state_json = ? WHERE id = ?", (json.dumps(state), session_id))

    def end(self, session_id: str, reason: str = "user") -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE sessions SET ended_at = ?, ended_reason = ? WHERE id = ? AND ended_at IS NULL",
                (_now(), reason, session_id),
            )

    def load(self, session_id: str, owner: Owner = ANY_OWNER) -> SessionRecord:
        """One session; with `owner`, only if that owner made it (anyone else is told it does not exist)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None or (owner is not ANY_OWNER and row["owner"] != owner):
                raise SessionNotFound(f"no saved session {session_id!r}; `attune sessions` lists them")
            turns = db.execute(
                "SELECT t.*, s.scores_json, s.feedback, r.text AS rewrite, r.source AS rewrite_source, "
                "r.scores_json AS rewrite_scores FROM turns t LEFT JOIN scores s ON s.turn_id = t.id "
                "LEFT JOIN rewrites r ON r.turn_id = t.id WHERE t.session_id = ? ORDER BY t.idx, t.attempt",
                (session_id,),
            ).fetchall()
        return SessionRecord(
            id=row["id"],
            scenario=Scenario.model_validate_json(row["scenario_json"]),
            state=json.loads(row["state_json"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            ended_at=row["ended_at"],
            ended_reason=row["ended_reason"],
            turns=tuple(_turn(t) for t in turns),
        )

    def list(self, owner: Owner = ANY_OWNER) -> list[SessionRecord]:
        """Every session (or only `owner`'s), newest first, with its turns."""
        with self._connect() as db:
            rows = db.execute("SELECT id, owner FROM sessions ORDER BY created_at DESC, rowid DESC").fetchall()
        return [self.load(r["id"]) for r in rows if owner is ANY_OWNER or r["owner"] == owner]


def forget_sessions(path: Path) -> int:
    """Delete the sessions database (and its WAL files); return how many sessions it held."""
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        count = int(db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return count


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Databases made by an earlier version lack the newer columns; add them in place."""
    for table, column in (("sessions", "ended_reason"), ("sessions", "owner"), ("turns", "safety_category")):
        if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")


def _loads(value: str | None) -> dict[str, object] | None:
    return json.loads(value) if value else None


def _turn(row: sqlite3.Row) -> TurnRecord:
    return TurnRecord(
        id=row["id"],
        idx=row["idx"],
        attempt=row["attempt"],
        active=bool(row["active"]),
        user=row["user_text"],
        partner=row["partner_text"],
        move=row["partner_move"],
        partner_source=row["partner_source"],
        state_before=json.loads(row["state_before"]),
        state_after=_loads(row["state_after"]),
        scores=_loads(row["scores_json"]),
        feedback=row["feedback"],
        rewrite=row["rewrite"],
        rewrite_source=row["rewrite_source"],
        rewrite_scores=_loads(row["rewrite_scores"]),
        created_at=row["created_at"],
        safety_category=row["safety_category"],
    )
