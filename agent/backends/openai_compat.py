"""An OpenAI-compatible server (llama.cpp server, vLLM, ...) as the chat model.

For deployments where many people share one model server. An unreachable server becomes a one-line
`BackendUnavailable` that names the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from agent.backends import BackendUnavailable
from agent.settings import AttuneSettings


def make_openai_model(settings: AttuneSettings) -> BaseChatModel:
    import openai
    from langchain_openai import ChatOpenAI

    @contextmanager
    def server_reachable() -> Iterator[None]:
        try:
            yield
        except openai.APIConnectionError as exc:
            raise BackendUnavailable(
                f"cannot reach the model server at {settings.model.base_url} ({exc}); "
                "start it, or unset ATTUNE_MODEL__BASE_URL to use the in-process model"
            ) from None

    class ServerChatModel(ChatOpenAI):
        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            with server_reachable():
                yield from super()._stream(*args, **kwargs)

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            with server_reachable():
                return super()._generate(*args, **kwargs)

    return ServerChatModel(
        base_url=settings.model.base_url,
        api_key=settings.model.api_key,  # type: ignore[arg-type]
        model=settings.model.name,
        temperature=settings.model.temperature,
        max_completion_tokens=settings.model.max_tokens,
        # llama.cpp's server reads only the older `max_tokens`; vLLM reads both.
        extra_body={"max_tokens": settings.model.max_tokens},
        seed=settings.model.seed,
        max_retries=1,
        timeout=120,
    )
