"""Speed work that must not change behaviour: focused passages, the keyword index, the KV state cache,
Chroma server errors and `attune bench`. Timing targets live in `attune bench`, not here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HashingEmbeddings

from agent.backends.fake import ScriptedChatModel
from agent.cli import main
from agent.coach import Coach
from agent.safety import check_message
from agent.settings import AttuneSettings
from eval.benchmarks import BenchResult, format_table, percentile
from knowledge.ingest import ingest
from knowledge.library import Library, LibraryUnavailable
from knowledge.retrieve import HybridRetriever, pick_sentences, split_sentences, tokenize
from knowledge.types import Passage

PASSAGE = Passage(
    "p1", "Chores", "Sharing the load",
    "Couples often argue about money. Holidays bring their own stress. A weekly chores schedule helps partners "
    "share housework fairly. Talk about it when you are both calm. Remember to laugh together.",
    "chores.md", 0.8,
)


def test_focus_keeps_the_sentences_nearest_the_question_in_reading_order(library):
    retriever = HybridRetriever(library)
    [focused] = retriever.focus("How do we share housework and chores fairly?", [PASSAGE], 120)
    assert "weekly chores schedule" in focused.text and len(focused.text) <= 120 + 2
    assert "Holidays" not in focused.text
    assert (focused.id, focused.title, focused.relevance) == (PASSAGE.id, PASSAGE.title, PASSAGE.relevance)
    assert retriever.focus("anything", [PASSAGE], 0) == [PASSAGE]  # 0: whole passages
    assert retriever.focus("anything", [PASSAGE], 10_000) == [PASSAGE]  # short enough already


def test_pick_sentences_marks_gaps_and_cuts_a_single_long_sentence():
    sentences = ["One two.", "Three four.", "Five six."]
    assert pick_sentences(sentences, [0.9, 0.1, 0.8], 20) == "One two. … Five six."
    assert pick_sentences(["A very long sentence about many things"], [1.0], 15) == "A very long …"
    assert split_sentences("First one. Second!\nThird?") == ["First one.", "Second!", "Third?"]


def test_the_prompt_carries_focused_passages_and_the_answer_keeps_whole_ones(library, settings):
    ingest(library, progress=False)
    focused = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"passage_chars": 150})})
    coach = Coach(ScriptedChatModel(), HybridRetriever(library, top_k=3, min_relevance=0.1), focused,
                  safety_check=check_message)
    answer = coach.ask("How do I avoid blaming my partner in a conflict?").result()
    prompt = coach.model.history[-1][-1].content
    assert answer.sources and any(len(p.text) > 150 for p in answer.sources)
    for passage in answer.sources:
        assert passage.text not in prompt or len(passage.text) <= 150


def test_keyword_ranking_only_returns_passages_sharing_a_word(library):
    ingest(library, progress=False)
    retriever = HybridRetriever(library, fetch_k=5)
    query = tokenize("blaming vulnerability")
    ranked = retriever.keyword_ranking("blaming vulnerability")
    assert len(ranked) == 5 and all(set(query) & set(tokenize(f"{c.section} {c.text}")) for c in ranked)
    assert retriever.keyword_ranking("zzzqqq") == [] and retriever.keyword_ranking("the and") == []


def test_all_chunks_reads_a_large_library_in_pages(library):
    ingest(library, progress=False)
    whole = library.all_chunks()
    assert len(whole) == library.count() > 20
    assert [c.id for c in library.all_chunks(page=7)] == [c.id for c in whole]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_chroma_server_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(LibraryUnavailable, match="cannot reach the Chroma server"):
        Library(tmp_path / "x", HashingEmbeddings(), url=url)
    with pytest.raises(LibraryUnavailable, match="not a Chroma server URL"):
        Library(tmp_path / "x", HashingEmbeddings(), url="ftp://example")
    monkeypatch.setenv("ATTUNE_RETRIEVAL__CHROMA_URL", url)
    assert main(["ingest"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and url in err and not (tmp_path / "x").exists()


def test_bench_table_marks_targets_met_and_missed():
    result = BenchResult(figures={"decode_ratio_vs_raw": 0.97, "ask_ttft_ms": 1200.0, "ingest_s": 2.0})
    assert result.met() == {"decode_ratio_vs_raw": True, "ask_ttft_ms": False}
    table = format_table(result)
    assert ">= 0.95  met" in table and "<= 1000  NOT MET" in table and "ingest_s" in table
    assert json.loads(json.dumps(result.to_json()))["met"]["ask_ttft_ms"] is False
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0 and percentile([1.0, 2.0], 95) == 2.0


@pytest.mark.parametrize("args", [["--turns", "0"], ["--questions", "2"], ["--chunks", "-1"]])
def test_bench_refuses_bad_arguments(args, capsys):
    assert main(["bench", *args]) == 2
    assert "attune bench: error:" in capsys.readouterr().err


# --- on the real model ----------------------------------------------------------------------------------------


def _first_chunk_metadata(model, messages) -> dict:  # type: ignore[no-untyped-def]
    chunks = [c for c in model.stream(messages, max_tokens=8) if c.content]  # read to the end: then it is cached
    return dict(chunks[0].response_metadata)


@pytest.mark.integration
def test_interleaved_conversations_get_their_kv_state_back(tmp_path):
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from agent.backends.llamacpp import make_llamacpp_model

    card = SystemMessage("You are Sam, the user's partner. You are upset that plans changed again. " * 8)
    other = SystemMessage("You are Alex, a coworker who took credit for the user's report at the meeting. " * 8)
    a1 = [card, HumanMessage("We need to talk about the weekend.")]
    b1 = [other, HumanMessage("I want to talk about the meeting.")]
    a2 = [*a1, AIMessage("Fine. What about it?"), HumanMessage("I felt hurt when the plans changed.")]
    evaluated = {}
    for cache_mb in (256, 0):
        settings = AttuneSettings(home=tmp_path, kv_cache_mb=cache_mb, temperature=0.0)
        model = make_llamacpp_model(settings)
        _first_chunk_metadata(model, a1)
        _first_chunk_metadata(model, b1)  # another user in between: the context now holds B
        evaluated[cache_mb] = _first_chunk_metadata(model, a2)["prompt_tokens_evaluated"]
    # With the state cache, A's second turn reads only what is new; without it, its whole conversation again.
    assert evaluated[256] < 40 < evaluated[0], evaluated


@pytest.mark.integration
def test_attune_bench_runs_end_to_end_and_reports_every_figure(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")} | {"ATTUNE_HOME": str(tmp_path)}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("attune")), "bench", "--json", "--turns", "2", "--chunks", "3000",
         "--questions", "6", "--repeats", "1"],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    for key in ("decode_ratio_vs_raw", "ttft_ms_turn1", "ttft_ms_turn2", "ask_ttft_ms", "ask_retrieval_ms",
                "ask_prompt_eval_ms", "ask_first_token_ms", "retrieval_p50_ms", "retrieval_p95_ms",
                "retrieval_p95_ms_3000_chunks", "ingest_s", "cold_start_s", "cold_first_words_s", "peak_rss_mb",
                "install_mb", "keyword_index_load_s_3000_chunks"):
        assert report[key] > 0, key
    assert report["cold_first_words_s"] < report["cold_start_s"]
    assert report["embedder_min_cosine"] >= 0.999 and report["met"]["embedder_min_cosine"]
    assert report["before"]["cold_start_s"] > 0  # the figures from before the torch-free embedder, side by side
    assert 0.5 < report["decode_ratio_vs_raw"] < 2 and report["library_chunks"] > 50
    assert report["machine"]["cores"] >= 1 and report["model"]["file"].endswith(".gguf")
    assert not list(tmp_path.iterdir())  # the bench works in a throwaway folder, never the user's
