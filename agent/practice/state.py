"""The partner's openness as explicit session state, moved only by the rubric's scores of the user's turns.

Pure functions of (state, score): the role-play dynamic is tested here without any model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from eval.rubric import RubricScore

# 0 escalated, 1 guarded, 2 listening, 3 open (the hidden need comes out), 4 ready to settle
OPENNESS_LABELS = ("escalated", "guarded", "listening", "open", "ready to settle")
MAX_OPENNESS = len(OPENNESS_LABELS) - 1
REVEAL_AT = 3
START = {"easy": 2, "medium": 1, "hard": 1}
# Hard partners need two warm turns in a row before they move: one nice sentence is not enough.
WARM_STREAK_NEEDED = {"easy": 1, "medium": 1, "hard": 2}


class Move(StrEnum):
    """Rehearsal's conflict moves: the partner picks one before writing its line."""

    ASSERT = "assert"  # insists on its interests, rights or power
    FACTS = "state_facts"  # states facts from its side
    PROPOSE = "propose"  # puts forward a way out
    CONCEDE = "concede"  # gives ground and admits the hidden need


@dataclass(frozen=True)
class TurnSignal:
    """What the rubric saw in one user turn, reduced to what moves the partner."""

    blame: tuple[str, ...]  # horsemen found
    warmth: tuple[str, ...]  # antidotes and empathy mechanisms found

    @property
    def warm(self) -> bool:
        return not self.blame and len(self.warmth) >= 2


@dataclass(frozen=True)
class PartnerState:
    openness: int
    difficulty: str = "medium"
    turn: int = 0
    warm_streak: int = 0
    revealed: bool = False  # open enough to tell the hidden need
    last_move: Move | None = None
    need_said: bool = False  # has told it, in the card's words (a proposal can come before it)

    @property
    def label(self) -> str:
        return OPENNESS_LABELS[self.openness]

    def to_json(self) -> dict[str, object]:
        return {
            "openness": self.openness,
            "label": self.label,
            "turn": self.turn,
            "warm_streak": self.warm_streak,
            "revealed": self.revealed,
            "need_said": self.need_said,
            "last_move": self.last_move.value if self.last_move else None,
            "difficulty": self.difficulty,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PartnerState:
        move = data.get("last_move")
        return cls(
            openness=int(str(data["openness"])),
            difficulty=str(data.get("difficulty", "medium")),
            turn=int(str(data.get("turn", 0))),
            warm_streak=int(str(data.get("warm_streak", 0))),
            revealed=bool(data.get("revealed", False)),
            # Sessions saved before this field: a reveal was said on its first proposal, when it was not a repeat.
            need_said=bool(data.get("need_said", data.get("revealed", False))),
            last_move=Move(str(move)) if move else None,
        )


def initial_state(difficulty: str) -> PartnerState:
    return PartnerState(openness=START[difficulty], difficulty=difficulty)


def signal_of(score: RubricScore) -> TurnSignal:
    warmth = [f.kind for f in score.non_blame.strengths]
    levels = score.empathy.levels()
    if levels["emotional_reactions"] or levels["interpretations"]:
        warmth.append("empathy")
    if levels["explorations"]:
        warmth.append("curiosity")
    return TurnSignal(blame=tuple(score.non_blame.horsemen), warmth=tuple(dict.fromkeys(warmth)))


def advance(state: PartnerState, signal: TurnSignal) -> PartnerState:
    """The partner's state after one user turn.

    Blame closes them by one step (contempt, the strongest predictor of breakdown, by two); a warm turn
    opens them by at most one step, and on hard scenarios only after a streak of warm turns.
    """
    openness, streak = state.openness, state.warm_streak
    if signal.blame:
        openness -= 2 if "contempt" in signal.blame else 1
        streak = 0
    elif signal.warm:
        streak += 1
        if streak >= WARM_STREAK_NEEDED[state.difficulty]:
            openness += 1
            streak = 0
    openness = max(0, min(MAX_OPENNESS, openness))
    return replace(
        state,
        openness=openness,
        turn=state.turn + 1,
        warm_streak=streak,
        revealed=state.revealed or openness >= REVEAL_AT,
    )


def choose_move(state: PartnerState, signal: TurnSignal | None) -> Move:
    """The partner's next move, from its openness and how it was just addressed."""
    if signal is not None and signal.blame:
        return Move.ASSERT
    if state.openness >= MAX_OPENNESS:
        return Move.CONCEDE
    if state.openness == REVEAL_AT:
        return Move.PROPOSE
    if state.openness == REVEAL_AT - 1:
        # Listening: alternate between its facts and a first proposal so it does not loop.
        return Move.PROPOSE if state.last_move == Move.FACTS else Move.FACTS
    if state.openness == 1:
        return Move.FACTS if state.last_move == Move.ASSERT else Move.ASSERT
    return Move.ASSERT
