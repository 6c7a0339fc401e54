"""Batch, eval and the UI read many reports in one process: the client (and the embedded model's
server) must be made once, not once per report."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from extractor.backends.client import shared_llm
from extractor.config import RunConfig


def test_shared_client_is_made_once_and_survives_a_reports_close(tmp_path: Path) -> None:
    config = RunConfig(engine="llm", model="openai:some-model", base_url="http://127.0.0.1:9/v1",
                       api_key=SecretStr("sk-test"), cache_dir=tmp_path)
    first = shared_llm(config)
    first.close()
    second = shared_llm(config)
    assert first._inner is second._inner  # type: ignore[attr-defined]
    other = shared_llm(config.model_copy(update={"model": "openai:other-model"}))
    assert other._inner is not first._inner  # type: ignore[attr-defined]
    assert second.model_id == "openai:some-model"
