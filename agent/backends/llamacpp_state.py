"""Keep each conversation's evaluated KV state in RAM, so interleaved users never re-read their history.

llama-cpp-python's state cache restores the longest cached prefix of a prompt; this makes its states lean.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama, LlamaRAMCache, LlamaState


class StateCachingLlama(Llama):
    """A `Llama` whose saved states hold the KV cache only.

    The stock `save_state` also copies an n_batch x n_vocab logits buffer (100 MB for SmolLM2) into every
    state. Without `logits_all`, llama.cpp samples from its own logits and a restored state is re-decoded
    before sampling, so that buffer is never read: copying it would cost time and memory on every turn.
    """

    def save_state(self) -> LlamaState:
        if self._logits_all:
            return super().save_state()
        size = llama_cpp.llama_state_get_size(self._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        n_bytes = int(llama_cpp.llama_state_get_data(self._ctx.ctx, buffer, size))
        if n_bytes > int(size):
            raise RuntimeError("llama.cpp wrote more state than it said it would")
        return LlamaState(
            scores=np.empty((0, self._n_vocab), dtype=np.single),
            input_ids=self.input_ids[: self.n_tokens].copy(),
            n_tokens=self.n_tokens,
            llama_state=ctypes.string_at(buffer, n_bytes),
            llama_state_size=n_bytes,
            seed=self._seed,
        )

    def load_state(self, state: LlamaState) -> None:
        if self._logits_all or len(state.scores):
            super().load_state(state)
            return
        self.input_ids[: state.n_tokens] = state.input_ids
        self.n_tokens = state.n_tokens
        self._requires_eval = True
        self._seed = state.seed
        buffer = (ctypes.c_uint8 * state.llama_state_size).from_buffer_copy(state.llama_state)
        if llama_cpp.llama_state_set_data(self._ctx.ctx, buffer, state.llama_state_size) != state.llama_state_size:
            raise RuntimeError("llama.cpp could not restore a saved state")


def state_cache(capacity_mb: int) -> LlamaRAMCache:
    """Least-recently-used states up to `capacity_mb`; the newest state of each live conversation stays."""
    return LlamaRAMCache(capacity_bytes=capacity_mb * 2**20)


def perf_counters(llama: Any) -> tuple[float, int]:
    """llama.cpp's running totals of prompt-evaluation time (ms) and prompt tokens evaluated."""
    data = llama_cpp.llama_perf_context(llama.ctx)
    return float(data.t_p_eval_ms), int(data.n_p_eval)
