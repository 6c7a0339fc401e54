"""The naive baseline engine: one question over the whole report into the full ``Report`` model."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from extractor.backends.client import Usage
from extractor.config import RunConfig
from extractor.engines import get_engine
from extractor.engines.baseline_engine import BaselineEngine
from extractor.errors import LLMError
from extractor.normalize import normalize
from extractor.schema import Report
from extractor.sections import analyze_layout
from tests.shared_data import SHARED

T = TypeVar("T", bound=BaseModel)


class OneShotLLM:
    """Answers the single baseline question with a fixed report (or raises), recording the question."""

    model_id = "fake:oneshot"

    def __init__(self, answer: Report | Exception) -> None:
        self.answer = answer
        self.questions: list[tuple[str, str, type[BaseModel]]] = []
        self.closed = 0

    def ask(self, system: str, user: str, response_model: type[T], *, max_tokens: int = 1024,
            temperature: float = 0.0) -> tuple[T, Usage]:
        self.questions.append((system, user, response_model))
        if isinstance(self.answer, Exception):
            raise self.answer
        return response_model.model_validate(self.answer.canonical()), Usage(prompt_tokens=5000, completion_tokens=900, calls=1)

    def close(self) -> None:
        self.closed += 1


def _seed() -> tuple[str, Report]:
    text = next((SHARED / "seeds").glob("002*.txt")).read_text(encoding="utf-8")
    gold = Report.model_validate(json.loads(next((SHARED / "gold").glob("002*.json")).read_text(encoding="utf-8")))
    return text, gold


def _read(llm: Any, text: str):  # type: ignore[no-untyped-def]
    norm = normalize(text)
    return BaselineEngine(lambda config: llm).read(norm, analyze_layout(norm), RunConfig(engine="baseline"))


def test_baseline_asks_once_over_the_whole_text_into_the_full_model() -> None:
    text, gold = _seed()
    llm = OneShotLLM(gold)
    out = _read(llm, text)
    assert len(llm.questions) == 1
    _system, user, model = llm.questions[0]
    assert model is Report
    assert normalize(text).text.strip()[-40:] in user  # the whole report, not a section
    assert out.report.canonical() == gold.canonical()
    assert out.meta["llm"]["tokens_in"] == 5000 and out.meta["llm"]["repair_rounds"] == 0
    assert out.evidence == {} and set(out.producers.values()) == {"llm"}
    assert llm.closed == 1


def test_baseline_failure_is_an_empty_report_said_plainly() -> None:
    text, _ = _seed()
    out = _read(OneShotLLM(LLMError("fake: invalid JSON", attempts=3)), text)
    assert out.report.applications is None
    assert [f.rule for f in out.findings] == ["X-LLM"]
    with pytest.raises(LLMError):
        _read(OneShotLLM(LLMError("fake: HTTP 500", retryable=True)), text)


def test_all_llm_engines_are_registered() -> None:
    for name in ("llm", "hybrid", "baseline"):
        assert get_engine(name).name == name
