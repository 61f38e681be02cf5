"""`attune models`: the curated list, a pull from a Hugging Face hub stand-in served on loopback (`HF_ENDPOINT`)
with the bundled GGUF as the file, resume after a dropped connection, checksum refusal, offline failure, `use`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.backends.llamacpp import bundled_model_path, resolve_model_path
from agent.models import catalog
from agent.settings import AttuneSettings

pytestmark = pytest.mark.slow  # a real HTTP server and `attune` as a second process

MODEL = catalog()["qwen2.5-1.5b"]
PATH = f"/{MODEL.repo_id}/resolve/main/{MODEL.filename}"


@dataclass
class Hub:
    url: str
    data: bytes
    etag: str
    drop_first_get: bool = True  # cut the first download halfway, as a flaky network does
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Range header)


@pytest.fixture
def hub() -> Iterator[Hub]:
    data = bundled_model_path().read_bytes()
    state = Hub("", data, hashlib.sha256(data).hexdigest())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _head(self, status: int, length: int, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("ETag", f'"{state.etag}"')
            self.send_header("X-Repo-Commit", "a" * 40)
            self.send_header("Accept-Ranges", "bytes")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802
            state.requests.append(("HEAD", self.path, ""))
            if self.path != PATH:
                self.send_error(404)
                return
            self._head(200, len(state.data), {})

        def do_GET(self) -> None:  # noqa: N802
            ranged = self.headers.get("Range", "")
            state.requests.append(("GET", self.path, ranged))
            if self.path != PATH:
                self.send_error(404)
                return
            start = int(ranged.removeprefix("bytes=").split("-")[0]) if ranged else 0
            body = state.data[start:]
            if start:
                self._head(206, len(body), {"Content-Range": f"bytes {start}-{len(state.data) - 1}/{len(state.data)}"})
            else:
                self._head(200, len(body), {})
            if state.drop_first_get and not start:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()


def attune(home: Path, *args: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    # TRANSFORMERS_OFFLINE too: huggingface_hub reads it as offline mode.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTUNE_", "HF_", "TRANSFORMERS_"))}
    env |= {"ATTUNE_HOME": str(home), "HF_ENDPOINT": endpoint, "HF_HOME": str(home / "hf")}
    exe = str(Path(sys.executable).with_name("attune"))
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=300)


def test_pull_resumes_verifies_and_use_makes_it_the_default(tmp_path: Path, hub: Hub):
    done = attune(tmp_path, "models", "pull", MODEL.name, endpoint=hub.url)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "models" / MODEL.filename
    assert path.read_bytes() == hub.data and "checksum verified" in done.stdout
    gets = [r for r in hub.requests if r[:2] == ("GET", PATH)]
    resumed_at = int(gets[-1][2].removeprefix("bytes=").rstrip("-"))
    assert len(gets) == 2 and 0 < resumed_at <= len(hub.data) // 2  # the second GET asked only for the rest
    listed = json.loads(attune(tmp_path, "models", "--json", endpoint=hub.url).stdout)
    row = next(r for r in listed if r["name"] == MODEL.name)
    assert row["downloaded"] and not row["default"]

    assert attune(tmp_path, "models", "use", MODEL.name, endpoint=hub.url).returncode == 0
    settings = AttuneSettings(home=tmp_path)
    assert resolve_model_path(settings) == path  # ask, practice and the UI resolve the model here
    assert resolve_model_path(AttuneSettings(home=tmp_path, model_path=bundled_model_path())) == bundled_model_path()
    assert attune(tmp_path, "models", "use", "bundled", endpoint=hub.url).returncode == 0
    assert resolve_model_path(settings) == bundled_model_path()


def test_a_file_that_does_not_match_its_checksum_is_deleted(tmp_path: Path, hub: Hub):
    hub.etag = "0" * 64
    hub.drop_first_get = False
    done = attune(tmp_path, "models", "pull", MODEL.name, endpoint=hub.url)
    assert done.returncode == 1
    error = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and "does not match its checksum" in error[0]
    assert not (tmp_path / "models" / MODEL.filename).exists()


def test_offline_pull_fails_in_one_line_and_nothing_else_goes_online(tmp_path: Path):
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]  # bound, then closed: nothing listens there
    done = attune(tmp_path, "models", "pull", MODEL.name, endpoint=f"http://127.0.0.1:{port}")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("attune models pull: error: could not download") and "Traceback" not in done.stderr
    assert len(lines) == 2  # "Downloading ..." and the one-line reason
    unknown = attune(tmp_path, "models", "use", "gpt-9", endpoint=f"http://127.0.0.1:{port}")
    assert unknown.returncode == 2 and "no model 'gpt-9'" in unknown.stderr


def test_offline_mode_is_said_as_such(tmp_path: Path, hub: Hub):
    env_home = tmp_path
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTUNE_", "HF_", "TRANSFORMERS_"))}
    env |= {"ATTUNE_HOME": str(env_home), "HF_ENDPOINT": hub.url, "TRANSFORMERS_OFFLINE": "1"}
    exe = str(Path(sys.executable).with_name("attune"))
    done = subprocess.run([exe, "models", "pull", MODEL.name], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "offline mode is on" in done.stderr and not hub.requests
