"""Latency of practice turns in one warm process on the configured model (default: the bundled SmolLM2).

Usage: python eval/measure/practice_turns.py   (about a minute on 2 cores; a throwaway ATTUNE_HOME)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from agent.app import Attune
from agent.practice.scenarios import get_scenario
from agent.settings import load_settings

TURNS = [
    "You never listen to me and you are so selfish. This is all your fault.",
    "I feel hurt when our plans change at the last minute, and I'd like us to find a way to talk about it.",
    "I know Jamie needed you. What was it like for you?",
    "I miss our evenings. Could we plan them together?",
    "Thank you for hearing me. What would help you say no sometimes?",
] * 2


def main() -> None:
    app = Attune(load_settings(home=Path(tempfile.mkdtemp())))
    session = app.start_practice(get_scenario("plans-changed"))  # with the safety check in force, as users get
    session.say("I want to talk about dinner.")  # warm-up: loads the embedder and fills llama.cpp's caches
    times = []
    for text in TURNS:
        start = time.perf_counter()
        session.say(text)
        times.append(time.perf_counter() - start)
    p90 = sorted(times)[int(0.9 * len(times)) - 1]
    print(f"per turn: median {statistics.median(times):.2f} s, p90 {p90:.2f} s, max {max(times):.2f} s")
    print("turns 1-5:", [round(t, 2) for t in times[:5]], "turns 6-10:", [round(t, 2) for t in times[5:]])


if __name__ == "__main__":
    main()
