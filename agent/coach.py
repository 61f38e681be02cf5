"""The grounded coach: standalone question -> hybrid retrieval -> prompt -> streamed, cited answer.

Takes its chat model and retriever in the constructor, so tests pass a fake model and a tmp library.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, BaseMessageChunk, HumanMessage, SystemMessage

from agent.citations import CitationFilter
from agent.followup import ConversationTurn, standalone_by_model, standalone_by_rules
from agent.prompts import COACH_SYSTEM, GENERAL_ADVICE_NOTE, PROMPT_SCAFFOLDING, question_message
from agent.safety import (
    HelpResources,
    SafetyCheckFn,
    SafetyVerdict,
    answer_safety,
    load_help_resources,
    safety_reply,
)
from agent.settings import AttuneSettings
from agent.text import one_line
from agent.tidy import AnswerTidier
from eval.rubric import RubricScore, Scorer
from knowledge.retrieve import HybridRetriever
from knowledge.types import Passage

# A sentence must be at least this similar to a passage to get that passage's citation attached.
ATTRIBUTION_MIN_SIMILARITY = 0.45
HISTORY_TURNS = 3


class BadQuestion(ValueError):
    """A question Attune will not send to the model; the message says why in one line."""


def clean_question(question: str, max_chars: int) -> str:
    text = one_line(question)
    if not text:
        raise BadQuestion("the question is empty")
    if len(text) > max_chars:
        raise BadQuestion(f"the question is {len(text)} characters long; the limit is {max_chars}")
    return text


def checked_question(
    question: str, max_chars: int, safety_check: SafetyCheckFn, short_check: SafetyCheckFn | None = None
) -> tuple[str, SafetyVerdict]:
    """The cleaned question and its safety verdict; raises `BadQuestion` when it is refused.

    The check comes before the length limit: a long message that tells of danger gets help, not "the limit is
    ...". `short_check`, when given, checks questions within the limit instead (the CLI's rules-only pass,
    which loads nothing).
    """
    try:
        text = clean_question(question, max_chars)
    except BadQuestion:
        text = one_line(question)
        verdict = safety_check(text) if text else SafetyVerdict(False)
        if not verdict.flagged:
            raise
        return text, verdict
    return text, (short_check or safety_check)(text)


@dataclass
class AnswerTimings:
    retrieval_ms: float = 0.0  # finding passages and cutting them to the sentences that answer
    first_token_ms: float = 0.0  # from the question to the first streamed token, retrieval included
    total_ms: float = 0.0
    tokens: int = 0
    # Reported by backends that know (in-process llama.cpp): the part of first_token_ms spent reading the
    # prompt, and how many prompt tokens that was (those not restored from a cached state).
    prompt_eval_ms: float | None = None
    prompt_tokens_evaluated: int | None = None

    @property
    def tokens_per_s(self) -> float:
        decode_s = (self.total_ms - self.first_token_ms) / 1000
        return (self.tokens - 1) / decode_s if self.tokens > 1 and decode_s > 0 else 0.0


@dataclass
class Draft:
    """One candidate answer and its rubric score, kept so reports can show what guidance changed."""

    text: str
    cited: list[int]
    scores: RubricScore | None = None


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    sources: list[Passage]
    cited: list[int]
    timings: AnswerTimings = field(default_factory=AnswerTimings)
    scores: RubricScore | None = None
    drafts: list[Draft] = field(default_factory=list)  # every candidate, in order, when guided; the first is greedy
    safety: SafetyVerdict = field(default_factory=lambda: SafetyVerdict(False))

    @property
    def grounded(self) -> bool:
        return bool(self.sources)

    def to_json(self) -> dict[str, object]:
        t = self.timings
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "grounded": self.grounded,
            "grounding": "library" if self.grounded else "general",
            "note": None if self.grounded else GENERAL_ADVICE_NOTE,
            "sources": [
                {
                    "n": n,
                    "title": p.title,
                    "section": p.section,
                    "text": p.text,
                    "source": p.source,
                    "relevance": p.relevance,
                    "cited": n in self.cited,
                }
                for n, p in enumerate(self.sources, 1)
            ],
            "cited": self.cited,
            "scores": self.scores.to_json() if self.scores else None,
            "drafts": len(self.drafts) or 1,
            "safety": self.safety.to_json(),
            "timings": {
                "retrieval_ms": round(t.retrieval_ms, 1),
                "first_token_ms": round(t.first_token_ms, 1),
                "prompt_eval_ms": t.prompt_eval_ms,
                "prompt_tokens_evaluated": t.prompt_tokens_evaluated,
                "total_ms": round(t.total_ms, 1),
                "tokens": t.tokens,
                "tokens_per_s": round(t.tokens_per_s, 1),
            },
        }


class AnswerStream:
    """Iterate for the answer's text as it streams; `answer` is complete once iteration ends."""

    def __init__(
        self,
        passages: list[Passage],
        chunks: Iterator[str],
        finish: Callable[[str], Answer],
        safety: SafetyVerdict | None = None,
        guard: Callable[[str], Answer | None] | None = None,
    ) -> None:
        self.passages = passages  # known before the first token: the caller can say "general advice" up front
        self.safety = safety or SafetyVerdict(False)  # known up front too: a flagged message gets help, not tips
        self._chunks = chunks
        self._finish = finish
        self._parts: list[str] = []
        self.guard = guard
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            self._parts.append(chunk)
            stopped = self.guard("".join(self._parts)) if self.guard else None
            if stopped is not None:
                # The model's text turned harmful: stop generating, withhold the piece, give help instead.
                _close(self._chunks)
                self.answer = stopped
                yield f"\n\n{stopped.text}"
                return
            yield chunk
        self.answer = self._finish("".join(self._parts).strip())

    def result(self) -> Answer:
        if self.answer is None:
            for _ in self:
                pass
        assert self.answer is not None
        return self.answer


def safety_answer(question: str, verdict: SafetyVerdict, help_resources: HelpResources) -> Answer:
    """The answer to a message that discloses danger: help resources, nothing retrieved, nothing generated."""
    return Answer(question, question, safety_reply(verdict, help_resources), [], [], AnswerTimings(), safety=verdict)


def _close(stream: Iterator[Any]) -> None:
    """Ends a model's stream early; langchain's are generators, whose close runs the backend's cleanup."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def meets_bar(score: RubricScore) -> bool:
    """Good enough to stop looking: no blame, and every empathy mechanism present at least weakly."""
    return not score.non_blame.flagged and min(score.empathy.levels().values()) >= 1


class Coach:
    def __init__(
        self,
        model: BaseChatModel,
        retriever: HybridRetriever,
        settings: AttuneSettings,
        scorer: Scorer | None = None,
        *,
        safety_check: SafetyCheckFn,
        help_resources: HelpResources | None = None,
    ) -> None:
        self.model = model
        self.retriever = retriever
        self.settings = settings
        self.scorer = scorer  # scores every answer; with settings.ask.candidates > 1 it also picks the best
        self.safety_check = safety_check  # required: a coach that forgot it would coach through a disclosure
        self._help = help_resources

    @property
    def help_resources(self) -> HelpResources:
        if self._help is None:
            self._help = load_help_resources(self.settings.safety.help_resources)
        return self._help

    def standalone(self, question: str, history: Sequence[ConversationTurn]) -> str:
        if self.settings.ask.condense == "model":
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

    def tidier(self, passages: Sequence[Passage], question: str = "") -> AnswerTidier:
        """Keeps the prompt's own words, sign-offs and loops out of an answer (the passages' titles too: a small
        model likes to open with one as a heading)."""
        return AnswerTidier(PROMPT_SCAFFOLDING, [t for p in passages for t in (p.title, p.section) if t], question)

    def _attributor(self, passages: Sequence[Passage]) -> Callable[[str], int | None]:
        embeddings = self.retriever.library.embeddings
        vectors = self.retriever.library.vectors([p.id for p in passages])
        # A passage deleted since it was retrieved (another process forgot it) cannot be cited; skip it.
        numbers = [n for n, p in enumerate(passages, 1) if p.id in vectors]
        matrix = np.asarray([vectors[passages[n - 1].id] for n in numbers], dtype=np.float32)

        def attribute(sentence: str) -> int | None:
            if len(sentence.split()) < 4 or not numbers:
                return None
            sims = matrix @ np.asarray(embeddings.embed_query(sentence), dtype=np.float32)
            best = int(np.argmax(sims))
            return numbers[best] if sims[best] >= ATTRIBUTION_MIN_SIMILARITY else None

        return attribute

    def ask(
        self, question: str, history: Sequence[ConversationTurn] = (), candidates: int | None = None
    ) -> AnswerStream:
        """Start answering; raises `BadQuestion` before any work when the question is refused.

        With `candidates` > 1 (and a scorer) the answer is rubric-guided: when the greedy draft falls short of
        the bar, up to `candidates - 1` sampled alternatives are drafted and the best-scoring one is streamed
        as a single piece.
        """
        question, verdict = checked_question(question, self.settings.ask.max_question_chars, self.safety_check)
        if verdict.flagged:  # before retrieval or generation: no tips, no passages, only real help
            safe = safety_answer(question, verdict, self.help_resources)
            return AnswerStream([], iter([safe.text]), lambda _text: safe, verdict)
        n = candidates if candidates is not None else self.settings.ask.candidates
        started = time.perf_counter()

        def guard(text: str) -> Answer | None:
            harm = answer_safety(question, text)
            return safety_answer(question, harm, self.help_resources) if harm.flagged else None

        standalone = self.standalone(question, history)
        # Everything the person has told us: an answer may name only the people in it.
        said_by_user = " ".join([question, standalone, *(turn.question for turn in history)])
        passages = self.retriever.retrieve(standalone)
        in_prompt = self.retriever.focus(standalone, passages, self.settings.retrieval.passage_chars)
        timings = AnswerTimings(retrieval_ms=(time.perf_counter() - started) * 1000)
        attributor = self._attributor(passages) if passages else None
        messages = self.messages(question, in_prompt, history)
        if n > 1 and self.scorer is not None:
            stream = self._guided(question, standalone, passages, messages, attributor, n, started, timings,
                                  said_by_user)
            stream.guard = guard
            return stream
        citations = CitationFilter(len(passages), attributor)

        tidier = self.tidier(passages, said_by_user)

        def note(chunk: BaseMessageChunk, piece: str) -> None:
            if "prompt_eval_ms" in chunk.response_metadata:
                timings.prompt_eval_ms = chunk.response_metadata["prompt_eval_ms"]
                timings.prompt_tokens_evaluated = chunk.response_metadata.get("prompt_tokens_evaluated")
            if piece:
                timings.tokens += 1
                if timings.tokens == 1:
                    timings.first_token_ms = (time.perf_counter() - started) * 1000

        def chunks() -> Iterator[str]:
            yield from self._shown(messages, tidier, citations, note)

        def finish(text: str) -> Answer:
            timings.total_ms = (time.perf_counter() - started) * 1000
            scores = self.scorer.score(question, text) if self.scorer else None
            return Answer(question, standalone, text, list(passages), sorted(citations.cited), timings, scores)

        return AnswerStream(list(passages), chunks(), finish, guard=guard)

    def _draft(
        self,
        messages: list[BaseMessage],
        n_passages: int,
        attributor: Callable[[str], int | None] | None,
        tidier: AnswerTidier,
        **sampling: Any,
    ) -> tuple[str, list[int], int]:
        citations = CitationFilter(n_passages, attributor)
        tokens = 0

        def count(_chunk: BaseMessageChunk, piece: str) -> None:
            nonlocal tokens
            tokens += bool(piece)

        text = "".join(self._shown(messages, tidier, citations, count, **sampling)).strip()
        return text, sorted(citations.cited), tokens

    def _shown(
        self,
        messages: list[BaseMessage],
        tidier: AnswerTidier,
        citations: CitationFilter,
        on_chunk: Callable[[BaseMessageChunk, str], None],
        **sampling: Any,
    ) -> Iterator[str]:
        """The model's answer as the reader may see it: tidied, then its citations checked. `on_chunk` sees every
        chunk with its text first (for timings and token counts). The model is stopped once the tidier has seen
        the end (a sign-off, a loop): the rest would only be thrown away."""
        cut = False
        stream = self.model.stream(messages, **sampling)
        try:
            for chunk in stream:
                piece = chunk.content if isinstance(chunk.content, str) else ""
                cut = cut or chunk.response_metadata.get("finish_reason") == "length"
                on_chunk(chunk, piece)
                if piece and (shown := citations.feed(tidier.feed(piece))):
                    yield shown
                if tidier.stop:
                    break
        finally:
            _close(stream)  # releases the model (llama.cpp serves one generation at a time)
        tail = citations.feed(tidier.finish(cut)) + citations.finish()
        if tail:
            yield tail

    def _guided(
        self,
        question: str,
        standalone: str,
        passages: list[Passage],
        messages: list[BaseMessage],
        attributor: Callable[[str], int | None] | None,
        n: int,
        started: float,
        timings: AnswerTimings,
        said_by_user: str,
    ) -> AnswerStream:
        assert self.scorer is not None
        scorer = self.scorer
        drafts: list[Draft] = []

        def chunks() -> Iterator[str]:
            for k in range(n):
                # The first draft is the ordinary greedy answer; the others are sampled with new seeds.
                sampling: dict[str, Any] = (
                    {}
                    if k == 0
                    else {"temperature": self.settings.ask.guided_temperature, "seed": self.settings.model.seed + k}
                )
                tidier = self.tidier(passages, said_by_user)
                text, cited, tokens = self._draft(messages, len(passages), attributor, tidier, **sampling)
                timings.tokens += tokens
                drafts.append(Draft(text, cited, scorer.score(question, text)))
                if meets_bar(drafts[-1].scores):  # type: ignore[arg-type]
                    break
            best = max(drafts, key=lambda d: d.scores.rank())  # type: ignore[union-attr]
            timings.first_token_ms = (time.perf_counter() - started) * 1000
            yield best.text

        def finish(text: str) -> Answer:
            timings.total_ms = (time.perf_counter() - started) * 1000
            best = next(d for d in drafts if d.text == text)
            return Answer(question, standalone, text, list(passages), best.cited, timings, best.scores, drafts)

        return AnswerStream(list(passages), chunks(), finish)
