"""Several people asking at once through one model server: per-request first token and total, and throughput.

Starts llama-cpp-python's OpenAI-compatible server with the bundled GGUF and a Chroma server on loopback, ingests
the bundled library through the Chroma server, then for each N fires N questions at the same moment from N
threads of one Attune process (as N browser tabs on `attune ui` workers would).

    python eval/measure/concurrent_users.py [--users 1 2 4 8] [--server-cache]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.app import Attune
from agent.backends.llamacpp import bundled_model_path
from agent.settings import load_settings
from eval.benchmarks import suite_questions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"server exited: {process.args!r}") from None
            time.sleep(0.5)
    raise SystemExit(f"server did not start: {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--server-cache", action="store_true", help="start llama_cpp.server with --cache True")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="attune-concurrent-"))
    llama_port, chroma_port = free_port(), free_port()
    llama_cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path()),
                 "--host", "127.0.0.1", "--port", str(llama_port), "--n_ctx", "4096",
                 "--interrupt_requests", "False"] + (["--cache", "True"] if args.server_cache else [])
    chroma_cmd = [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(work / "chroma"),
                  "--host", "127.0.0.1", "--port", str(chroma_port)]
    log = (work / "servers.log").open("wb")
    servers = [subprocess.Popen(c, stdout=log, stderr=subprocess.STDOUT) for c in (llama_cmd, chroma_cmd)]
    try:
        wait_for(f"http://127.0.0.1:{llama_port}/v1/models", servers[0])
        wait_for(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", servers[1])
        settings = load_settings(**{
            "home": work / "home", "model.base_url": f"http://127.0.0.1:{llama_port}/v1",
            "retrieval.chroma_url": f"http://127.0.0.1:{chroma_port}",
        })
        app = Attune(settings)
        app.ingest(progress=False)
        coach = app.coach
        questions = suite_questions(40)
        coach.ask(questions[-1]).result()  # warm: embedder, keyword index, server
        print(f"{'users':>5} {'first token median/max s':>26} {'answer median/max s':>22} {'answers/min':>12}")
        offset = 0
        for n in args.users:
            batch = questions[offset : offset + n]
            offset += n
            barrier = threading.Barrier(n)

            def ask(question: str, barrier: threading.Barrier = barrier) -> tuple[float, float]:
                barrier.wait()
                t = coach.ask(question).result().timings
                return t.first_token_ms / 1000, t.total_ms / 1000

            started = time.perf_counter()
            with ThreadPoolExecutor(n) as pool:
                results = list(pool.map(ask, batch))
            wall = time.perf_counter() - started
            first = [r[0] for r in results]
            total = [r[1] for r in results]
            print(
                f"{n:>5} {statistics.median(first):>18.1f} / {max(first):<5.1f} "
                f"{statistics.median(total):>14.1f} / {max(total):<5.1f} {60 * n / wall:>12.1f}",
                flush=True,
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
