"""The engines nianbao offers, in one list: name, what it is, where it lives, and whether it asks a model.

Every shell takes an engine by these names: the CLI, batch and eval through ``engine_option_parser``
(a typer parser), the review UI through ``parse_engine(..., offered=REVIEW_ENGINES)``, ``RunConfig``
through its validator and ``extractor.engines.get_engine`` through ``parse_engine``. An unknown name is
rejected here and only here, with one message (and a "did you mean" hint) wherever it was typed.

A new engine: one ``EngineInfo`` below, a name in ``EngineName``, and its module under ``extractor/engines/``.
This module imports nothing heavy: ``extractor.config`` imports it, and so does every shell.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from extractor.errors import ConfigError

EngineName = Literal["template", "hybrid", "llm", "baseline"]


@dataclass(frozen=True)
class EngineInfo:
    name: EngineName
    en: str  # one line for --help
    zh: str  # the review UI's choice label
    factory: str  # "module:attribute" of a zero-argument factory returning an Engine (imported lazily)
    uses_model: bool  # asks an LLM: needs a model or endpoint, costs tokens, a failed read may be retried
    in_review_ui: bool  # offered in the review UI's engine choice


ENGINES: tuple[EngineInfo, ...] = (
    EngineInfo("template", "deterministic template reader, fast, no model", "模板（确定性，快）",
               "extractor.engines.template_engine:TemplateEngine", uses_model=False, in_review_ui=True),
    EngineInfo("hybrid", "template reader first, the model only where a cell is not proven", "混合（模板 + 大模型补读）",
               "extractor.engines.hybrid_engine:HybridEngine", uses_model=True, in_review_ui=True),
    EngineInfo("llm", "the model reads every section", "大模型",
               "extractor.engines.llm_engine:LLMEngine", uses_model=True, in_review_ui=True),
    EngineInfo("baseline", "one naive model call for the whole report, the evals' yardstick", "基线（单次大模型调用）",
               "extractor.engines.baseline_engine:BaselineEngine", uses_model=True, in_review_ui=False),
)

ENGINE_NAMES: tuple[EngineName, ...] = tuple(e.name for e in ENGINES)
BY_NAME: dict[str, EngineInfo] = {e.name: e for e in ENGINES}
MODEL_ENGINES: frozenset[str] = frozenset(e.name for e in ENGINES if e.uses_model)
REVIEW_ENGINES: tuple[EngineName, ...] = tuple(e.name for e in ENGINES if e.in_review_ui)

assert set(ENGINE_NAMES) == set(get_args(EngineName)), "EngineName and ENGINES must name the same engines"


def engines_help(offered: Iterable[EngineName] = ENGINE_NAMES) -> str:
    """``template (deterministic …), hybrid (…), …`` for an option's help."""
    return ", ".join(f"{name} ({BY_NAME[name].en})" for name in offered)


def parse_engine(name: str, offered: Iterable[EngineName] = ENGINE_NAMES) -> EngineName:
    """``name`` as an engine name, or a ``ConfigError`` that says what to type instead."""
    choices = tuple(offered)
    for known in choices:
        if name == known:
            return known
    listed = ", ".join(choices)
    if name in BY_NAME:  # a real engine that this shell does not offer (baseline in the review UI)
        raise ConfigError(f"engine {name!r} is not offered here", hint=f"choose one of {listed}",
                          hint_zh=f"此处不提供提取引擎 {name}，可选：{'、'.join(choices)}")
    close = difflib.get_close_matches(name, choices, n=1)
    suggestion = f"did you mean {close[0]!r}? " if close else ""
    suggestion_zh = f"是否想用 {close[0]}？" if close else ""
    raise ConfigError(f"unknown engine {name!r}", hint=f"{suggestion}choose one of {listed}",
                      hint_zh=f"未知的提取引擎 {name!r}，{suggestion_zh}可选：{'、'.join(choices)}")


def engine_option_parser(offered: Iterable[EngineName] = ENGINE_NAMES) -> Callable[[str], EngineName]:
    """A typer ``parser=`` for an ``--engine`` option: a bad name is a usage error (exit 2) that prints
    ``parse_engine``'s message, English and Chinese, on one line."""
    choices = tuple(offered)

    def parse(value: str) -> EngineName:
        import typer  # only the shells that build an option need typer

        try:
            return parse_engine(value, choices)
        except ConfigError as exc:
            raise typer.BadParameter(f"{exc.message}; {exc.hint}. {exc.hint_zh}") from None

    return parse
