"""The OpenAI-compatible backend against a small stand-in server on loopback that speaks the streaming
chat-completions protocol, so the request Attune sends and the stream it reads are both real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent.backends import BackendUnavailable, make_chat_model
from agent.settings import AttuneSettings


class _ChatCompletions(BaseHTTPRequestHandler):
    requests: list[dict[str, object]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ["Speak ", "from ", "your ", "own ", "feelings."]:
            chunk = {
                "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A stand-in OpenAI-compatible server on loopback: requests to it are allowed, it is no real model."""
    monkeypatch.setattr("agent.backends.ALLOW_MODEL_REQUESTS", True)
    _ChatCompletions.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ChatCompletions)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_streams_from_an_openai_compatible_server(server):
    settings = AttuneSettings(llm_base_url=server, llm_model="qwen-7b", max_tokens=99)
    model = make_chat_model(settings)
    pieces = [c.content for c in model.stream("How do I start?")]
    assert "".join(pieces) == "Speak from your own feelings."
    sent = _ChatCompletions.requests[-1]
    assert sent["model"] == "qwen-7b" and sent["stream"] is True
    assert sent["max_tokens"] == 99  # what llama.cpp's server reads
    assert sent["messages"] == [{"role": "user", "content": "How do I start?"}]


def test_an_unreachable_server_is_named_in_one_line(monkeypatch):
    monkeypatch.setattr("agent.backends.ALLOW_MODEL_REQUESTS", True)  # the request must go out and fail
    model = make_chat_model(AttuneSettings(llm_base_url="http://127.0.0.1:9/v1"))
    for call in (model.invoke, lambda text: list(model.stream(text))):
        with pytest.raises(BackendUnavailable, match=r"cannot reach the model server at http://127.0.0.1:9/v1"):
            call("hello")
