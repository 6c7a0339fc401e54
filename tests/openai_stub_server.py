"""A real HTTP server on 127.0.0.1 that speaks OpenAI chat completions, scripted reply by reply.

Used to test orchestration (retries, re-asks, truncation, cache) against real sockets, real HTTP
and the real ``openai`` SDK, without a model:

    with StubOpenAI() as stub:
        stub.enqueue(Reply.error(500), Reply.json({"a": 1}))
        ... RunConfig(model="openai:stub", base_url=stub.base_url, ...)
        stub.requests  # what the client actually sent (headers + JSON body)

An empty script answers 500 "script exhausted", so a test that asks more than it scripted fails.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str | None = None
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # for errors: the JSON body
    delay_s: float = 0.0
    echo_auth: bool = False  # put the request's Authorization header into the error message
    crash: bool = False  # the whole server process exits mid-request (a dying local model server)
    prompt_tokens: int = 11
    completion_tokens: int = 7

    @classmethod
    def json(cls, obj: Any, **kw: Any) -> "Reply":
        return cls(content=json.dumps(obj, ensure_ascii=False), **kw)

    @classmethod
    def text(cls, text: str, finish_reason: str = "stop", **kw: Any) -> "Reply":
        return cls(content=text, finish_reason=finish_reason, **kw)

    @classmethod
    def error(cls, status: int, message: str = "stub error", retry_after: str | None = None, **kw: Any) -> "Reply":
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls(status=status, headers=headers, body={"error": {"message": message, "type": "stub"}}, **kw)

    @classmethod
    def die(cls) -> "Reply":
        return cls(crash=True)

    @classmethod
    def hang(cls, seconds: float, then: "Reply | None" = None) -> "Reply":
        base = then or cls.json({})
        base.delay_s = seconds
        return base


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


class StubOpenAI:
    def __init__(self) -> None:
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self) -> None:
                stub._record(self, None)
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "stub"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                stub._record(self, body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                reply = stub._next()
                if reply.crash:
                    os._exit(3)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    payload = reply.body or {"error": {"message": "stub error"}}
                    if reply.echo_auth:
                        payload = {"error": {"message": f"bad request from {self.headers.get('Authorization')}"}}
                    self._send(reply.status, payload, reply.headers)
                    return
                model = body.get("model", "stub") if isinstance(body, dict) else "stub"
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-stub-{len(stub.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": reply.finish_reason,
                            }
                        ],
                        "usage": {
                            "prompt_tokens": reply.prompt_tokens,
                            "completion_tokens": reply.completion_tokens,
                            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                        },
                    },
                    reply.headers,
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="stub-openai", daemon=True
        )

    # -- scripting ------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def chat_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST"]

    def _next(self) -> Reply:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        return Reply.error(500, "script exhausted")

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        with self._lock:
            self.requests.append(
                Seen(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body, time.monotonic())
            )

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "StubOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "StubOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
