"""An OpenAI-compatible server (llama.cpp server, vLLM, ...) as the chat model.

For deployments where many people share one model server.
"""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel

from agent.settings import AttuneSettings


def make_openai_model(settings: AttuneSettings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key,  # type: ignore[arg-type]
        model=settings.llm_model,
        temperature=settings.temperature,
        max_completion_tokens=settings.max_tokens,
        # llama.cpp's server reads only the older `max_tokens`; vLLM reads both.
        extra_body={"max_tokens": settings.max_tokens},
        seed=settings.seed,
        max_retries=1,
        timeout=120,
    )
