"""The grounded coach: standalone question -> hybrid retrieval -> prompt -> streamed, cited answer.

Takes its chat model and retriever in the constructor, so tests pass a fake model and a tmp library.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.citations import CitationFilter
from agent.followup import ConversationTurn, standalone_by_model, standalone_by_rules
from agent.prompts import COACH_SYSTEM, question_message
from agent.settings import AttuneSettings
from knowledge.retrieve import HybridRetriever
from knowledge.types import Passage

# A sentence must be at least this similar to a passage to get that passage's citation attached.
ATTRIBUTION_MIN_SIMILARITY = 0.45
HISTORY_TURNS = 3


class BadQuestion(ValueError):
    """A question Attune will not send to the model; the message says why in one line."""


def clean_question(question: str, max_chars: int) -> str:
    text = "".join(ch for ch in question if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    if not text:
        raise BadQuestion("the question is empty")
    if len(text) > max_chars:
        raise BadQuestion(f"the question is {len(text)} characters long; the limit is {max_chars}")
    return text


@dataclass
class AnswerTimings:
    retrieval_ms: float = 0.0
    first_token_ms: float = 0.0  # from the question to the first streamed token, retrieval included
    total_ms: float = 0.0
    tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        decode_s = (self.total_ms - self.first_token_ms) / 1000
        return (self.tokens - 1) / decode_s if self.tokens > 1 and decode_s > 0 else 0.0


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    sources: list[Passage]
    cited: list[int]
    timings: AnswerTimings = field(default_factory=AnswerTimings)

    @property
    def grounded(self) -> bool:
        return bool(self.sources)


class AnswerStream:
    """Iterate for the answer's text as it streams; `answer` is complete once iteration ends."""

    def __init__(self, passages: list[Passage], chunks: Iterator[str], finish: Callable[[str], Answer]) -> None:
        self.passages = passages  # known before the first token: the caller can say "general advice" up front
        self._chunks = chunks
        self._finish = finish
        self._parts: list[str] = []
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            self._parts.append(chunk)
            yield chunk
        self.answer = self._finish("".join(self._parts).strip())

    def result(self) -> Answer:
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class Coach:
    def __init__(self, model: BaseChatModel, retriever: HybridRetriever, settings: AttuneSettings) -> None:
        self.model = model
        self.retriever = retriever
        self.settings = settings

    def standalone(self, question: str, history: Sequence[ConversationTurn]) -> str:
        if self.settings.condense == "model":
            return standalone_by_model(question, history, self.model)
        return standalone_by_rules(question, history)

    def messages(
        self, question: str, passages: Sequence[Passage], history: Sequence[ConversationTurn]
    ) -> list[BaseMessage]:
        messages: list[BaseMessage] = [SystemMessage(COACH_SYSTEM)]
        for turn in history[-HISTORY_TURNS:]:
            messages += [HumanMessage(turn.question), AIMessage(turn.answer)]
        messages.append(HumanMessage(question_message(question, passages)))
        return messages

    def _attributor(self, passages: Sequence[Passage]) -> Callable[[str], int | None]:
        embeddings = self.retriever.library.embeddings
        vectors = self.retriever.library.vectors([p.id for p in passages])
        matrix = np.asarray([vectors[p.id] for p in passages], dtype=np.float32)

        def attribute(sentence: str) -> int | None:
            if len(sentence.split()) < 4:
                return None
            sims = matrix @ np.asarray(embeddings.embed_query(sentence), dtype=np.float32)
            best = int(np.argmax(sims))
            return best + 1 if sims[best] >= ATTRIBUTION_MIN_SIMILARITY else None

        return attribute

    def ask(self, question: str, history: Sequence[ConversationTurn] = ()) -> AnswerStream:
        """Start answering; raises `BadQuestion` before any work when the question is refused."""
        question = clean_question(question, self.settings.max_question_chars)
        started = time.perf_counter()
        standalone = self.standalone(question, history)
        passages = self.retriever.retrieve(standalone)
        timings = AnswerTimings(retrieval_ms=(time.perf_counter() - started) * 1000)
        citations = CitationFilter(len(passages), self._attributor(passages) if passages else None)
        messages = self.messages(question, passages, history)

        def chunks() -> Iterator[str]:
            for chunk in self.model.stream(messages):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if not piece:
                    continue
                timings.tokens += 1
                if timings.tokens == 1:
                    timings.first_token_ms = (time.perf_counter() - started) * 1000
                shown = citations.feed(piece)
                if shown:
                    yield shown
            tail = citations.finish()
            if tail:
                yield tail

        def finish(text: str) -> Answer:
            timings.total_ms = (time.perf_counter() - started) * 1000
            return Answer(question, standalone, text, list(passages), sorted(citations.cited), timings)

        return AnswerStream(list(passages), chunks(), finish)
