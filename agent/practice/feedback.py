"""The practice coach: scores a user's turn on the rubric, explains it with quotes, and offers a better way
to say it, checked on the same rubric (the model's rewrite if it scores better, else a rule-based I-statement).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agent.practice.partner import OUT_OF_CHARACTER
from agent.practice.scenarios import Scenario
from eval.rubric import RubricScore, Scorer
from eval.rubric.text import sentence_matches

HORSEMAN_NAMES = {
    "criticism": "Criticism",
    "contempt": "Contempt",
    "defensiveness": "Defensiveness",
    "stonewalling": "Stonewalling",
    "labels": "Labelling",
}
ANTIDOTE_NAMES = {
    "gentle_startup": "a gentle start",
    "i_statement": "an I-statement",
    "need": "a clear need or request",
    "responsibility": "taking your share of responsibility",
}
MECHANISM_NAMES = {
    "emotional_reactions": "warmth",
    "interpretations": "showing you understand their side",
    "explorations": "curiosity about their side",
}
# Words in a blaming sentence, and the feeling an I-statement would name instead.
_FEELING_CUES: tuple[tuple[str, str], ...] = (
    (r"listen|hear|interrupt", "unheard"),
    (r"ignor|phone|notice|see me", "ignored"),
    (r"help|chores|housework|do anything|thank", "unappreciated"),
    (r"respect|mock|laugh at", "disrespected"),
    (r"late|wait|never on time", "frustrated"),
    (r"alone|left out|invite", "left out"),
    (r"money|pay|spend", "worried"),
)


@dataclass(frozen=True)
class TurnFeedback:
    scores: RubricScore
    feedback: str
    rewrite: str | None
    rewrite_scores: RubricScore | None
    rewrite_source: str | None  # "model" or "rules"; None when no rewrite beat the turn


def explain(score: RubricScore) -> str:
    """What worked, what sounded like blame (the horseman named, the words quoted), and what to add."""
    parts: list[str] = []
    worked = [f"{ANTIDOTE_NAMES.get(f.kind, f.kind)} (\"{f.span}\")" for f in score.non_blame.strengths]
    blamed = [(f.start, f.end) for f in score.non_blame.flags]
    for m, name in MECHANISM_NAMES.items():
        ms = getattr(score.empathy, m)
        evidence = [e for e in ms.evidence if not any(e.start <= a < e.end for a, _ in blamed)]
        # Warmth the model heard inside a blaming sentence is not worth praising.
        if ms.level > 0 and (evidence or not ms.evidence):
            worked.append(f"{name} (\"{evidence[0].span}\")" if evidence else name)
    if worked:
        parts.append("What worked: " + "; ".join(worked) + ".")
    for flag in score.non_blame.flags:
        parts.append(f"{HORSEMAN_NAMES.get(flag.kind, flag.kind)}: \"{flag.span}\" {flag.reason}.")
    missing = []
    if not any(f.kind == "i_statement" for f in score.non_blame.strengths):
        missing.append("say how you feel (\"I feel ...\")")
    if not any(f.kind == "need" for f in score.non_blame.strengths):
        missing.append("name what you need")
    if not score.empathy.explorations.level:
        missing.append("ask about their side")
    if missing:
        parts.append("Next time: " + ", ".join(missing) + ".")
    return " ".join(parts) or "A neutral turn: nothing sounded like blame."


def _feeling(text: str) -> str:
    lowered = text.lower()
    return next((feeling for cue, feeling in _FEELING_CUES if re.search(cue, lowered)), "hurt")


def rule_rewrite(text: str, score: RubricScore, scenario: Scenario) -> str:
    """An I-statement built from the turn: its blaming sentences become a feeling about the scenario's topic,
    its blame-free sentences stay, and a question about the other side closes it."""
    flagged = [f.start for f in score.non_blame.flags]
    kept: list[str] = []
    blamed: list[str] = []
    for m in sentence_matches(text):
        sentence = m.group().strip()
        (blamed if any(m.start() <= s < m.end() for s in flagged) else kept).append(sentence)
    has_feeling = any(f.kind == "i_statement" for f in score.non_blame.strengths)
    opening = [] if has_feeling else [f"I feel {_feeling(' '.join(blamed) or text)} when {scenario.topic}."]
    has_need = any(f.kind == "need" for f in score.non_blame.strengths)
    need = [] if has_need else ["I'd like us to find a way to talk about it."]
    question = [] if score.empathy.explorations.level else ["How does it look from your side?"]
    return " ".join(opening + kept + need + question)


REWRITE_SYSTEM = (
    "You rewrite one message in a hard conversation so it keeps its meaning but blames no one. "
    "Use 'I feel ... when ...', say what you need, and end with one gentle question. "
    "Write only the new message, in the first person, two or three sentences."
)


_COACH_SPEAK = re.compile(r"[\[\]\"“”]|\brewrit|\bmessage\b|for example", re.IGNORECASE)


def model_rewrite(model: BaseChatModel, text: str, scenario: Scenario, max_tokens: int = 90) -> str | None:
    prompt = f"The conversation is with {scenario.name} about how {scenario.topic}.\nMessage: {text}\nRewrite:"
    raw = model.invoke([SystemMessage(REWRITE_SYSTEM), HumanMessage(prompt)], max_tokens=max_tokens).text
    line = raw.strip().strip('"“”').split("\n\n")[0].strip()
    line = re.sub(r"^(?:rewrite|new message|message)\s*:\s*", "", line, flags=re.I).strip().strip('"“”')
    # Coach-speak ("for example", citations, quotes inside) is advice about the message, not the message.
    if len(line) < 10 or len(line) > 2 * len(text) + 160 or _COACH_SPEAK.search(line):
        return None
    if OUT_OF_CHARACTER.search(line):  # a counsellor's sympathy is not the user's message said better
        return None
    return line


_FILLER = {"this", "that", "with", "what", "when", "have", "been", "about", "your", "just", "like", "feel", "really"}


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 3 and w not in _FILLER}


def _keeps_meaning(rewrite: str, text: str, scenario: Scenario) -> bool:
    """Cheap check that the rewrite is about the same thing: two content words shared with the turn or topic."""
    return len(_content_words(rewrite) & (_content_words(text) | _content_words(scenario.topic))) >= 2


def _repeats_blame(rewrite: str, score: RubricScore) -> bool:
    """A rewrite that still carries the words a horseman was flagged on has not removed the blame."""
    words = _content_words(rewrite) | set(re.findall(r"[a-z']+", rewrite.lower()))
    return any(
        (flagged := _content_words(f.span) - {"never", "always"}) and flagged <= words for f in score.non_blame.flags
    )


ALREADY_SKILFUL = "That already works: no rewrite needed."


def needs_rewrite(score: RubricScore) -> bool:
    """A turn with no blame cue that already shows a skill (an antidote, or empathy worth 2 of 6) is left as it is."""
    if score.non_blame.flags or score.non_blame.cues:
        return True
    return not (score.non_blame.strengths or score.empathy.total >= 2)


class PracticeCoach:
    def __init__(self, scorer: Scorer, model: BaseChatModel | None, scenario: Scenario) -> None:
        self.scorer = scorer
        self.model = model
        self.scenario = scenario

    def score(self, partner_line: str, text: str) -> RubricScore:
        return self.scorer.score(partner_line, text)

    def feedback(self, partner_line: str, text: str, score: RubricScore) -> TurnFeedback:
        if not needs_rewrite(score):
            # Nothing a rewrite could fix, so no model time is spent drafting one only to discard it.
            return TurnFeedback(score, f"{explain(score)} {ALREADY_SKILFUL}", None, None, None)
        candidates: list[tuple[str, str]] = []
        if self.model is not None:
            drafted = model_rewrite(self.model, text, self.scenario)
            if drafted and _keeps_meaning(drafted, text, self.scenario) and not _repeats_blame(drafted, score):
                candidates.append((drafted, "model"))
        candidates.append((rule_rewrite(text, score, self.scenario), "rules"))
        for candidate, source in candidates:
            candidate_score = self.scorer.score(partner_line, candidate)
            # An example to copy must carry no rule hit at all, not merely fall under the classifier's threshold.
            if not candidate_score.non_blame.cues and candidate_score.better_than(score):
                return TurnFeedback(score, explain(score), candidate, candidate_score, source)
        return TurnFeedback(score, explain(score), None, None, None)
