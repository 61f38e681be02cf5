"""The safety check on every user message, before any generation: self-harm, abuse by a partner or relative,
harm to others, child abuse. When it fires, the normal flow stops and the reply points to real help.

Rules, sentence by sentence, each naming the words that fired it, with negations ("he has never hit me") and play
or hyperbole ("he beat me at chess") let through; then a learned sentence classifier for what the rules miss.
`attune eval safety` measures both on labelled sets.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

Category = Literal["self_harm", "partner_violence", "harm_to_others", "child_abuse"]

_AGENT = (
    r"(?:he|she|they|him|her|my (?:(?:new|current|old|former|late|own) )?"
    r"(?:partner|husband|wife|boyfriend|girlfriend|fianc[ée]e?|spouse|ex|"
    r"(?:ex|first|former)[- ]?(?:husband|wife|boyfriend|girlfriend|partner)|mother|mum|mom|father|dad|stepdad|"
    r"stepfather|stepmum|stepmom|stepmother|brother|sister|uncle|aunt|cousin|grandfather|grandad|flatmate|roommate|"
    r"(?:mum|mom)'s boyfriend))"
)
_CHILD = (
    r"(?:my|our|the|his|her) (?:kids?|child(?:ren)?|son|daughter|baby|toddler|little (?:brother|sister|one)|"
    r"stepson|stepdaughter|boy|girl)"
)
_BODY = (
    r"(?:me|my (?:head|face|arm|arms|neck|throat|body|back|chest|stomach|leg|legs|hair|wrist|eye|nose|ribs?|jaw|"
    r"teeth|tooth|fingers?|hand|shoulder))"
)
# Verbs of physical violence, as a partner or relative would be said to use them on someone.
_VIOLENCE = (
    r"(?:hit|hits|hitting|punch(?:es|ed|ing)?|slap(?:s|ped|ping)?|smack(?:s|ed|ing)?|kick(?:s|ed|ing)?|"
    r"chok(?:e|es|ed|ing)|strangl(?:e|es|ed|ing)|beat(?:s|ing)?|beaten|shov(?:e|es|ed|ing)|slam(?:s|med|ming)|"
    r"whip(?:s|ped|ping)?|burn(?:s|ed|t)?|bit|bites|drag(?:s|ged)|pin(?:s|ned) (?:me )?down|throttl(?:e|es|ed)|"
    r"stab(?:s|bed)?|attack(?:s|ed)|assault(?:s|ed)|rap(?:e|es|ed)|molest(?:s|ed)?|abus(?:e|es|ed|ing)|"
    r"grab(?:s|bed)? (?:me )?by the (?:throat|neck|hair|arm)|push(?:es|ed)? me (?:down|into|against|over|off)|"
    r"thr(?:ew|ows?) (?:\w+ ){0,2}at|hurl(?:s|ed)? (?:\w+ ){0,2}at|twist(?:s|ed)|spat on|spit(?:s)? on|"
    r"pin(?:s|ned) (?:me )?(?:against|to)|pull(?:s|ed) (?:me|my) (?:by|hair)|bang(?:s|ed)|sho(?:ot|t) at|"
    r"broke(?! up)|breaks(?! up)|cracked|bruised|injur(?:e|es|ed)|wound(?:s|ed)|scratch(?:es|ed)|pinch(?:es|ed)|"
    r"sexually assault(?:s|ed)?|touch(?:es|ed) (?:me )?(?:without|when i)|strike|strikes|struck|batter(?:s|ed))"
)
_NEGATION = re.compile(r"\b(?:never|not|n't|\w+n't)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:never|not|n't|wouldn't|won't|didn't|doesn't|don't)\s+(?:\w+\s+){0,2}$", re.I)
# Play, games and hyperbole: "beat me at chess", "a pillow fight", "I want to strangle him every time he ...".
_PLAY = re.compile(
    r"\b(?:pillow|chess|tennis|cards|poker|scrabble|game|games|mario|football|race|match|played|playing|play-?fight|"
    r"tickl\w*|jok(?:e|es|ing)|laugh(?:ed|ing)?|silly|teas\w*|every time|killed it|killing it|the mood|"
    r"knocked me (?:out|off my feet) with)\b",
    re.IGNORECASE,
)

PATTERNS: dict[Category, tuple[str, ...]] = {
    "self_harm": (
        r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|hang|hanging|shoot|drown|poison) myself\b",
        r"\bsuicidal\b|\b(?:thinking|thought|think) (?:about|of) (?:suicide|dying|killing myself)\b",
        r"\bsuicide (?:plan|note)\b|\bi(?:'ve| have)? (?:attempted|tried to commit|considered|contemplated) suicide\b",
        r"\bend(?:ing)? (?:my (?:own )?life|it all)\b|\b(?:take|took|tried to take) my (?:own )?life\b",
        r"\b(?:want|wanted|wish) to die\b(?! (?:of|laughing|when))",
        r"\bdon'?t want to (?:live|be alive|be here|exist) any ?more\b",
        r"\b(?:except|but|other than|than) (?:not|to stop) (?:existing|being alive|being here)\b"
        r"|\b(?:stop|not) existing(?: any ?more)?\b(?! (?:as|in|for|at) )",
        r"\bbetter off (?:if i were |if i was )?(?:dead|without me)\b|\bbetter off not (?:in this world|alive|here)\b",
        r"\b(?:never|not) (?:to )?wake up\b",
        r"\bself[- ]harm\w*\b|\bslit my wrists?\b|\bi (?:overdosed|took an overdose|want to overdose)\b",
        r"\b(?:jump|jumping) (?:off|from) (?:the|a) (?:bridge|roof|building|balcony|cliff)\b",
        r"\b(?:jump|step|stepping) in front of (?:a|the) (?:train|bus|car)\b",
        r"\bpills? saved\b|\bsaved up (?:pills|tablets)\b|\b(?:bought|got|have) (?:a )?rope\b",
        r"\bgoodbye (?:letters?|notes?)\b|\bgiving (?:my|all my) (?:things|stuff|belongings) away\b",
        r"\b(?:no|any) reason to (?:keep going|go on|live)\b|\bcan'?t go on\b|\bwant the pain to stop for good\b",
        r"\b(?:nobody|no one|no-one) would (?:even )?(?:notice|care|miss me) if i (?:died|was gone|were gone|"
        r"disappeared|wasn'?t here)\b|\bdisappear(?:ed)? for good\b",
        r"\b(?:i have|i've got|i made) a plan\b(?=.*\b(?:die|dying|death|suicide|end it)\b)"
        r"|\b(?:die|dying|death|suicide)\b(?=.*\b(?:i have|i've got|i made) a plan\b)",
        r"\bi used to cut\b|\burge to cut\b",
        r"\b(?:overdose|od) on\b|\bhow many (?:pills|tablets|sleeping pills)\b|\bhow to (?:kill myself|die|end it)\b",
        r"\b(?:burn|burning|burned|burnt|scratch|scratching|starv\w+|punish\w*) myself\b",
        r"\b(?:tried|try|trying|want|going) to (?:kill|hurt|harm) myself\b|\b(?:kill|killed) myself\b",
    ),
    "child_abuse": (
        rf"\b{_AGENT}\b(?:\W+\w+){{0,4}}?\W+{_VIOLENCE}\W+(?:\w+\W+){{0,2}}?{_CHILD}\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+(?:touch(?:es|ed)?|hurts?) (?:{_CHILD}|me and {_CHILD})\b",
        rf"\b(?:sexually |physically )?abus(?:e|es|ed|ing) {_CHILD}\b",
        r"\b(?:i was|i got) (?:sexually |physically )?(?:abused|molested|beaten|raped)\b.*\b(?:child|kid|young|"
        r"little|growing up|teen)\b|\b(?:i was|i got) (?:sexually )?(?:abused|molested) (?:as a|when i was)\b",
        r"\bmolested by\b|\babused emotionally all of my life\b",
        r"\b(?:when i was (?:little|a kid|a child|young|small)|as a (?:kid|child)|growing up)\b.*\b(?:\w+ )?"
        rf"{_VIOLENCE} me\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+{_VIOLENCE} me\b.*\bwhen i was (?:little|a kid|a child|young|small)\b",
        r"\bi'?m (?:1[0-7]|[5-9]) and (?:my|our) \w+ (?:\w+ )?(?:hits|beats|hurts|touches|kicks|slaps) me\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+{_VIOLENCE}\W+(?:my|our|the|his|her) "
        r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[- ](?:year|month)[- ]old\b",
        r"\b(?:abused|molested|raped|beat|hit|touched) me when i was "
        r"(?:\d+|little|small|young|a (?:kid|child|boy|girl)|five|six|seven|eight|nine|ten|eleven|twelve|"
        r"thirteen|fourteen|fifteen)\b",
        r"\b(?:stepdad|stepfather|uncle|dad|father|grandfather|grandad|(?:mum|mom)'s boyfriend) touches me\b",
        r"\btouch(?:es|ed)? me and (?:tells|told) me not to tell\b",
        r"\b(?:uncle|stepdad|stepfather|father|dad|grandfather|cousin|(?:mum|mom)'s boyfriend) "
        r"(?:comes|came) into my (?:room|bed) at night\b|\bdoes things to me\b",
    ),
    "partner_violence": (
        rf"\b{_AGENT}\b(?:\W+\w+){{0,4}}?\W+{_VIOLENCE}\W+(?:\w+\W+){{0,2}}?{_BODY}\b",
        r"\b(?:i was|i've been|i got|i have been) (?:\w+ )?(?:hit|beaten|choked|strangled|raped|attacked|assaulted|"
        rf"kicked|punched|slapped) by {_AGENT}\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+(?:forced|forces|makes|made|make) me (?:to )?"
        r"(?:have sex|do sexual|do things)",
        r"\bhave sex with (?:him|her|them) even when i (?:cry|say no|don'?t want|do not want)\b|\bwithout my consent\b",
        r"\bthreaten(?:s|ed|ing)? (?:to (?:kill|hurt|harm|beat|burn|take the kids)|"
        r"me with (?:a )?(?:knife|gun|weapon))\b",
        r"\b(?:said|says|told me) (?:he|she|they)(?:'d|'ll| would| will) (?:kill|hurt|harm|beat|burn)\b",
        # "will kill me" is a threat; "is going to kill me when she finds out" is a figure of speech.
        rf"\b{_AGENT}\b(?:\W+\w+){{0,2}}?\W+(?:will|'ll|would|'d) (?:kill|hurt|harm) (?:me|my (?:dog|cat|pet))\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+(?:push(?:es|ed)?|shov(?:e|es|ed)|thr(?:ew|ows?)) me "
        r"(?:down|into|against|over|off|out)\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+grab(?:s|bed)? me by the (?:throat|neck|hair)\b",
        r"\b(?:won'?t|doesn'?t|don'?t) let me (?:leave|go out|see (?:my )?(?:friends|family|sister|brother|mum|mom|"
        r"parents)|have (?:my own )?(?:money|a phone)|work)\b|\bnot allowed to (?:see|leave|go out|talk to|have)\b",
        r"\b(?:takes|took|keeps|kept|locks?|locked|hid(?:es)?|hidden) (?:away )?(?:my|our) (?:phone|bank card|money|"
        r"keys|passports?|documents)\b(?=.*\b(?:can'?t|couldn'?t|so i|won'?t|never|away|locked)\b)",
        r"\b(?:smashed|broke|took) my phone so i (?:couldn'?t|can'?t)\b|\bst(?:ood|ands) in front of the door\b",
        r"\blocks? me (?:in|out)\b|\btracks? my (?:location|phone)\b|\block myself in\b",
        # Coercive control and fear, as danger-assessment screens ask about them.
        r"\b(?:post|share|send|leak) my (?:nudes|naked (?:photos|pictures)|intimate (?:photos|pictures|videos))\b",
        r"\b(?:ask|asking|need) (?:his|her|their) permission to (?:buy|go|see|spend|leave|eat)\b|\bask permission to\b",
        r"\bhand over my (?:pay ?check|wages|salary|money|card)\b",
        r"\bsafer (?:than being|in the car|to sleep|away from)\b|\bnot safe (?:at home|with (?:him|her|them))\b",
        r"\b(?:if|when)\b.*\bi (?:pay for it|get punished|get hurt)\b",
        r"\bwalk(?:ing)? on eggshells\b(?=.*\b(?:afraid|scared|hurt|violent|what (?:he|she|they)(?:'ll| will)? do)\b)",
        r"\b(?:get|getting|run) away from (?:him|her|them) (?:fast|quickly)\b|\bescape from (?:him|her|them)\b",
        r"\b(?:afraid|scared|terrified|frightened) (?:of (?:him|her|them|my (?:partner|husband|wife|boyfriend|"
        r"girlfriend|ex))\b|(?:to go|of going) home|for my (?:life|safety)|of what (?:he|she|they)(?:'ll| will)? do)",
        r"\b(?:he|she|they|partner|husband|wife|boyfriend|girlfriend) (?:\w+ )?(?:gets?|got|becomes?|became) "
        r"(?:violent|rough with me|physical with me)\b",
        r"\babusive (?:relationship|partner|husband|wife|boyfriend|girlfriend|marriage|situation)\b"
        r"|\b(?:is|was) abusive\b",
        r"\bdomestic (?:violence|abuse)\b|\bharass(?:ing|es)? and stalk\w*\b|\bstalking me\b",
        r"\b(?:black eye|bruises|bruised|broken (?:rib|ribs|arm|nose|wrist|jaw)|split lip)\b(?=.*\b(?:he|she|they|"
        r"boyfriend|girlfriend|husband|wife|partner|ex|told|cover|makeup|door|fell|hide)\b)",
        r"\bcover(?:ing)? (?:up )?(?:the |my )?bruises\b|\bfell down the stairs, but\b"
        r"|\bit wasn'?t really (?:an accident|that)\b",
        r"\bcontrols? (?:all )?(?:of )?(?:my|our) money\b(?=.*\b(?:furious|angry|allowance|won'?t|punish)\b)",
        r"\bnever see the kids again\b(?=.*\b(?:scary|call anyone|threat|hurt)\b)",
    ),
    "harm_to_others": (
        # Intent, not worry: "afraid that I will hurt him" after his surgery is care, so bare "will" is not enough.
        r"\bi(?:'m| am)? (?:going to|gonna|want to) (?:hit|hurt|harm|kill|stab|beat|strangle|choke|shoot) "
        r"(?:him|her|them|my \w+)\b",
        r"\bi (?:hit|punched|slapped|kicked|choked|shoved|pushed|strangled) (?:my (?:wife|husband|partner|boyfriend|"
        r"girlfriend|kids?|child|son|daughter)|him|her)\b(?! (?:up|back) (?:for|with))",
        r"\b(?:imagin\w+|fantasi\w+|thinking about|think about) (?:running \w+ over|killing|hurting|stabbing|"
        r"shooting) (?:him|her|them|my \w+)\b",
        r"\bbeat (?:him|her|them|my \w+) up\b|\bmight (?:actually )?do it\b",
        r"\b(?:getting|get|got|bought) a (?:knife|gun|weapon)\b|\bplanning how to (?:hurt|kill)\b"
        r"|\bbeen planning how\b",
        r"\b(?:afraid|scared) (?:i'?m going to|i'?ll|i will) (?:hurt|hit) (?:\w+ ){0,2}when i (?:lose my temper|"
        r"get angry)\b|\b(?:scared|afraid) i'?ll do it again\b|\b(?:starting to|start to) get violent\b",
        r"\bpunched holes in\b",
    ),
}
_AGENT_START = rf"\b{_AGENT}"
COMPILED = {cat: tuple(re.compile(p, re.IGNORECASE) for p in pats) for cat, pats in PATTERNS.items()}
# A crisis about one's own life outranks the rest when several fire: it is the most urgent help to give.
PRIORITY: tuple[Category, ...] = ("self_harm", "child_abuse", "partner_violence", "harm_to_others")
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")


@dataclass(frozen=True)
class SafetyVerdict:
    flagged: bool
    category: Category | None = None
    span: str = ""  # the words that fired it

    def to_json(self) -> dict[str, object]:
        return {"flagged": self.flagged, "category": self.category}


SafetyCheckFn = Callable[[str], SafetyVerdict]  # a user's message -> the verdict; rules only, or rules + classifier


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def check_message(text: str) -> SafetyVerdict:
    """Does this message disclose danger? Checked sentence by sentence, before anything is generated."""
    clean = _normalise(text)
    sentences = [m.group() for m in _SENTENCE.finditer(clean)] or [clean]
    for category in PRIORITY:
        for pattern in COMPILED[category]:
            for sentence in sentences:
                for m in pattern.finditer(sentence):
                    # "He has never hit me": a negation before the verb, or between the person and the verb.
                    inside = pattern.pattern.startswith(_AGENT_START) and _NEGATION.search(m.group())
                    negated = _NEGATED.search(sentence[: m.start()] + " ") or inside
                    if negated and category != "self_harm":
                        continue  # "he has never hit me"
                    if category != "self_harm" and _PLAY.search(sentence):
                        continue  # "he beat me at chess", "a pillow fight"
                    return SafetyVerdict(True, category, m.group())
    return SafetyVerdict(False)


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
    hopeless_question = bool(_HOPELESS.search(_normalise(question)))
    for n, sentence in enumerate(message_sentences(_normalise(answer))):
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
    found = [m.group().strip() for m in _SENTENCE.finditer(_normalise(text)) if len(m.group().strip()) > 3]
    if len(found) > MAX_CLASSIFIED_SENTENCES:
        half = MAX_CLASSIFIED_SENTENCES // 2
        found = found[:half] + found[-half:]
    return found or [_normalise(text)]


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
        best = int(np.argmax(danger))
        if danger[best] >= self.model.threshold:
            category = CLASSES[1 + int(np.argmax(probs[best, 1:]))]
            return SafetyVerdict(True, category, sentences[best])  # type: ignore[arg-type]
        return verdict
