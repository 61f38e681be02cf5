"""The partner: plays the other person in a scenario, one move at a time, and never turns into the coach.

The move is chosen first (state.choose_move); the model then writes one short line in that move. A line that
breaks character falls back to the scenario's own words for that move, so the role-play never derails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.practice.scenarios import STYLE_NOTES, Scenario
from agent.practice.state import Move, PartnerState
from eval.rubric.text import sentences as split_sentences

MOVE_INSTRUCTIONS: dict[Move, str] = {
    Move.ASSERT: "Stand your ground: insist on what you want and why you have the right to it. Do not apologise.",
    Move.FACTS: "Calmly state a fact from your side of the story.",
    Move.PROPOSE: "Suggest a way forward that would work for you.",
    Move.CONCEDE: "Give some ground: admit your part and say what you really need.",
}

# Lines that mean the model stepped out of the role: coaching, meta-talk, speaking as an assistant, or the
# counsellor's sympathy small models fall into ("sorry to hear that, you're not alone").
OUT_OF_CHARACTER = re.compile(
    r"\b(?:as an ai|language model|assistant|i-statement|non-?blame|rubric|role-?play|in this scenario|"
    r"your partner|communication skills|it'?s important to|remember to|here(?:'s| is) (?:a|an|my) (?:response|reply)|"
    r"user|coach|sorry,? I can'?t|I can'?t help|how can I help|here'?s|for example|response|they said|"
    r"conversation|my previous|sorry to hear|you'?re not alone|i can only imagine|it'?s okay to feel|"
    r"how you must|i understand how|journey|support you|for your loss|can'?t assist|cannot assist)\b|"
    r"^\s*you are\b|[()\[\]]",
    re.IGNORECASE,
)


# The prompt's own words (the move instructions, the reveal gate, the rules) must never come back as a line: a
# small model often turns "Keep your private reasons to yourself" into "I'll keep my private reasons to myself".
_PROMPT_WORDS = (
    " ".join(MOVE_INSTRUCTIONS.values())
    + " Keep your private reasons to yourself for now. You are now ready to share what is really going on."
    " Speak only as yourself, in one or two short spoken sentences. Never give advice about communication."
)
_SCAFFOLD = re.compile(r"what you need:|your view:|situation:|next move|for example:|reply as", re.IGNORECASE)
_AS_SECOND_PERSON = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i'm": "you're",
                     "i'll": "you'll", "i've": "you've", "i'd": "you'd", "am": "are"}


def _five_grams(text: str) -> set[tuple[str, ...]]:
    words = [_AS_SECOND_PERSON.get(w, w) for w in re.findall(r"[a-z']+", text.lower())]
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


_PROMPT_GRAMS = _five_grams(_PROMPT_WORDS)


def leaks_card(line: str, scenario: Scenario, revealed: bool) -> bool:
    """The line repeats the prompt's instructions or labels, or tells a hidden interest or need before its time."""
    if _SCAFFOLD.search(line) or _five_grams(line) & _PROMPT_GRAMS:
        return True
    return not revealed and any(h.lower() in line.lower() for h in [*scenario.interests, *scenario.needs])


# On an assert move the partner holds its ground: an apology there is giving in after one sentence.
_APOLOGY = re.compile(r"\b(?:sorry|apologi[sz]e|you'?re right)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PartnerLine:
    text: str
    move: Move
    source: str  # "model", or "script" when the model's line broke character and the scenario's words stood in


def scripted_line(scenario: Scenario, move: Move, state: PartnerState) -> str:
    """The scenario's own words for a move: the fallback, and the model's guide."""
    # The first move after opening up, whichever it is, tells the hidden need before anything else.
    reveal = f"{scenario.reveal} " if tells_need(state, move) else ""
    match move:
        case Move.ASSERT:
            return scenario.stance[state.turn % len(scenario.stance)]
        case Move.FACTS:
            return reveal + scenario.facts[state.turn % len(scenario.facts)]
        case Move.PROPOSE:
            return reveal + scenario.proposals[state.turn % len(scenario.proposals)]
        case Move.CONCEDE:
            return reveal + scenario.concessions[state.turn % len(scenario.concessions)]
    raise AssertionError(move)


def tells_need(state: PartnerState, move: Move) -> bool:
    """Whether this line is the one that says the hidden need: open enough, not said yet, and not a move that
    holds ground (a blaming turn right after opening up delays it to the next one)."""
    return state.revealed and not state.need_said and move is not Move.ASSERT


def fallback_line(scenario: Scenario, move: Move, state: PartnerState, said: set[str]) -> str:
    """The card's words when the model's line is unusable: the move's own line unless it was already said, then
    another line of the card not yet said, so a conversation does not hear the same sentence twice."""
    first = scripted_line(scenario, move, state)

    def unsaid(line: str) -> bool:  # a card line said inside a longer one (after the reveal) counts as said
        return not any(line in earlier for earlier in said)

    if unsaid(first):
        return first
    # The move's own lines first, then lines of a neighbouring move: a partner that has run out of offers
    # explains itself rather than going back to defending.
    candidates = {
        Move.ASSERT: [*scenario.stance, *scenario.facts],
        Move.FACTS: [*scenario.facts, *scenario.stance],
        Move.PROPOSE: [*scenario.proposals, *scenario.facts],
        Move.CONCEDE: [*scenario.concessions, *scenario.proposals],
    }[move]
    for line in candidates:
        if unsaid(line):
            return line
    return first  # every line of the card has been said: repeating one is better than leaving the role


def partner_messages(
    scenario: Scenario, state: PartnerState, move: Move, history: Sequence[tuple[str, str]]
) -> list[BaseMessage]:
    """The prompt: the character card, the dialogue, then the chosen move with the scenario's words as a guide.

    Everything that changes from turn to turn (the move, whether the hidden need may come out) goes in the last
    message, so the card and the dialogue so far are the same prefix every turn and their KV state is reused.
    """
    hidden = (
        f"You are now ready to share what is really going on: {'; '.join(scenario.interests)}. "
        f"What you need: {'; '.join(scenario.needs)}. "
        if state.revealed
        else "Keep your private reasons to yourself for now. "
    )
    system = (
        f"You are {scenario.name}, {scenario.role.replace('your ', 'the other person’s ')}, in a real conversation. "
        f"Situation: {scenario.situation} Your view: {scenario.position} {STYLE_NOTES[scenario.style]} "
        "Speak only as yourself, in one or two short spoken sentences. Never give advice about communication."
    )
    messages: list[BaseMessage] = [SystemMessage(system), AIMessage(scenario.opening_line)]
    for user, partner in history:
        messages.append(HumanMessage(user))
        if partner:
            messages.append(AIMessage(partner))
    guide = scripted_line(scenario, move, state)
    messages[-1] = HumanMessage(
        f"{messages[-1].text}\n\n[{scenario.name}'s next move: {hidden}{MOVE_INSTRUCTIONS[move]} "
        f"For example: \"{guide}\" Reply as {scenario.name} only.]"
    )
    return messages


def clean_line(text: str, scenario: Scenario) -> str | None:
    """The model's reply as one short spoken line, or None when it broke character or said nothing."""
    text = re.sub(rf"^\s*(?:{re.escape(scenario.name)}|partner|me)\s*:\s*", "", text.strip(), flags=re.I)
    text = text.strip().strip('"“”').strip()
    text = text.split("\n")[0].strip()
    sentences = split_sentences(text)  # one line by now: the rubric's splitter splits it as before
    finished = [s for s in sentences if s[-1] in ".!?"]
    # Brief and whole: at most two sentences, and none cut off by the token limit.
    line = " ".join((finished or sentences)[:2]).strip()
    if len(line) < 2 or OUT_OF_CHARACTER.search(line) or "[" in line:
        return None
    return line[:400]


class Partner:
    def __init__(
        self,
        model: BaseChatModel,
        scenario: Scenario,
        *,
        max_tokens: int = 80,
        model_lines: bool = True,
        candidates: int = 3,
        sample_temperature: float = 0.8,
    ) -> None:
        self.model = model
        self.scenario = scenario
        self.max_tokens = max_tokens
        self.model_lines = model_lines  # False: the card's words only, never the model's (see PracticeSettings)
        self.candidates = candidates  # lines drafted per turn before the card speaks instead
        self.sample_temperature = sample_temperature
        self.rejected: list[str] = []  # the last turn's drafts that failed a check, for reports and tests

    def reply(self, state: PartnerState, move: Move, history: Sequence[tuple[str, str]]) -> PartnerLine:
        """One line in the chosen move; `history` ends with the user's turn that awaits it."""
        if tells_need(state, move):
            # The moment the hidden need comes out is the point of the exercise: say it in the scenario's words.
            return PartnerLine(scripted_line(self.scenario, move, state), move, "script")
        earlier = {partner for _, partner in history if partner} | {self.scenario.opening_line}
        if not self.model_lines:
            return PartnerLine(fallback_line(self.scenario, move, state, earlier), move, "script")
        messages = partner_messages(self.scenario, state, move, history)
        self.rejected = []
        for k in range(self.candidates):
            # The first draft is greedy; the others are sampled, so a line that broke character is not redrawn.
            sampling: dict[str, Any] = (
                {} if k == 0 else {"temperature": self.sample_temperature, "seed": 1000 + 17 * k + state.turn}
            )
            # Tagged so callbacks (`attune bench`) can tell the partner's calls from the coach's.
            raw = self.model.invoke(messages, config={"tags": ["partner"]}, max_tokens=self.max_tokens,
                                    **sampling).text
            line = clean_line(raw, self.scenario)
            if line is not None and self._fits(line, move, state, earlier, history):
                return PartnerLine(line, move, "model")
            self.rejected.append(raw)
        return PartnerLine(fallback_line(self.scenario, move, state, earlier), move, "script")

    def _fits(
        self, line: str, move: Move, state: PartnerState, earlier: set[str], history: Sequence[tuple[str, str]]
    ) -> bool:
        """In character: does not give in on an assert move, repeat the dialogue, leak the card, name itself or
        parrot."""
        gives_in = move is Move.ASSERT and _APOLOGY.search(line)
        repeats = any(similarity(line, before) > NEAR_REPEAT for before in earlier)
        leaks = leaks_card(line, self.scenario, state.revealed)
        # "Hey Priya", said by Priya: the model has swapped roles and is talking to its own character.
        own_name = re.search(rf"\b{re.escape(self.scenario.name)}\b", line) is not None
        return not (gives_in or repeats or leaks or own_name or _echoes(line, history[-1][0] if history else ""))


NEAR_REPEAT = 0.7  # word overlap (Jaccard) above which a line counts as said before


def similarity(a: str, b: str) -> float:
    """Word overlap of two lines (Jaccard, words of three letters or more): 1.0 for the same words."""
    wa = {w for w in re.findall(r"[a-z']+", a.lower()) if len(w) > 2}
    wb = {w for w in re.findall(r"[a-z']+", b.lower()) if len(w) > 2}
    return len(wa & wb) / len(wa | wb) if wa and wb else float(a.strip().lower() == b.strip().lower())


def _echoes(line: str, user: str) -> bool:
    """Small models often parrot the user's turn back; that is not an answer."""
    a, b = set(re.findall(r"\w+", line.lower())), set(re.findall(r"\w+", user.lower()))
    return bool(a) and len(a & b) / len(a) > 0.8
