"""Decode speed with the automatic thread choice against a fixed count, on the bundled model.

Run it on an idle machine and again while another job keeps the cores busy: `python eval/measure/threads.py [N]`.
"""

from __future__ import annotations

import sys
import time

from agent.backends import make_chat_model
from agent.backends.llamacpp import threads_for_now
from agent.settings import load_settings

PROMPT = "Write three sentences about listening to a partner after a long day."


def tokens_per_s(n_threads: int | None) -> tuple[int, float]:
    model = make_chat_model(load_settings(**{"model.n_threads": n_threads}))
    chosen = n_threads or threads_for_now(2)
    started, tokens = time.perf_counter(), 0
    for _ in model.stream(PROMPT, max_tokens=80):
        tokens += 1
    return chosen, tokens / (time.perf_counter() - started)


if __name__ == "__main__":
    fixed = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    for label, n in (("auto", None), (f"fixed {fixed}", fixed)) * 2:
        chosen, speed = tokens_per_s(n)
        print(f"{label:8} threads {chosen}: {speed:.1f} tokens/s", flush=True)
