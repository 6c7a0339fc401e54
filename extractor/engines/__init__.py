"""Engine factory. The template engine is always there; LLM-based engines load their SDKs lazily.

Which engines exist, and their factories, are listed in ``extractor.engine_catalog``.
"""

from __future__ import annotations

import importlib

from extractor.engine_catalog import BY_NAME, parse_engine
from extractor.engines.base import Engine, ReaderOutput
from extractor.errors import ConfigError


def get_engine(name: str) -> Engine:
    info = BY_NAME[parse_engine(name)]
    module_name, _, attr = info.factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an engine whose optional SDK is missing
        raise ConfigError(f"engine {name!r} is not available: {exc}", hint="pip install -e . installs every engine") from exc
    factory = getattr(module, attr)
    engine: Engine = factory()
    return engine


__all__ = ["Engine", "ReaderOutput", "get_engine"]
