"""Engine registry. The template engine is always there; LLM-based engines load their SDKs lazily."""

from __future__ import annotations

import difflib
import importlib

from extractor.config import ENGINES
from extractor.engines.base import Engine, ReaderOutput
from extractor.errors import ConfigError

# name -> "module:attribute" of a zero-argument factory returning an Engine
_FACTORIES: dict[str, str] = {
    "template": "extractor.engines.template_engine:TemplateEngine",
    "llm": "extractor.engines.llm_engine:LLMEngine",
    "hybrid": "extractor.engines.hybrid_engine:HybridEngine",
    "baseline": "extractor.engines.baseline_engine:BaselineEngine",
}


def get_engine(name: str) -> Engine:
    if name not in _FACTORIES:
        close = difflib.get_close_matches(name, ENGINES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(ENGINES)}"
        raise ConfigError(f"unknown engine {name!r}", hint=hint, hint_zh="未知的提取引擎")
    module_name, _, attr = _FACTORIES[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an engine whose optional SDK is missing
        raise ConfigError(f"engine {name!r} is not available: {exc}", hint="pip install -e . installs every engine") from exc
    factory = getattr(module, attr)
    engine: Engine = factory()
    return engine


__all__ = ["Engine", "ReaderOutput", "get_engine"]
