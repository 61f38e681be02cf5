"""A deterministic chat model for tests and offline demos: replies from a queue, else a fixed reply.

It records every conversation it was given in `history`, so tests can assert on prompts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

DEFAULT_REPLY = (
    "It makes sense that this feels hard to raise. Start gently and speak about your own feelings, "
    "for example: \"I feel lonely when we don't talk in the evenings, and I'd love some time together.\" [1] "
    "Listen to their side with curiosity before you suggest a plan, and thank them for hearing you. [2]"
)


class ScriptedChatModel(BaseChatModel):
    replies: list[str] = Field(default_factory=list)
    default_reply: str = DEFAULT_REPLY
    history: list[list[BaseMessage]] = Field(default_factory=list)
    # When set, the stream ends as llama.cpp's does: a chunk carrying the reason, then an empty one without it.
    finish_reason: str | None = None

    @property
    def _llm_type(self) -> str:
        return "attune-scripted"

    def _next_reply(self, messages: list[BaseMessage]) -> str:
        self.history.append(list(messages))
        return self.replies.pop(0) if self.replies else self.default_reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next_reply(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # Word-sized pieces, split inside markers too, so stream handling meets what real models send.
        for piece in re.findall(r"\[|\]|[^\s\[\]]+\s*|\s+", self._next_reply(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        if self.finish_reason:
            yield ChatGenerationChunk(message=AIMessageChunk(content=""),
                                      generation_info={"finish_reason": self.finish_reason})
            yield ChatGenerationChunk(message=AIMessageChunk(content=""))
