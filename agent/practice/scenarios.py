"""Practice scenarios: the bundled YAML files, and scenarios built from a user's own description.

Every scenario, bundled or custom, passes the same pydantic validation before a session may use it.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from agent.safety import check_message

log = logging.getLogger(__name__)

Relationship = Literal["partner", "friend", "family", "coworker"]
Difficulty = Literal["easy", "medium", "hard"]
Style = Literal["upset", "reserved", "pleasing", "sarcastic", "defensive", "anxious"]

STYLE_NOTES: dict[str, str] = {
    "upset": "You are upset and it shows: short, emotional sentences.",
    "reserved": "You are reserved: you say little, and only open up slowly.",
    "pleasing": "You want to keep the peace: you apologise quickly but avoid the real issue.",
    "sarcastic": "You deflect with dry sarcasm when you feel criticised.",
    "defensive": "You explain and justify yourself when you feel blamed.",
    "anxious": "You are nervous and worried about what the other person thinks of you.",
}

# Set-ups that depict abuse or danger are not conflicts to practise: they need help, not rehearsal.
_ABUSE = re.compile(
    r"\b(?:hit|hits|hitting|punch(?:es|ed)?|slap(?:s|ped)?|kick(?:s|ed)?|chok(?:e|es|ed|ing)|strangl\w*"
    r"|beat(?:s|en)? (?:me|him|her|them|us)"
    r"|rap(?:e|ed|es|ing)|sexual(?:ly)? (?:assault|abus)\w*|molest\w*|abus(?:e|es|ed|ive|ing)"
    r"|threaten(?:s|ed|ing)? to (?:kill|hurt|harm)|kill (?:me|myself|him|her|them)|suicid\w*|self[- ]harm"
    r"|weapon|gun|knife|locks? me (?:in|out)|won'?t let me (?:leave|see|go)|controls? (?:all )?my (?:money|phone)"
    r"|stalk\w*|afraid (?:of|for) my (?:life|safety))\b",
    re.IGNORECASE,
)


class ScenarioRefused(ValueError):
    """The description is unusable or depicts abuse; the message says why, in one line."""


class Scenario(BaseModel):
    """A conflict to practise: who the other person is, what they show, and what they keep to themselves."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str = Field(min_length=3, max_length=80)
    relationship: Relationship
    name: str = Field(min_length=1, max_length=40)
    role: str = Field(min_length=3, max_length=60, description="who they are to the user, e.g. 'your partner'")
    difficulty: Difficulty = "medium"
    style: Style = "defensive"
    situation: str = Field(min_length=20, max_length=1200)
    topic: str = Field(min_length=3, max_length=120, description="fits 'I feel ... when {topic}'")
    position: str = Field(min_length=10, max_length=400, description="what they openly say they want")
    stance: list[str] = Field(min_length=1, max_length=4, description="first-person lines asserting the position")
    interests: list[str] = Field(min_length=1, max_length=5, description="hidden: why they hold the position")
    reveal: str = Field(min_length=5, max_length=300, description="first-person line sharing the hidden interest")
    needs: list[str] = Field(min_length=1, max_length=5, description="hidden: what would let them open up")
    facts: list[str] = Field(min_length=1, max_length=6, description="things they say from their side")
    # Several lines each, so a partner that proposes or concedes on several turns does not say the same words.
    proposals: list[str] = Field(min_length=1, max_length=4, description="first-person offers of a way forward")
    concessions: list[str] = Field(min_length=1, max_length=4, description="first-person lines giving ground")
    opening_line: str = Field(min_length=2, max_length=300)
    custom: bool = False

    @model_validator(mode="before")
    @classmethod
    def _one_line_cards(cls, data: Any) -> Any:
        """Scenarios saved before cards had several proposals and concessions (custom ones live in sessions)."""
        if isinstance(data, dict):
            data = dict(data)
            for one, many in (("proposal", "proposals"), ("concession", "concessions")):
                if one in data and many not in data:
                    data[many] = [data.pop(one)]
        return data

    @property
    def proposal(self) -> str:
        return self.proposals[0]

    @property
    def concession(self) -> str:
        return self.concessions[0]

    @field_validator("situation", "position", "opening_line", "title")
    @classmethod
    def _no_abuse(cls, value: str) -> str:
        if _ABUSE.search(value):
            raise ValueError("describes abuse or danger, which is not something to role-play")
        return value


@cache
def load_scenarios() -> dict[str, Scenario]:
    """The bundled scenarios, by id, in file order."""
    folder = resources.files("agent.practice") / "scenarios"
    found: dict[str, Scenario] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            scenario = Scenario.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            found[scenario.id] = scenario
    return found


def get_scenario(scenario_id: str) -> Scenario:
    scenarios = load_scenarios()
    if scenario_id not in scenarios:
        raise ScenarioRefused(
            f"no scenario {scenario_id!r}; `attune practice --list` shows the {len(scenarios)} there are"
        )
    return scenarios[scenario_id]


class _DraftedScenario(BaseModel):
    """What the model is asked to fill in; the rest comes from the user's own words."""

    title: str = Field(max_length=80)
    position: str = Field(max_length=300)
    stance: str = Field(max_length=200)
    hidden_interest: str = Field(max_length=300)
    fact: str = Field(max_length=200)
    opening_line: str = Field(max_length=200)


_ROLE = {"partner": "your partner", "friend": "your friend", "family": "your relative", "coworker": "your colleague"}


def _topic(description: str) -> str:
    """A short phrase for 'I feel ... when {topic}': the description's first clause, trimmed."""
    first = re.split(r"[.!?;\n]", description.strip(), maxsplit=1)[0]
    first = re.sub(r"^(?:i feel like|i think|the problem is( that)?|it'?s that)\s+", "", first, flags=re.I).strip()
    words = first.split()
    phrase = " ".join(words[:16])
    return (phrase[0].lower() + phrase[1:]) if phrase else "this happens"


def _short_title(description: str) -> str:
    words = _topic(description).split()
    title = " ".join(words[:7]) + (" ..." if len(words) > 7 else "")
    return title[0].upper() + title[1:]


def scenario_from_description(
    description: str,
    *,
    relationship: Relationship = "partner",
    name: str = "Sam",
    model: BaseChatModel | None = None,
) -> Scenario:
    """Build and validate a scenario from the user's own conflict; the model drafts the other side when it can.

    The bundled model often writes unusable JSON, so every model field has a plain fallback and the result
    is validated either way.
    """
    text = " ".join(description.split())
    if len(text) < 20:
        raise ScenarioRefused("describe the conflict in a sentence or two (at least 20 characters)")
    if len(text) > 1200:
        raise ScenarioRefused(f"the description is {len(text)} characters; keep it under 1200")
    if _ABUSE.search(text) or check_message(text).flagged:
        raise ScenarioRefused(
            "this sounds like abuse or danger, which Attune will not role-play; if you are not safe, contact "
            "your local emergency number or a domestic-abuse helpline"
        )
    drafted = _draft_with_model(text, relationship, name, model) if model is not None else {}
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower())[:40].strip("-") or "custom"
    fields = {
        "id": f"custom-{slug}",
        "title": drafted.get("title") or _short_title(text),
        "relationship": relationship,
        "name": name,
        "role": _ROLE[relationship],
        "difficulty": "medium",
        "style": "defensive",
        "situation": text,
        "topic": _topic(text),
        "position": drafted.get("position")
        or f"{name} sees it differently and feels unfairly judged about it.",
        "stance": [
            drafted.get("stance") or "I don't think I did anything wrong here.",
        ],
        "interests": [
            drafted.get("hidden_interest") or f"{name} is under more pressure than they have said."
        ],
        "reveal": drafted.get("hidden_interest")
        or "Honestly, there's more going on for me than I've said, and I felt judged.",
        "needs": ["to feel understood rather than blamed", "a fair way forward for both of you"],
        "facts": [drafted.get("fact") or "There's more going on for me than you know."],
        "proposals": ["Could we find a way that works for both of us?",
                      "What if we each say what we need from this, and start from there?"],
        "concessions": ["I can see how this affected you. I'm sorry I didn't listen sooner.",
                        "I hadn't looked at it from your side. That's fair."],
        "opening_line": drafted.get("opening_line") or "You said you wanted to talk. What's going on?",
        "custom": True,
    }
    try:
        return Scenario.model_validate(fields)
    except ValidationError as exc:
        if drafted:  # the model's fields broke validation: retry with the plain ones
            log.info("drafted scenario rejected (%s); using plain fields", exc.errors()[0]["msg"])
            return scenario_from_description(description, relationship=relationship, name=name, model=None)
        raise ScenarioRefused(f"could not build a scenario: {exc.errors()[0]['msg']}") from None


def _draft_with_model(text: str, relationship: str, name: str, model: BaseChatModel) -> dict[str, str]:
    """The fields the model drafted that are fit to use; the rest are left to the plain defaults."""
    schema = _DraftedScenario.model_json_schema()
    prompt = (
        f"A user wants to practise a hard conversation with {name}, {_ROLE[relationship]}. Their description:\n"
        f"{text}\n\nFrom {name}'s side, write JSON with: title (a few words), position (what {name} openly wants), "
        f"stance (a line {name} says to defend it), "
        f"hidden_interest (a private reason behind it), fact (one thing {name} would point out), opening_line "
        f"(the first thing {name} says). No abuse or violence."
    )
    try:
        reply = model.invoke(
            [SystemMessage("You write role-play scenario cards as JSON."), HumanMessage(prompt)],
            response_format={"type": "json_schema", "json_schema": {"name": "scenario", "schema": schema}},
            temperature=0.3,
            max_tokens=300,
        )
        drafted = _DraftedScenario.model_validate(json.loads(reply.text))
    except (ValueError, ValidationError) as exc:
        log.info("the model's scenario draft was unusable: %s", exc)
        return {}
    return {k: v.strip() for k, v in drafted.model_dump().items() if _usable(k, v.strip())}


_PLACEHOLDER = re.compile(
    r"[\[\]{}<>]|\b(?:my|our) (?:partner|friend|brother|sister|mother|father|boss|colleague)\b", re.IGNORECASE
)


def _usable(field: str, value: str) -> bool:
    """Small models leave placeholders, write from the user's side, or stop mid-sentence: such a field is dropped."""
    if not value or _PLACEHOLDER.search(value) or _ABUSE.search(value):
        return False
    if field == "title":
        return len(value.split()) <= 8
    return value[-1] in ".!?" and len(value) <= 200
