"""Decode speed and load time of GGUF models on this machine, through Attune's own llama.cpp options.

Usage: python eval/measure/model_speed.py [FILE.gguf ...]   (default: the bundled model)
Behind the speed column of agent/models.toml and the table in models/README.md.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from llama_cpp import Llama

from agent.backends.llamacpp import bundled_model_path, llama_options
from agent.settings import load_settings

PROMPT = "How can I tell my partner I felt hurt without blaming them? Answer in three sentences."


def measure(path: Path, tokens: int = 96, repeats: int = 3) -> None:
    settings = load_settings(**{"model.path": path})
    started = time.perf_counter()
    llama = Llama(**(llama_options(path, settings) | {"verbose": False}))
    load_s = time.perf_counter() - started
    rates = []
    for seed in range(repeats):
        llama.reset()
        first = None
        n = 0
        started = time.perf_counter()
        for _ in llama.create_completion(PROMPT, max_tokens=tokens, temperature=0.7, seed=seed, stream=True):
            n += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        if first is not None and n > 1:
            rates.append((n - 1) / (end - first))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{path.name}: {path.stat().st_size / 1e9:.2f} GB, load {load_s:.1f} s, decode "
          f"{', '.join(f'{r:.1f}' for r in rates)} tok/s (threads {llama.context_params.n_threads}), "
          f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    for given in sys.argv[1:] or [str(bundled_model_path())]:
        measure(Path(given))
