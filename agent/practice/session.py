"""A practice session: the user's turn is saved, scored, moves the partner's state, gets the partner's reply
and the coach's rewrite, each step written to the store as it completes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NoReturn

from langchain_core.language_models.chat_models import BaseChatModel

from agent.practice.feedback import PracticeCoach
from agent.practice.partner import Partner, tells_need
from agent.practice.scenarios import Scenario
from agent.practice.state import PartnerState, choose_move, initial_state, signal_of
from agent.practice.state import advance as advance_state
from agent.practice.store import ANY_OWNER, Owner, SessionRecord, SessionStore, TurnRecord
from agent.safety import SafetyCheckFn, SafetyVerdict
from agent.text import printable
from eval.rubric import Scorer

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadTurn(ValueError):
    """The user's turn cannot be used (empty, too long, or the session has ended); one-line message."""


class SafetyStop(Exception):
    """The user disclosed danger: the turn is kept, the session ends, and no role-play follows."""

    def __init__(self, verdict: SafetyVerdict) -> None:
        super().__init__(verdict.category)
        self.verdict = verdict


def clean_turn(text: str, max_chars: int) -> str:
    text = printable(_CONTROL.sub(" ", text)).strip()
    if not text:
        raise BadTurn("say something: the turn is empty")
    if len(text) > max_chars:
        raise BadTurn(f"the turn is {len(text)} characters; keep it under {max_chars}")
    return text


def checked_turn(text: str, max_chars: int, safety_check: SafetyCheckFn) -> tuple[str, SafetyVerdict]:
    """The cleaned turn and its safety verdict. The check comes before the length limit: a long message that
    tells of danger gets help, not "keep it shorter"."""
    try:
        text = clean_turn(text, max_chars)
    except BadTurn:
        long = printable(_CONTROL.sub(" ", text)).strip()
        verdict = safety_check(long) if long else SafetyVerdict(False)
        if verdict.flagged:
            return long, verdict
        raise
    return text, safety_check(text)


@dataclass(frozen=True)
class BranchComparison:
    """The last turn and its retry, side by side on the rubric."""

    first: TurnRecord
    retry: TurnRecord

    @property
    def retry_better(self) -> bool:
        first, retry = self.first.score, self.retry.score
        return retry is not None and (first is None or retry.better_than(first))

    def to_json(self) -> dict[str, object]:
        return {"first": self.first.to_json(), "retry": self.retry.to_json(), "retry_better": self.retry_better}


def _pending(record: SessionRecord) -> TurnRecord | None:
    """A user turn saved without its reply: the process stopped while the reply was being generated."""
    turns = record.active_turns
    return turns[-1] if turns and turns[-1].pending else None


class PracticeSession:
    def __init__(
        self,
        store: SessionStore,
        session_id: str,
        scenario: Scenario,
        model: BaseChatModel,
        scorer: Scorer,
        safety_check: SafetyCheckFn,
        *,
        max_turn_chars: int = 2000,
        model_lines: bool = True,
        partner_candidates: int = 3,
    ) -> None:
        self.store = store
        self.id = session_id
        self.scenario = scenario
        self.partner = Partner(model, scenario, model_lines=model_lines, candidates=partner_candidates)
        self.coach = PracticeCoach(scorer, model, scenario)
        self.max_turn_chars = max_turn_chars
        self.safety_check = safety_check  # required: a disclosure must end the role-play, whoever built the session

    @classmethod
    def start(
        cls,
        store: SessionStore,
        scenario: Scenario,
        model: BaseChatModel,
        scorer: Scorer,
        safety_check: SafetyCheckFn,
        owner: str | None = None,
        *,
        max_turn_chars: int = 2000,
        model_lines: bool = True,
        partner_candidates: int = 3,
    ) -> PracticeSession:
        session_id = store.create(scenario, initial_state(scenario.difficulty).to_json(), owner)
        return cls(store, session_id, scenario, model, scorer, safety_check, max_turn_chars=max_turn_chars,
                   model_lines=model_lines, partner_candidates=partner_candidates)

    @classmethod
    def resume(
        cls,
        store: SessionStore,
        session_id: str,
        model: BaseChatModel,
        scorer: Scorer,
        safety_check: SafetyCheckFn,
        owner: Owner = ANY_OWNER,
        *,
        max_turn_chars: int = 2000,
        model_lines: bool = True,
        partner_candidates: int = 3,
    ) -> PracticeSession:
        record = store.load(session_id, owner)
        return cls(store, session_id, record.scenario, model, scorer, safety_check, max_turn_chars=max_turn_chars,
                   model_lines=model_lines, partner_candidates=partner_candidates)

    def record(self) -> SessionRecord:
        return self.store.load(self.id)

    def say(self, text: str) -> TurnRecord:
        """Take one turn; raises SafetyStop (after saving the turn and ending the session) on a disclosure."""
        text, verdict = checked_turn(text, self.max_turn_chars, self.safety_check)
        record = self.record()
        self._refuse_if_ended(record)
        if _pending(record) is not None:
            raise BadTurn("the last turn has no reply yet; finish it first (resume the session)")
        idx = len(record.active_turns) + 1
        # Saved before any model call, so a killed process loses at most the reply in flight.
        turn_id = self.store.add_user_turn(self.id, idx, 1, text, record.state, verdict.category)
        if verdict.flagged:
            self._stop(verdict)
        return self._complete(turn_id)

    def _refuse_if_ended(self, record: SessionRecord) -> None:
        if record.ended_reason == "safety":
            raise BadTurn("this session stopped because you told me you may be in danger; it will not continue")
        if record.ended_at is not None:
            raise BadTurn("this session has ended; start a new one to keep practising")

    def _stop(self, verdict: SafetyVerdict) -> NoReturn:
        self.store.end(self.id, reason="safety")
        raise SafetyStop(verdict)

    def retry(self, text: str) -> BranchComparison:
        """Say the last turn again from the state before it; both branches are kept and compared, and the retry
        replaces the first try in the conversation only when it scores better."""
        text, verdict = checked_turn(text, self.max_turn_chars, self.safety_check)
        record = self.record()
        self._refuse_if_ended(record)
        turns = record.active_turns
        if not turns:
            raise BadTurn("there is no turn to try again yet")
        last = turns[-1]
        self.store.restore_state(self.id, last.state_before)
        attempts = [t for t in record.turns if t.idx == last.idx]
        turn_id = self.store.add_user_turn(
            self.id, last.idx, len(attempts) + 1, text, last.state_before, verdict.category
        )
        if verdict.flagged:
            self._stop(verdict)
        comparison = BranchComparison(last, self._complete(turn_id))
        if not comparison.retry_better:  # a retry that scores no better is kept as a branch, not swapped in
            self.store.activate(self.id, last.id)
            self.store.restore_state(self.id, last.state_after or last.state_before)
        return comparison

    def finish_pending(self) -> TurnRecord | None:
        record = self.record()
        if record.ended_at is not None:  # e.g. a disclosure: its turn is kept, never answered
            return None
        pending = _pending(record)
        return self._complete(pending.id) if pending else None

    def _complete(self, turn_id: int) -> TurnRecord:
        record = self.record()
        turn = next(t for t in record.turns if t.id == turn_id)
        earlier = [t for t in record.active_turns if t.idx < turn.idx]
        last_line = earlier[-1].partner if earlier and earlier[-1].partner else self.scenario.opening_line
        before = PartnerState.from_json(turn.state_before)

        score = self.coach.score(last_line, turn.user)
        signal = signal_of(score)
        after = advance_state(before, signal)
        move = choose_move(after, signal)
        history = [(t.user, t.partner or "") for t in earlier] + [(turn.user, "")]
        line = self.partner.reply(after, move, history)
        after = replace(after, last_move=move, need_said=after.need_said or tells_need(after, move))
        feedback = self.coach.feedback(last_line, turn.user, score)
        self.store.save_feedback(
            turn_id,
            score.to_json(),
            feedback.feedback,
            feedback.rewrite,
            feedback.rewrite_source,
            feedback.rewrite_scores.to_json() if feedback.rewrite_scores else None,
        )
        # The reply is saved last: a turn with a reply is complete, one without is finished on resume.
        self.store.save_reply(self.id, turn_id, line.text, move.value, line.source, after.to_json())
        return next(t for t in self.record().turns if t.id == turn_id)

    def end(self) -> None:
        self.store.end(self.id)


