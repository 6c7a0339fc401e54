"""One frozen run configuration that the CLI, UI, batch and evals all build."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from extractor.engine_catalog import EngineName, parse_engine

DEFAULT_MODEL = "local:qwen2.5-coder-1.5b"


def default_cache_dir() -> Path:
    base = os.environ.get("NIANBAO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "nianbao"
    )
    return Path(base)


class RunConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: EngineName = "template"
    # "local:<name>" for the embedded llama.cpp model, or "openai:<model>" for any OpenAI-compatible endpoint.
    model: str = Field(default_factory=lambda: os.environ.get("NIANBAO_MODEL", DEFAULT_MODEL))
    base_url: str | None = Field(default_factory=lambda: os.environ.get("NIANBAO_BASE_URL") or os.environ.get("OPENAI_BASE_URL"))
    api_key: SecretStr | None = Field(
        default_factory=lambda: SecretStr(k) if (k := os.environ.get("NIANBAO_API_KEY") or os.environ.get("OPENAI_API_KEY")) else None
    )
    timeout_s: float = Field(default_factory=lambda: float(os.environ.get("NIANBAO_TIMEOUT", "600")))
    concurrency: int = 1
    max_retries: int = 3  # transport retries per call
    max_reasks: int = 2  # schema re-asks per call (instructor)
    max_repair_rounds: int = 2  # checker-driven re-asks
    use_cache: bool = True
    cache_dir: Path = Field(default_factory=default_cache_dir)

    @field_validator("engine", mode="before")
    @classmethod
    def _known_engine(cls, value: object) -> object:
        # the catalog's ConfigError (with its "did you mean"), not pydantic's Literal error: one message
        # for an unknown engine wherever it comes from
        return parse_engine(value) if isinstance(value, str) else value
