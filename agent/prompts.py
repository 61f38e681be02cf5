"""The coach's prompts as templates: the fixed system prompt, the grounded and general question
messages, and the follow-up rewrite. No I/O here.

The system prompt is the same for every question, so a backend can keep its evaluated state.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.types import Passage

COACH_SYSTEM = (
    "You are Attune, a warm relationship coach. "
    "Answer in four to six short, plain sentences. "
    "First acknowledge in one sentence how the person seems to feel. "
    "Be kind and concrete: suggest what the person could do or say, in their own words. "
    "Never blame the person asking or the person they talk about, and never use labels like selfish or toxic. "
    "When numbered passages are given, base your answer on them and cite each one you use like [1]. "
    "End with one gentle question about what they feel or need."
)

GROUNDED_QUESTION = "Passages from the library:\n\n{passages}\n\nQuestion: {question}"

GENERAL_QUESTION = (
    "No passage in the library matches this question, so give brief general advice and cite nothing.\n\n"
    "Question: {question}"
)

GENERAL_ADVICE_NOTE = "General advice: no passage in your library matched this question."

STANDALONE_SYSTEM = (
    "Rewrite the last question so that it can be understood without the conversation. "
    "Keep the person's words; add only who or what it refers to. Reply with the question alone."
)

STANDALONE_QUESTION = "Conversation:\n{conversation}\n\nLast question: {question}\n\nStandalone question:"


def format_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(
        f"[{n}] {p.title}{' - ' + p.section if p.section else ''}\n{p.text}" for n, p in enumerate(passages, 1)
    )


def question_message(question: str, passages: Sequence[Passage]) -> str:
    if passages:
        return GROUNDED_QUESTION.format(passages=format_passages(passages), question=question)
    return GENERAL_QUESTION.format(question=question)
