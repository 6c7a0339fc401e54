"""Load and render the prompt files of ``prompts/`` and their few-shot examples.

Prompts are Jinja files rendered with ``StrictUndefined`` so a missing variable fails loudly instead of
sending the model an empty hole. The prompt version that goes into the LLM cache key is the
``prompts/VERSION`` string plus a hash of every prompt file, so an edited prompt never reuses a cached
answer even when nobody bumped the version.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field

from extractor.schema import Report

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
EXAMPLES_DIR = PROMPTS_DIR / "examples"


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=4)
def _environment(root: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(root),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters["json"] = _compact_json
    return env


def render(name: str, /, **context: Any) -> str:
    """Render ``prompts/<name>`` with the given context; unknown variables raise."""
    return _environment(str(PROMPTS_DIR)).get_template(name).render(**context).strip() + "\n"


def template_names() -> list[str]:
    return sorted(p.name for p in PROMPTS_DIR.glob("*.j2"))


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """``VERSION`` plus a short hash of every prompt and example file (the cache key's prompt part)."""
    version = (PROMPTS_DIR / "VERSION").read_text(encoding="utf-8").strip()
    digest = hashlib.sha256()
    files = sorted(PROMPTS_DIR.glob("*.j2")) + sorted(EXAMPLES_DIR.glob("*.yaml"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{version}+{digest.hexdigest()[:10]}"


class PromptExample(BaseModel):
    """One few-shot example: a small but complete report text and its canonical answer."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    text: str = Field(min_length=1)
    report: Report


class ExampleError(ValueError):
    """A few-shot example file does not parse or does not fit the report model."""


@lru_cache(maxsize=1)
def load_examples() -> tuple[PromptExample, ...]:
    examples: list[PromptExample] = []
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            example = PromptExample.model_validate(data)
        except Exception as exc:  # noqa: BLE001 - one message naming the file for any parse or model error
            raise ExampleError(f"{path.name}: {exc}") from exc
        examples.append(example)
    return tuple(examples)


def example_for(template: str) -> PromptExample | None:
    """The few-shot example of this template version, if one exists."""
    for example in load_examples():
        if example.report.template == template:
            return example
    return None
