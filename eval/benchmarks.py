"""What `attune bench` measures: how fast Attune runs on this machine, on the real model, embedder, library and
sessions. Every figure comes from one run, on the same model and prompts, in a throwaway data folder."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from agent.settings import AttuneSettings

if TYPE_CHECKING:
    from agent.app import Attune

# (key, target, "max" when the figure must stay at or below it, "min" when at or above)
TARGETS: list[tuple[str, float, str]] = [
    ("decode_ratio_vs_raw", 0.95, "min"),
    ("ttft_ratio_turn20_vs_turn1", 1.5, "max"),
    ("ask_ttft_ms", 1000.0, "max"),
    ("retrieval_p95_ms", 50.0, "max"),
    ("retrieval_p95_ms_100k_chunks", 200.0, "max"),
    ("cold_start_s", 5.0, "max"),
    ("peak_rss_mb", 500.0, "max"),
    ("install_mb", 1000.0, "max"),
    ("embedder_min_cosine", 0.999, "min"),
    ("keyword_index_load_s_100k_chunks", 2.0, "max"),
]

# The same figures before the embedder moved from sentence-transformers and torch to a GGUF file run by llama.cpp
# (commit 911e1f6), measured back to back with the new code on this machine (2 cores, 24 GiB) on 2026-12-02:
# cold start the median of 3 `attune ask` runs (eval/measure/cold_start.py); install: the packages' file records,
# as install_size_mb counts;
# the keyword index: what every new process paid to build it before it was saved.
BEFORE: dict[str, float] = {
    "cold_first_words_s": 13.3,
    "cold_start_s": 19.6,
    "peak_rss_mb": 886.0,
    "install_mb": 1695.0,
    "embedder_load_s": 10.4,
    "keyword_index_load_s_100k_chunks": 36.7,
}

DECODE_PROMPT = (
    "Write a long, warm letter to a friend you have not seen for years. Tell them about your week, "
    "a walk you took, a meal you cooked, and what you hope to do together next summer."
)

# Two people practising at once: each line is one turn; blame early, warmer later, as a learner goes.
PRACTICE_SCRIPT = [
    "You always do this and it is so annoying.",
    "Why can't you ever think about anyone but yourself?",
    "Okay. I'm sorry I snapped at you.",
    "I feel hurt when this happens, because I was looking forward to it.",
    "Can you help me understand what happened on your side?",
    "That makes sense. I didn't know that.",
    "I feel frustrated, and I need us to plan together.",
    "What would work for you next time?",
    "I'd like us to check in with each other before changing plans.",
    "I hear you. That sounds stressful for you too.",
    "Thank you for telling me. I care about you.",
    "I need to know I matter to you, even when things are busy.",
    "Could we try a weekly check-in on Sundays?",
    "I understand you felt pressured. I'm sorry I didn't ask sooner.",
    "What do you need from me when this comes up?",
    "I appreciate you listening to me.",
    "I feel calmer now. Can we agree on a plan?",
    "I could send you a message the day before. Would that help?",
    "I want us both to feel heard.",
    "Thanks for working this out with me.",
]
PRACTICE_SCENARIOS = ("plans-changed", "work-credit-taken")


@dataclass
class BenchResult:
    figures: dict[str, float] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def met(self) -> dict[str, bool]:
        out = {}
        for key, target, kind in TARGETS:
            if key in self.figures:
                value = self.figures[key]
                out[key] = value >= target if kind == "min" else value <= target
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: round(v, 3) for k, v in self.figures.items()},
            "machine": self.machine,
            "model": self.model,
            "targets": {key: {"target": target, "kind": kind} for key, target, kind in TARGETS},
            "met": self.met(),
            "before": {k: v for k, v in BEFORE.items() if k in self.figures},
            "notes": self.notes,
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory_gb = None
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cores": cores,
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def install_size_mb(root: str = "attune-coach") -> float:
    """Megabytes on disk of Attune and every package it requires (extras left out), from the packages' own
    file records; Attune's folders are counted as they lie, which also covers an editable install."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    total = 0
    pending = [root]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in dist.files or [] if "__pycache__" not in f.parts)
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    try:
        recorded = any(str(f).startswith("knowledge/") for f in distribution(root).files or [])
    except PackageNotFoundError:
        recorded = False
    if not recorded:  # an editable install records none of Attune's own files: count its folders
        here = Path(__file__).resolve().parents[1]
        for package in ("agent", "knowledge", "eval", "ui"):
            files_here = [f for f in (here / package).rglob("*") if f.is_file() and "__pycache__" not in f.parts]
            total += sum(f.stat().st_size for f in files_here)
    return total / 2**20


def suite_questions(limit: int) -> list[str]:
    seen: list[str] = []
    for name in ("relationship_questions.jsonl", "counselchat.jsonl"):
        for line in files("eval").joinpath("suites", name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                question = json.loads(line)["question"]
                if question not in seen:
                    seen.append(question)
    return seen[:limit]


def _stage(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _timed_stream(chunks: Iterator[Any], text_of: Callable[[Any], str]) -> tuple[float, float, int]:
    """Seconds to the first and last text chunk, and how many chunks carried text."""
    started = time.perf_counter()
    first = last = 0.0
    n = 0
    for chunk in chunks:
        if text_of(chunk):
            last = time.perf_counter() - started
            if n == 0:
                first = last
            n += 1
    return first, last, n


def decode_rates(settings: AttuneSettings, model: Any, repeats: int) -> tuple[float, float, int]:
    """Median decode tokens/s of Attune's chat model and of llama-cpp-python's own `Llama` (a second instance
    with the same arguments, no Attune code in the loop), on the same prompt, alternating runs."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from llama_cpp import Llama

    from agent.backends.llamacpp import llama_options, resolve_model_path, threads_for_now
    from agent.prompts import COACH_SYSTEM

    raw = Llama(**llama_options(resolve_model_path(settings), settings))
    messages = [SystemMessage(COACH_SYSTEM), HumanMessage(DECODE_PROMPT)]
    payload = [{"role": "system", "content": COACH_SYSTEM}, {"role": "user", "content": DECODE_PROMPT}]
    max_tokens = 200

    def attune_run() -> tuple[float, float, int]:
        return _timed_stream(model.stream(messages, max_tokens=max_tokens), lambda c: c.content)

    def raw_run() -> tuple[float, float, int]:
        auto = getattr(model, "auto_threads", None)
        if auto:  # the same thread choice Attune makes before each answer, so the ratio compares like with like
            n = threads_for_now(auto)
            raw._ctx.set_n_threads(n, n)
        stream = raw.create_chat_completion(
            messages=payload,  # type: ignore[arg-type]
            stream=True,
            max_tokens=max_tokens,
            temperature=model.temperature,
            top_p=model.top_p,
            top_k=model.top_k,
            repeat_penalty=model.repeat_penalty,
            seed=model.seed,
            stop=[],
        )
        return _timed_stream(iter(stream), lambda c: c["choices"][0]["delta"].get("content"))  # type: ignore[arg-type]

    def rate(run: tuple[float, float, int]) -> float:
        first, last, n = run
        return (n - 1) / (last - first) if n > 1 and last > first else 0.0

    attune_run(), raw_run()  # warm both
    ours, theirs, tokens = [], [], 0
    for k in range(repeats):
        # Alternating which goes first, so a slow spell on a shared machine does not always hit the same one.
        if k % 2 == 0:
            a, r = attune_run(), raw_run()
        else:
            r = raw_run()
            a = attune_run()
        ours.append(rate(a))
        theirs.append(rate(r))
        tokens = a[2]
    return statistics.median(ours), statistics.median(theirs), tokens


class FirstTokenTimer:
    """A langchain callback that records, for every chat-model call tagged `tag`, the ms to its first token."""

    def __init__(self, tag: str) -> None:
        from langchain_core.callbacks import BaseCallbackHandler

        timer = self

        class Handler(BaseCallbackHandler):
            def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any) -> None:
                if tag in (kw.get("tags") or []):
                    timer.started[run_id] = time.perf_counter()

            def on_llm_new_token(self, token: Any, *, run_id: UUID, **kw: Any) -> None:
                if token and run_id in timer.started:
                    timer.ttft_ms.append((time.perf_counter() - timer.started.pop(run_id)) * 1000)

        self.handler = Handler()
        self.started: dict[UUID, float] = {}
        self.ttft_ms: list[float] = []

    def take(self) -> float | None:
        """The time to first token of the last tagged call since the previous take, if the model was called."""
        value = self.ttft_ms[-1] if self.ttft_ms else None
        self.ttft_ms.clear()
        self.started.clear()
        return value


def practice_ttft(app: Attune, turns: int) -> dict[str, float]:
    """Two scripted sessions interleaved turn by turn, as two users of one server; the partner's TTFT per turn."""
    from agent.practice.scenarios import get_scenario

    model = app.model
    timer = FirstTokenTimer("partner")
    model.callbacks = [timer.handler]
    sessions = [app.start_practice(get_scenario(scenario_id), save=False) for scenario_id in PRACTICE_SCENARIOS]
    # Turn 1 is measured warm: the model, embedder and scorer have all run once before it.
    warm = app.start_practice(get_scenario("phone-at-dinner"), save=False)
    warm.say("I feel ignored when phones come out at dinner.")
    timer.take()
    by_turn: dict[int, list[float]] = {}
    turn_s: list[float] = []
    try:
        for idx in range(turns):
            line = PRACTICE_SCRIPT[idx % len(PRACTICE_SCRIPT)]
            for session in sessions:
                started = time.perf_counter()
                session.say(line)
                turn_s.append(time.perf_counter() - started)
                ttft = timer.take()
                if ttft is not None:  # None: the partner used the scenario's scripted words, no model call
                    by_turn.setdefault(idx + 1, []).append(ttft)
            _stage(f"practice turn {idx + 1}/{turns} (two sessions)")
    finally:
        model.callbacks = None
    first = statistics.mean(by_turn.get(1, [float("nan")]))
    last_turn = max(by_turn) if by_turn else 1
    last = statistics.mean(by_turn.get(last_turn, [float("nan")]))
    return {
        "ttft_ms_turn1": first,
        f"ttft_ms_turn{last_turn}": last,
        f"ttft_ratio_turn{last_turn}_vs_turn1": last / first,
        "practice_turn_median_s": statistics.median(turn_s),
    }


def ask_timings(coach: Any, questions: list[str]) -> dict[str, float]:
    """Warm `ask` on the bundled library: first token split into retrieval, prompt evaluation and the rest."""
    coach.ask(questions[-1]).result()  # warm: the system prompt's KV state is now cached
    rows = []
    for question in questions:
        t = coach.ask(question).result().timings
        prompt_eval = t.prompt_eval_ms or 0.0
        rest = t.first_token_ms - t.retrieval_ms - prompt_eval
        rows.append((t.first_token_ms, t.retrieval_ms, prompt_eval, rest, t.prompt_tokens_evaluated or 0))
    keys = (
        "ask_ttft_ms",
        "ask_retrieval_ms",
        "ask_prompt_eval_ms",
        "ask_first_token_ms",
        "ask_prompt_tokens_evaluated",
    )
    # Medians of each part; the parts' medians need not add up to the median of the whole.
    return {key: statistics.median(row[i] for row in rows) for i, key in enumerate(keys)}


def retrieval_latencies(retriever: Any, questions: list[str]) -> list[float]:
    retriever.retrieve(questions[0])  # builds the keyword index and warms the embedder
    out = []
    for question in questions:
        started = time.perf_counter()
        retriever.retrieve(question)
        out.append((time.perf_counter() - started) * 1000)
    return out


def synthetic_library(path: Path, embeddings: Any, n_chunks: int, vocabulary: list[str]) -> Any:
    """A Chroma collection of `n_chunks` passages of random library words with random unit vectors: enough to
    time search at scale without embedding 100,000 real passages (which would take an hour here)."""
    import numpy as np
    from tqdm import tqdm

    from knowledge.library import Library
    from knowledge.types import Chunk

    rng = np.random.default_rng(0)
    library = Library(path, embeddings, collection="synthetic")
    dim = len(embeddings.embed_query("dimension"))
    words = np.asarray(vocabulary)
    step = 5000
    for start in tqdm(range(0, n_chunks, step), desc="synthetic passages", unit="batch", file=sys.stderr):
        n = min(step, n_chunks - start)
        texts = [" ".join(rng.choice(words, 120)) for _ in range(n)]
        vectors = rng.standard_normal((n, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunks = [Chunk(f"synthetic-{start + i}", text, "Synthetic") for i, text in enumerate(texts)]
        library.add(f"synthetic-{start // step}.md", "Synthetic", chunks, vectors)
    return library


# Runs `attune` exactly as its console script does, then reports the process's own peak memory. VmHWM is per
# address space, so unlike the children's ru_maxrss it does not count the (large) bench process it forked from.
_REPORTING_MAIN = (
    "import sys\n"
    "from agent.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
    "print('peak_rss_kb', hwm[0].split()[1] if hwm else 0, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def cold_start(home: Path, question: str, model_path: Path | None) -> tuple[float, float, float]:
    """`attune ask` as a new process, as a person in a terminal sees it: seconds to the first printed words of
    the answer, seconds to the end, and its peak resident memory in MB."""
    command = [sys.executable, "-c", _REPORTING_MAIN, "ask", question]
    command += ["--model", str(model_path)] if model_path else []
    env = {**os.environ, "ATTUNE_HOME": str(home)}
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(1)  # the answer streams: its first byte is the first word on screen
        first = time.perf_counter() - started
        rest, errors = process.communicate(timeout=600)
        seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"attune ask failed: {errors.decode(errors='replace').strip().splitlines()[-2:]}")
    reported = [line.split()[1] for line in errors.decode(errors="replace").splitlines()
                if line.startswith("peak_rss_kb ")]
    return first, seconds, int(reported[-1]) / 1024 if reported else float("nan")


def run_bench(settings: AttuneSettings, *, turns: int, chunks: int, questions: int, repeats: int) -> BenchResult:
    from agent.app import Attune
    from knowledge.retrieve import HybridRetriever

    result = BenchResult(machine=machine_info())
    work = Path(tempfile.mkdtemp(prefix="attune-bench-"))
    # The partner's lines are timed as the model writes them, whatever `practice.partner_lines` says for users.
    practice = settings.practice.model_copy(update={"partner_lines": "model"})
    settings = settings.model_copy(update={"home": work, "practice": practice})
    asked = suite_questions(questions)

    _stage("loading the embedder and ingesting the bundled library")
    app = Attune(settings)
    library = app.library
    started = time.perf_counter()
    library.embeddings.embed_query("warm up")
    result.figures["embedder_load_s"] = time.perf_counter() - started
    from knowledge.embeddings import reference_cosine

    result.figures["embedder_min_cosine"] = reference_cosine(library.embeddings)
    report = app.ingest(progress=False)
    result.figures["ingest_s"] = report.seconds
    result.figures["library_chunks"] = report.chunks_total

    _stage("retrieval on the bundled library")
    retriever = HybridRetriever(library, top_k=settings.retrieval.top_k, min_relevance=settings.retrieval.min_relevance)
    latencies = retrieval_latencies(retriever, asked)
    result.figures["retrieval_p50_ms"] = percentile(latencies, 50)
    result.figures["retrieval_p95_ms"] = percentile(latencies, 95)

    _stage("loading the chat model")
    started = time.perf_counter()
    model = app.model
    result.figures["model_load_s"] = time.perf_counter() - started
    llama = getattr(model, "llama", None)
    if llama is not None:
        path = Path(model.model_path)  # type: ignore[attr-defined]
        result.model = {
            "file": path.name,
            "size_mb": round(path.stat().st_size / 2**20, 1),
            "n_threads": (f"auto, up to {auto}" if (auto := getattr(model, "auto_threads", None))
                          else llama.context_params.n_threads),
            "n_ctx": settings.model.n_ctx,
            "kv_state_cache_mb": settings.model.kv_cache_mb,
            "llama_cpp_python": _version("llama-cpp-python"),
        }
        _stage("decode speed: Attune's chat model against llama-cpp-python's Llama")
        ours, theirs, tokens = decode_rates(settings, model, repeats)
        result.figures |= {
            "decode_tok_s": ours,
            "raw_decode_tok_s": theirs,
            "decode_ratio_vs_raw": ours / theirs if theirs else 0.0,
            "decode_tokens": tokens,
        }
    else:
        result.model = {"server": settings.model.base_url, "model": settings.model.name}
        result.notes.append("decode_ratio_vs_raw needs the in-process llama.cpp backend; skipped for a server")

    _stage("ask, warm")
    result.figures |= ask_timings(app.coach, asked[:6])

    _stage(f"practice: two sessions of {turns} turns, interleaved")
    result.figures |= practice_ttft(app, turns)
    result.figures["peak_rss_mb_bench_before_100k"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    _stage("cold start: `attune ask` as a new process")
    first, seconds, rss = cold_start(work, asked[0], settings.model.path)
    result.figures["cold_first_words_s"] = first
    result.figures["cold_start_s"] = seconds
    result.figures["peak_rss_mb"] = rss
    result.figures["install_mb"] = install_size_mb()

    if chunks:
        _stage(f"retrieval on a synthetic library of {chunks:,} passages")
        vocabulary = sorted({w for c in library.all_chunks() for w in c.text.split() if w.isalpha()})
        started = time.perf_counter()
        big = synthetic_library(work / "synthetic", library.embeddings, chunks, vocabulary)
        result.figures["synthetic_build_s"] = time.perf_counter() - started
        big_retriever = HybridRetriever(big, top_k=settings.retrieval.top_k, min_relevance=-1.0)
        started = time.perf_counter()
        big_retriever.keyword_ranking("index")
        size = "100k" if chunks == 100_000 else str(chunks)
        result.figures[f"keyword_index_s_{size}_chunks"] = time.perf_counter() - started
        # What the next process pays instead: the index saved beside the collection, loaded.
        started = time.perf_counter()
        HybridRetriever(big, top_k=settings.retrieval.top_k, min_relevance=-1.0).keyword_ranking("index")
        result.figures[f"keyword_index_load_s_{size}_chunks"] = time.perf_counter() - started
        key = f"retrieval_p95_ms_{size}_chunks"
        latencies = retrieval_latencies(big_retriever, asked)
        result.figures[key] = percentile(latencies, 95)
        result.figures[key.replace("p95", "p50")] = percentile(latencies, 50)
        result.notes.append(
            f"synthetic passages: 120 words each drawn from the library's {len(vocabulary)} distinct words, "
            "random unit vectors"
        )
    result.notes.append(f"data folder: {work} (throwaway)")
    return result


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def format_table(result: BenchResult) -> str:
    targets = {key: (target, kind) for key, target, kind in TARGETS}
    met = result.met()
    lines = [
        f"machine: {result.machine.get('cpu')}, {result.machine.get('cores')} cores, "
        f"{result.machine.get('memory_gb')} GiB, Python {result.machine.get('python')}",
        "model: " + ", ".join(f"{k} {v}" for k, v in result.model.items()),
        "",
        f"{'figure':<34} {'value':>12} {'before':>9}  target",
    ]
    for key, value in result.figures.items():
        target = ""
        if key in targets:
            bound, kind = targets[key]
            target = f"{'>=' if kind == 'min' else '<='} {bound:g}  {'met' if met[key] else 'NOT MET'}"
        before = f"{BEFORE[key]:>9g}" if key in BEFORE else " " * 9
        lines.append(f"{key:<34} {value:>12.3f} {before}  {target}".rstrip())
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)
