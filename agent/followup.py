"""Make a follow-up question standalone before retrieval, so "what about with my mother?" still
finds the passages the conversation is about.

Two ways: rules (the default: cheap, and right for the tiny bundled model) or asking the chat model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agent.prompts import STANDALONE_QUESTION, STANDALONE_SYSTEM


@dataclass(frozen=True)
class ConversationTurn:
    question: str
    answer: str


_OPENERS = re.compile(
    r"^\s*(what|how)\s+(about|if)\b|^\s*(and|but|also|or|so|then|same|what else|why not|even)\b", re.IGNORECASE
)
_REFERENCES = re.compile(r"\b(it|that|this|these|those|they|them|there|one|same|again|instead)\b", re.IGNORECASE)


def is_follow_up(question: str) -> bool:
    """A question that leans on the conversation: opens like a follow-up, or is short and points back."""
    words = question.split()
    return bool(_OPENERS.search(question)) or (len(words) <= 8 and bool(_REFERENCES.search(question)))


def standalone_by_rules(question: str, history: Sequence[ConversationTurn]) -> str:
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1].question.strip()} {question.strip()}"


def standalone_by_model(question: str, history: Sequence[ConversationTurn], model: BaseChatModel) -> str:
    if not history or not is_follow_up(question):
        return question
    conversation = "\n".join(f"User: {t.question}\nCoach: {t.answer[:300]}" for t in history[-3:])
    reply = model.invoke(
        [
            SystemMessage(STANDALONE_SYSTEM),
            HumanMessage(STANDALONE_QUESTION.format(conversation=conversation, question=question)),
        ]
    )
    rewritten = str(reply.content).strip().strip('"').split("\n")[0].strip()
    # A small model may ramble or answer instead of rewriting; then the rules are safer.
    if not rewritten or len(rewritten) > 3 * len(question) + 200:
        return standalone_by_rules(question, history)
    return rewritten
