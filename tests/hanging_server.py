"""A model server child that takes a chat request and never answers it, so a test can kill it mid-request.

``python tests/hanging_server.py MARKER [PORT_FD]`` serves ``/v1/models`` on 127.0.0.1 at a port it
binds itself (so it looks ready) and reports that port as the real model server does: written to the
inherited fd PORT_FD (``server_main.report_port``), or as a line on stdout without one. On each
chat-completions request it writes its own pid into MARKER and then hangs, the way a model server
hangs while it computes. ``kill_when_asked`` is the test's side: it waits for the marker
and kills that pid with SIGKILL, as a crash or the OOM killer would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def serve(marker: Path, port_fd: int | None) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            data = json.dumps({"object": "list", "data": [{"id": "stub", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            marker.write_text(str(os.getpid()), encoding="utf-8")
            time.sleep(3600)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = int(server.server_address[1])
    if port_fd is None:
        print(port, flush=True)
    else:
        from extractor.backends.server_main import report_port

        report_port(port_fd, port)
    server.serve_forever()


def kill_when_asked(marker: Path, timeout_s: float = 60.0) -> threading.Thread:
    """Start a thread that SIGKILLs the server process as soon as it has a request in hand."""

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                pid = int(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            time.sleep(0.2)  # let the request settle into the "computing" state
            os.kill(pid, signal.SIGKILL)
            return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
