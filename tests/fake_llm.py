"""A scripted ``StructuredLLM`` for orchestration tests of the engines (never for judging extraction).

``GoldLLM`` answers every section question from a known report, except for the cells it is told to
get wrong (a fixed number of times each), and records what it was asked. It really validates its
answers through the ``response_model`` the engine passes, as a real client would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from extractor.backends.client import Usage
from extractor.llm_sections import SectionSpec, answer_from_report, header_spec, table_specs
from extractor.schema import Report

T = TypeVar("T", bound=BaseModel)


@dataclass
class Asked:
    keys: list[str]
    user: str
    system: str


@dataclass
class GoldLLM:
    gold: Report
    # cell path -> the wrong value to answer (``wrong_times`` times), or a list of wrong values served in
    # turn; after them the cell is answered from gold
    wrong: dict[str, Any] = field(default_factory=dict)
    wrong_times: int = 1
    fail_on: dict[str, Exception] = field(default_factory=dict)  # answer key -> exception to raise
    model_id: str = "fake:gold"
    history: list[Asked] = field(default_factory=list)
    closed: int = 0
    _served: dict[str, int] = field(default_factory=dict)

    def _specs(self) -> list[SectionSpec]:
        assert self.gold.template is not None
        return [header_spec(), *table_specs(self.gold.template, self.gold.single_other_row)]

    def ask(self, system: str, user: str, response_model: type[T], *, max_tokens: int = 1024,
            temperature: float = 0.0) -> tuple[T, Usage]:
        keys = list(response_model.model_fields)
        self.history.append(Asked(keys=keys, user=user, system=system))
        for key, exc in self.fail_on.items():
            if key in keys:
                raise exc
        answer: dict[str, Any] = {}
        for spec in self._specs():
            wanted = [f for f in spec.fields if f.key in keys]
            if not wanted:
                continue
            sub = SectionSpec(spec.name, spec.number, spec.prompt, tuple(wanted), spec.template)
            answer.update(answer_from_report(sub, self.gold))
            for f in wanted:
                for i, path in enumerate(f.paths):
                    if path not in self.wrong:
                        continue
                    wrong = self.wrong[path]
                    queue = wrong if isinstance(wrong, list) else [wrong] * self.wrong_times
                    served = self._served.get(path, 0)
                    if served >= len(queue):
                        continue
                    self._served[path] = served + 1
                    if f.array:
                        row = list(answer[f.key])
                        row[i] = queue[served]
                        answer[f.key] = row
                    else:
                        answer[f.key] = queue[served]
        missing = [k for k in keys if k not in answer]
        assert not missing, f"fake cannot answer {missing}"
        usage = Usage(prompt_tokens=len(system) + len(user), completion_tokens=10 * len(keys), calls=1)
        return response_model.model_validate(answer), usage

    def close(self) -> None:
        self.closed += 1

    def asked_sections(self) -> list[list[str]]:
        return [a.keys for a in self.history]


class CountingFactory:
    """An ``llm_factory`` that hands out one fake and counts how often a model was created."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.created = 0

    def __call__(self, config: Any) -> Any:
        self.created += 1
        return self.llm
