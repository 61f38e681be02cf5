"""The safety check on every user message, before any generation: self-harm, abuse by a partner or relative,
harm to others, child abuse. When it fires, the normal flow stops and the reply points to real help.

The rules (agent.safety_rules) name the words that fired them; a learned sentence classifier catches what they
miss. `attune eval safety` measures both on labelled sets.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from agent.safety_rules import SENTENCE, Category, SafetyVerdict, check_message, is_play, normalise

SafetyCheckFn = Callable[[str], SafetyVerdict]  # a user's message -> the verdict; rules only, or rules + classifier

# An answer that agrees with hopelessness or self-harm, in the coach's voice: the model's text is checked as it
# streams, because a detector can miss a question ("I can't see any way out ... except not existing anymore")
# and a small model will then agree ("You're right, there's no way out").
_ANSWER_HARM = re.compile(
    r"\bthere(?:'s| is) (?:really )?no (?:way out|point (?:in )?(?:living|going on|being alive)|hope (?:left )?for you|"
    r"reason to (?:live|go on|keep going))\b"
    r"|\b(?:you(?:'d| would) be|you are|you're|everyone (?:would|will) be) better off (?:dead|gone|without you|not "
    r"(?:existing|here|alive))\b"
    r"|\b(?:you should|you could|it(?:'s| is) (?:okay|ok|fine|understandable) to) (?:end (?:it|your life|things)|"
    r"kill yourself|hurt yourself|stop existing|not exist|give up on (?:life|living))\b"
    r"|\bnot existing (?:is|would be|might be) (?:the|an?) (?:answer|option|way|solution)\b",
    re.IGNORECASE,
)
_AGREEMENT = re.compile(r"^\W*(?:you(?:'re| are) (?:right|correct)|i agree|that(?:'s| is) (?:true|right))\b", re.I)
_HOPELESS = re.compile(
    r"\b(?:(?:no|any) way out|not existing|stop existing|disappear|end it|no point|can'?t go on|"
    r"give up on (?:life|living)|hopeless|no future|don'?t want to be here)\b",
    re.IGNORECASE,
)
_REASSURING = re.compile(r"\b(?:not true|isn'?t true|not the (?:only|answer)|doesn'?t have to|there is help|"
                         r"you deserve support|reach out|crisis line|emergency number)\b", re.IGNORECASE)


def answer_safety(question: str, answer: str) -> SafetyVerdict:
    """Does this (partial) answer agree with hopelessness or self-harm? Checked sentence by sentence as it streams."""
    hopeless_question = bool(_HOPELESS.search(normalise(question)))
    for n, sentence in enumerate(message_sentences(normalise(answer))):
        if _REASSURING.search(sentence):
            continue
        found = _ANSWER_HARM.search(sentence)
        if found:
            return SafetyVerdict(True, "self_harm", found.group())
        agreed = _AGREEMENT.search(sentence)
        if agreed and hopeless_question and n < 2:
            return SafetyVerdict(True, "self_harm", agreed.group().strip())
    return SafetyVerdict(False)


class HelpResource(BaseModel):
    name: str
    contact: str
    for_: list[Category] = Field(default_factory=list, alias="for")


class HelpResources(BaseModel):
    """Where to send someone in danger; localise by pointing ATTUNE_SAFETY__HELP_RESOURCES at your own TOML file."""

    region: str = "international"
    emergency: str
    resources: list[HelpResource]

    def for_category(self, category: Category) -> list[HelpResource]:
        return [r for r in self.resources if not r.for_ or category in r.for_]


def load_help_resources(path: Path | None = None) -> HelpResources:
    raw = path.read_text(encoding="utf-8") if path else (
        resources.files("agent") / "help_resources.toml"
    ).read_text(encoding="utf-8")
    return HelpResources.model_validate(tomllib.loads(raw))


_OPENING: dict[Category, str] = {
    "self_harm": (
        "Thank you for telling me. What you're carrying sounds really heavy, and you deserve support right now "
        "from a person who can be with you in this. You don't have to handle it alone."
    ),
    "partner_violence": (
        "Thank you for telling me. What you describe is not your fault, and it is not a communication problem to "
        "fix: no one should hurt, threaten, force or control you. You deserve to be safe."
    ),
    "harm_to_others": (
        "Thank you for being honest about this. Feeling this close to hurting someone is serious, and it is "
        "something to get help with now, before anything happens. Please step away from the situation if you can."
    ),
    "child_abuse": (
        "Thank you for telling me. What you describe is not your fault, and it is not a communication problem to "
        "fix: a child being hurt needs protection from people who can act. You deserve to be safe, and so do they."
    ),
}


def safety_reply(verdict: SafetyVerdict, help_resources: HelpResources) -> str:
    """Calm, validating and direct; never role-play, never tips for talking to someone who hurts you."""
    assert verdict.category is not None
    lines = [_OPENING[verdict.category], "", f"If you are in danger right now, call {help_resources.emergency}."]
    for r in help_resources.for_category(verdict.category):
        lines.append(f"- {r.name}: {r.contact}")
    lines += [
        "",
        "Attune is a coach, not a therapist or a crisis service, so I won't carry on with coaching or practice "
        "about this. If you'd like, you can talk it through with one of the people above; they are there for "
        "exactly this.",
    ]
    return "\n".join(lines)


Embed = Callable[[list[str]], np.ndarray]  # texts -> unit vectors, one row each
CLASSES: tuple[str, ...] = ("none", "self_harm", "partner_violence", "harm_to_others", "child_abuse")


# The classifier embeds at most this many sentences of a message (about a second here); the rules read them all.
MAX_CLASSIFIED_SENTENCES = 120


def message_sentences(text: str) -> list[str]:
    """The sentences the classifier reads: all of them, or of a very long message its start and its end (a long
    story often comes to what happened last)."""
    found = [m.group().strip() for m in SENTENCE.finditer(normalise(text)) if len(m.group().strip()) > 3]
    if len(found) > MAX_CLASSIFIED_SENTENCES:
        half = MAX_CLASSIFIED_SENTENCES // 2
        found = found[:half] + found[-half:]
    return found or [normalise(text)]


@dataclass(frozen=True)
class SafetyModel:
    """A linear classifier over sentence embeddings (all-MiniLM-L6-v2), trained by `attune eval safety --train`."""

    coef: np.ndarray  # (classes, dims)
    intercept: np.ndarray  # (classes,)
    threshold: float  # flag a sentence when 1 - P(none) reaches this

    @classmethod
    def load(cls, path: Path | None = None) -> SafetyModel:
        source = path or Path(str(resources.files("agent") / "safety_model.npz"))
        with np.load(source) as arrays:
            return cls(arrays["coef"].astype(np.float64), arrays["intercept"].astype(np.float64),
                       float(arrays["threshold"]))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
                            threshold=np.float32(self.threshold))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


class SafetyCheck:
    """The rules first; then, with an embedder, the learned classifier on each sentence the rules let through.

    The classifier catches disclosures phrased in ways no rule foresaw (see the README for what each layer
    catches on a held-out set).
    """

    def __init__(self, embed: Embed | None = None, model: SafetyModel | None = None) -> None:
        self.embed = embed
        self._model = model

    @property
    def model(self) -> SafetyModel:
        if self._model is None:
            self._model = SafetyModel.load()
        return self._model

    def __call__(self, text: str) -> SafetyVerdict:
        verdict = check_message(text)
        if verdict.flagged or self.embed is None:
            return verdict
        sentences = message_sentences(text)
        probs = self.model.probabilities(np.asarray(self.embed(sentences), dtype=np.float64))
        danger = 1.0 - probs[:, 0]
        # Play and hyperbole ("going to kill me when she finds out") let the rules through; the classifier too.
        danger[[is_play(s) for s in sentences]] = 0.0
        best = int(np.argmax(danger))
        if danger[best] >= self.model.threshold:
            category = CLASSES[1 + int(np.argmax(probs[best, 1:]))]
            return SafetyVerdict(True, category, sentences[best])  # type: ignore[arg-type]
        return verdict
