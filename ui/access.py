"""Who may reach the review UI: a login that cannot be guessed at speed, the reviewer's name taken from
that login, and a Host check that keeps a page on another site from reaching a UI bound to loopback.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

LOOPBACK_NAMES: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1"})

# Gradio passes the login callable only the user name and password, not the client: the limit is
# for the whole UI. Five wrong passwords within five minutes close the login for a minute, each
# further closing twice as long (up to fifteen minutes); a right password opens it again.
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
FIRST_LOCKOUT_S = 60.0
MAX_LOCKOUT_S = 900.0


class LoginGuard:
    """The ``auth`` callable given to Gradio: one user and password, compared in constant time, with
    attempts limited. While closed it refuses every attempt without comparing anything."""

    def __init__(self, user: str, password: str, *, max_failures: int = MAX_FAILURES,
                 window_s: float = FAILURE_WINDOW_S, first_lockout_s: float = FIRST_LOCKOUT_S,
                 max_lockout_s: float = MAX_LOCKOUT_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._user = user.encode("utf-8")
        self._password = password.encode("utf-8")
        self.max_failures = max_failures
        self.window_s = window_s
        self.first_lockout_s = first_lockout_s
        self.max_lockout_s = max_lockout_s
        self._clock = clock
        self._failures: list[float] = []
        self._locked_until = 0.0
        self._next_lockout_s = first_lockout_s
        self._lock = threading.Lock()
        self.checked = 0  # attempts whose password was compared (the rest were refused unread)

    def locked(self) -> bool:
        return self._clock() < self._locked_until

    def __call__(self, username: str, password: str) -> bool:
        with self._lock:
            now = self._clock()
            if now < self._locked_until:
                return False
            self.checked += 1
            # both comparisons always run: the time taken says nothing about which one failed
            user_ok = hmac.compare_digest(username.encode("utf-8"), self._user)
            password_ok = hmac.compare_digest(password.encode("utf-8"), self._password)
            if user_ok and password_ok:
                self._failures.clear()
                self._next_lockout_s = self.first_lockout_s
                return True
            self._failures = [t for t in self._failures if now - t < self.window_s] + [now]
            if len(self._failures) >= self.max_failures:
                self._locked_until = now + self._next_lockout_s
                self._next_lockout_s = min(self._next_lockout_s * 2, self.max_lockout_s)
                self._failures.clear()
            return False


def reviewer_name(request: Any, typed: str | None) -> str:
    """Who confirms: the logged-in user when the UI has a login (a typed name could be anyone's),
    else the name typed in the 审核人 box."""
    username = getattr(request, "username", None) if request is not None else None
    return username if username else (typed or "")


def _hostname(host_header: str) -> str:
    """'127.0.0.1:7860' → '127.0.0.1', '[::1]:7860' → '::1', 'LocalHost.' → 'localhost'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LoopbackHostCheck:
    """ASGI middleware for a UI bound to loopback: a request whose Host is not a loopback name is
    refused. A page on another site that rebinds its DNS name to 127.0.0.1 reaches the port, but
    its requests carry its own name as Host (DNS rebinding); a browser on this machine sends
    127.0.0.1 or localhost."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]],
                 allowed: frozenset[str] = LOOPBACK_NAMES) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"host"), "")
            if _hostname(host) not in self.allowed:
                await _refuse(scope, send)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = "不允许的 Host：请用 http://127.0.0.1 访问本机审核界面 (invalid Host header)".encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def host_check_app_kwargs(host: str) -> dict[str, Any]:
    """FastAPI arguments for Gradio's ``launch(app_kwargs=...)``: the Host check when bound to loopback."""
    if _hostname(host) not in LOOPBACK_NAMES:
        return {}  # reached by other names on purpose: the login protects it (ui.cli warns without one)
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(LoopbackHostCheck)]}
