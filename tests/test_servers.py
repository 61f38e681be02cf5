"""Scale-out on real servers: llama-cpp-python's OpenAI-compatible server with the bundled GGUF, and a Chroma
server from `chroma run`, both on loopback; Attune reaches them through ATTUNE_MODEL__BASE_URL and
ATTUNE_RETRIEVAL__CHROMA_URL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.app import Attune
from agent.backends.llamacpp import bundled_model_path
from agent.settings import AttuneSettings

pytestmark = pytest.mark.integration

ATTUNE = str(Path(sys.executable).with_name("attune"))
CHROMA = str(Path(sys.executable).with_name("chroma"))


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], ready_url: str, log: Path, url: str) -> Iterator[Server]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {log.read_text(errors='replace')[-2000:]}") from None
                time.sleep(0.5)
        yield Server(url, log, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path()),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
               # The server's default cuts a streaming answer short when another request arrives.
               "--interrupt_requests", "False"]
    base = f"http://127.0.0.1:{port}/v1"
    yield from start(command, f"{base}/models", log, base)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    command = [CHROMA, "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    yield from start(command, f"{url}/api/v2/heartbeat", folder / "server.log", url)


def completions(server: Server) -> int:
    return server.log_text().count("POST /v1/chat/completions")


def attune(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    return subprocess.run(
        [ATTUNE, *args], env=clean | {"ATTUNE_HOME": str(home)} | env,
        capture_output=True, text=True, timeout=600, check=False,
    )


def test_ask_and_practice_run_against_the_llama_cpp_server_and_chroma_server(tmp_path, llama_server, chroma_server):
    servers = {"ATTUNE_MODEL__BASE_URL": llama_server.url, "ATTUNE_RETRIEVAL__CHROMA_URL": chroma_server.url}
    ingested = attune(tmp_path, "ingest", "--json", **servers)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["chunks_total"] > 50
    assert not (tmp_path / "chroma").exists()  # the passages went to the server, not to a local index

    before = completions(llama_server)
    asked = attune(tmp_path, "ask", "How can I talk about chores without blaming my partner?", "--json", **servers)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["answer"].strip() and answer["grounded"] and answer["sources"]
    assert completions(llama_server) > before  # the server, not an in-process model, wrote it

    before = completions(llama_server)
    practised = attune(
        tmp_path, "practice", "--scenario", "plans-changed", "--say", "You never listen to me.",
        "--say", "I feel hurt when plans change at the last minute.", "--json", **servers,
    )
    assert practised.returncode == 0, practised.stderr
    turns = json.loads(practised.stdout)["turns"]
    assert len(turns) == 2 and all(t["partner"] for t in turns)
    assert turns[0]["scores"]["non_blame"]["flags"]
    assert completions(llama_server) > before
    listed = attune(tmp_path, "sessions", "--json", **servers)
    assert len(json.loads(listed.stdout)) == 1


def test_several_users_ask_at_once_through_one_model_server(tmp_path, llama_server, chroma_server):
    settings = AttuneSettings(home=tmp_path, llm_base_url=llama_server.url, chroma_url=chroma_server.url)
    attune = Attune(settings)
    attune.ingest(progress=False)
    coach = attune.coach
    questions = [
        "How do I tell my friend I felt left out?",
        "My coworker took credit for my work. How do I raise it calmly?",
        "How can we stop fighting about money?",
        "How do I apologise after I snapped at my partner?",
    ]
    before = completions(llama_server)
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(lambda q: coach.ask(q).result(), questions))
    assert [a.question for a in answers] == questions
    assert all(a.text.strip() for a in answers)
    assert completions(llama_server) - before == len(questions)


def test_a_second_worker_sees_what_the_first_ingested_on_the_chroma_server(tmp_path, chroma_server):
    from conftest import HashingEmbeddings

    from knowledge.library import Library

    settings = AttuneSettings(home=tmp_path / "a", collection="shared", chroma_url=chroma_server.url)
    writer = Attune(settings, embeddings=HashingEmbeddings())
    writer.ingest(progress=False)
    first = writer.library
    second = Library(tmp_path / "b", HashingEmbeddings(), collection="shared", url=chroma_server.url)
    assert second.count() == first.count() > 50
    from knowledge.retrieve import HybridRetriever

    passages = HybridRetriever(second, top_k=3, min_relevance=0.0).retrieve("blame and criticism")
    assert passages and not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
