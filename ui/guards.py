"""Who may reach the UI and whose sessions are whose: the owner cookie, the loopback guard, the login throttle.

ASGI middleware and Gradio's auth hook, kept apart from the tabs so the security rules read in one place.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
import uuid
from typing import Any

import gradio as gr

from ui import LOOPBACK_NAMES

OWNER_COOKIE = "attune_owner"
_OWNER_TOKEN = re.compile(r"[0-9a-f]{32}")
_OWNER_IN_COOKIES = re.compile(rf"(?:^|;\s*){OWNER_COOKIE}=[0-9a-f]{{32}}(?:;|$)")


def owner_of(request: gr.Request) -> str:
    """Who made a practice session: this browser's owner cookie (set by `OwnerCookie`), else the Gradio session
    of a client that keeps no cookies. Sessions belong to their owner; nobody else can list or read them."""
    cookies = getattr(request, "cookies", None) or {}
    token = cookies.get(OWNER_COOKIE, "")
    if _OWNER_TOKEN.fullmatch(token):
        return f"browser:{token}"
    return f"gradio-session:{request.session_hash}"


class OwnerCookie:
    """Give every browser a random, HttpOnly owner cookie on its first request, kept for a year."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
        if _OWNER_IN_COOKIES.search(cookie):
            await self.app(scope, receive, send)
            return
        token = uuid.uuid4().hex
        header = f"{OWNER_COOKIE}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict".encode()

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _hostname(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:7860
        return value[1 : value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LoopbackGuard:
    """On a loopback UI, answer only requests addressed to loopback from a page of this very server.

    Without it any `Host` was served, so a web page whose name resolves to 127.0.0.1 (DNS rebinding) could drive the
    UI from the user's browser, and any localhost origin was allowed to call it with credentials.
    """

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.origins = {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/").lower()
            if _hostname(host) not in LOOPBACK_NAMES or (origin and origin not in self.origins):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"Attune answers only this machine (loopback) and its own pages."
                headers_out = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 403, "headers": headers_out})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class LoginThrottle:
    """Gradio's password check, with at most `limit` wrong tries per `window_s` seconds for everyone together:
    without it 200 guesses took one second. Past the limit every login waits for the window to pass."""

    def __init__(self, password: str, limit: int = 5, window_s: float = 60.0) -> None:
        self.password = password
        self.limit = limit
        self.window_s = window_s
        self.failures: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, username: str, password: str) -> bool:
        now = time.monotonic()
        with self._lock:
            self.failures = [t for t in self.failures if now - t < self.window_s]
            if len(self.failures) >= self.limit:
                return False
            ok = hmac.compare_digest(username.encode(), b"attune") & hmac.compare_digest(
                password.encode(), self.password.encode()
            )
            if not ok:
                self.failures.append(now)
            return ok


