"""Batch throughput: reports per second for the template engine (-j 1 and -j 2) over 1,000 reports, and
the speed-up of -j 4 over -j 1 with ``--engine llm`` against an OpenAI-compatible served model.

    .venv/bin/python benchmarks/bench_batch.py                      # 1,000 reports + built-in served model
    .venv/bin/python benchmarks/bench_batch.py --reports 200 --llm-reports 8 --latency 0.3
    .venv/bin/python benchmarks/bench_batch.py --base-url http://127.0.0.1:8080/v1 --model openai:qwen

Without ``--base-url`` the LLM part runs against a local HTTP server started here on 127.0.0.1 that
speaks the OpenAI chat-completions protocol and answers each question with a minimal valid instance
of the JSON schema the client sent, after ``--latency`` seconds: it measures what concurrency buys
against a served model whose requests overlap (as vLLM, llama.cpp's server with parallel slots, or a
cloud API do), not reading quality. The LLM cache is off and no repair round runs, so every report
costs the same number of requests in both runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from extractor.batch.runner import BatchOutcome, BatchRunner  # noqa: E402
from extractor.config import RunConfig  # noqa: E402

# the seeds and devset, as the repo carries them (evals/samples equals ../shared, tested)
SAMPLES = REPO / "evals" / "samples"


def make_corpus(root: Path, n: int) -> list[Path]:
    """``n`` distinct reports: the seeds and devset texts in turn, each with its own copy note, so that
    none is skipped as a duplicate."""
    sources = sorted(SAMPLES.glob("*.txt"))
    if not sources:
        raise SystemExit(f"no seeds/devset texts under {SAMPLES}")
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        src = sources[i % len(sources)]
        dst = root / f"{i:05d}_{src.name}"
        dst.write_bytes(src.read_bytes() + f"\n（副本 {i}）\n".encode("utf-8"))
        files.append(dst.resolve())
    return files


def run_batch(files: list[Path], out: Path, config: RunConfig, jobs: int) -> BatchOutcome:
    out.mkdir(parents=True, exist_ok=True)
    return BatchRunner(files, out, config, jobs=jobs).run()


# ---- a served model stand-in ----------------------------------------------------------------

def _schema_from_request(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict):
        return fmt["schema"]
    # instructor's JSON mode writes the schema into the system message after "json_schema:"
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str) and "json_schema" in content:
            start = content.find("{", content.find("json_schema"))
            if start != -1:
                try:
                    schema, _ = json.JSONDecoder().raw_decode(content[start:])
                    return schema
                except ValueError:
                    pass
    return None


def minimal_instance(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """The smallest value the schema accepts, preferring null (a blank cell) where allowed."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return minimal_instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            if any(o.get("type") == "null" for o in options):
                return None
            return minimal_instance(options[0], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        if "null" in kind:
            return None
        kind = kind[0]
    if kind == "object":
        return {k: minimal_instance(v, defs) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        if "prefixItems" in schema:
            return [minimal_instance(s, defs) for s in schema["prefixItems"]]
        return [minimal_instance(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return 0
    if kind == "string":
        return "0" if re.search(r"\\d|\[0-9\]", schema.get("pattern", "")) else ""
    if kind == "boolean":
        return False
    return None


class SchemaAnsweringServer:
    """OpenAI chat completions on 127.0.0.1: every answer is valid for its schema, after ``latency_s``."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.requests = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "bench", "object": "model", "owned_by": "bench"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with server._lock:
                    server.requests += 1
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    time.sleep(server.latency_s)
                    schema = _schema_from_request(body)
                    answer = minimal_instance(schema) if schema else {}
                    self._send(200, {
                        "id": f"bench-{server.requests}", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model", "bench"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                    })
                finally:
                    with server._lock:
                        server._in_flight -= 1

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "SchemaAnsweringServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _line(label: str, outcome: BatchOutcome) -> float:
    rate = outcome.processed / outcome.seconds if outcome.seconds else 0.0
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(outcome.by_status.items()))
    print(f"  {label:<28} {outcome.processed:>5} reports  {outcome.seconds:>8.2f} s  {rate:>8.2f} reports/s  ({statuses})")
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=1000, help="reports for the template engine (default 1000)")
    ap.add_argument("--llm-reports", type=int, default=16, help="reports for the LLM runs (default 16)")
    ap.add_argument("--latency", type=float, default=0.5, help="built-in server's seconds per request (default 0.5)")
    ap.add_argument("--base-url", help="an OpenAI-compatible endpoint to use instead of the built-in server")
    ap.add_argument("--model", default="openai:bench", help="model for the LLM runs (default openai:bench)")
    ap.add_argument("--skip-llm", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        tmp_path = Path(tmp)
        files = make_corpus(tmp_path / "in", args.reports)
        print(f"template engine, {len(files)} distinct reports (seeds + devset copies), results fsynced per line:")
        config = RunConfig(engine="template")
        run_batch(files[-1:], tmp_path / "out_template_warmup", config, 1)  # untimed: imports, opencc tables
        for jobs in (1, 2):
            _line(f"-j {jobs}", run_batch(files, tmp_path / f"out_template_j{jobs}", config, jobs))

        if args.skip_llm:
            return 0
        llm_files = files[: args.llm_reports]

        def llm_runs(base_url: str) -> None:
            rates = {}

            def cfg_for(jobs: int) -> RunConfig:
                return RunConfig(engine="llm", model=args.model, base_url=base_url, api_key="bench-key",
                                 use_cache=False, max_repair_rounds=0, concurrency=jobs, timeout_s=120)

            # untimed warm-up: imports of the SDKs and the first connection are not per-report costs
            run_batch(files[-1:], tmp_path / "out_llm_warmup", cfg_for(1), 1)
            for jobs in (1, 4):
                cfg = cfg_for(jobs)
                rates[jobs] = _line(f"--engine llm -j {jobs}", run_batch(llm_files, tmp_path / f"out_llm_j{jobs}", cfg, jobs))
            if rates[1]:
                print(f"  speed-up of -j 4 over -j 1: {rates[4] / rates[1]:.2f}x")

        if args.base_url:
            print(f"\n--engine llm against {args.base_url} ({args.model}), {len(llm_files)} reports, cache off, no repair:")
            llm_runs(args.base_url)
        else:
            with SchemaAnsweringServer(args.latency) as server:
                print(f"\n--engine llm against a local OpenAI-compatible server ({args.latency:.2f} s per request), "
                      f"{len(llm_files)} reports, cache off, no repair:")
                llm_runs(server.base_url)
                print(f"  server saw {server.requests} requests, at most {server.max_in_flight} at once")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
