"""grammar_schema: pydantic model -> a JSON schema llama.cpp's grammar converter turns into a real grammar."""

from __future__ import annotations

import json
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from extractor.backends.schema_format import grammar_schema


class Unit(str, Enum):
    jian = "件"
    wan_yuan = "万元"


class Row(BaseModel):
    """One table row: seven cells, blank = null."""

    key: Literal["total", "granted"]
    cells: tuple[int | None, int | None, int | None, int | None, int | None, int | None, int | None]


class Fees(BaseModel):
    amount: float | None = Field(None, description="万元")


class Section(BaseModel):
    agency: str | None = None
    year: int | None = Field(None, description="report year")
    unit: Unit | None = None
    rows: list[Row] = Field(default_factory=list, max_length=2)
    fees: Fees | None = None
    pair: tuple[int, str] = (0, "")


EXPECTED = {
    "type": "object",
    "properties": {
        "agency": {"type": ["string", "null"]},
        "year": {"type": ["integer", "null"], "description": "report year"},
        "unit": {"enum": ["件", "万元", None]},
        "rows": {
            "type": "array",
            "maxItems": 2,
            "items": {
                "description": "One table row: seven cells, blank = null.",
                "type": "object",
                "properties": {
                    "key": {"enum": ["total", "granted"], "type": "string"},
                    "cells": {
                        "type": "array",
                        "items": {"type": ["integer", "null"]},
                        "minItems": 7,
                        "maxItems": 7,
                    },
                },
                "required": ["key", "cells"],
                "additionalProperties": False,
            },
        },
        "fees": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"amount": {"type": ["number", "null"], "description": "万元"}},
                    "required": ["amount"],
                    "additionalProperties": False,
                },
                {"type": "null"},
            ]
        },
        "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
    },
    "required": ["agency", "year", "unit", "rows", "fees", "pair"],
    "additionalProperties": False,
}


def test_snapshot():
    assert grammar_schema(Section) == EXPECTED


def test_no_refs_titles_or_defaults_survive():
    text = json.dumps(grammar_schema(Section))
    for banned in ('"$ref"', '"$defs"', '"title"', '"default"'):
        assert banned not in text


def test_property_order_is_declaration_order():
    assert list(grammar_schema(Section)["properties"]) == ["agency", "year", "unit", "rows", "fees", "pair"]


def test_pure_function_does_not_touch_pydantics_schema():
    before = json.dumps(Section.model_json_schema(), sort_keys=True)
    grammar_schema(Section)
    grammar_schema(Section)
    assert json.dumps(Section.model_json_schema(), sort_keys=True) == before


def test_recursive_model_is_refused():
    class Node(BaseModel):
        child: "Node | None" = None

    Node.model_rebuild()
    with pytest.raises(ValueError, match="recursive"):
        grammar_schema(Node)


def test_llama_cpp_compiles_it_into_the_intended_grammar():
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(grammar_schema(Section)))
    rules = dict(line.split(" ::= ", 1) for line in gbnf.strip().splitlines())
    # Every key is required, in order, nothing else allowed.
    assert rules["root"].startswith('"{" space agency-kv "," space year-kv')
    # Seven cells, exactly, each an integer or null.
    cells = rules["rows-item-cells"]
    assert cells.count("rows-item-cells-item") == 7
    assert rules["rows-item-cells-item"] == "integer | null"
    # Note: the converter json.dumps() constants with ensure_ascii, so a non-ASCII enum value must be
    # *written* by the model as a \\uXXXX escape. Response models should use ASCII enum values/keys.
    assert rules["unit"] == '"\\"\\u4ef6\\"" | "\\"\\u4e07\\u5143\\"" | "null"'
    # Must not have fallen back to free-form JSON: the grammar compiles for the sampler too.
    llama_grammar.LlamaGrammar.from_json_schema(json.dumps(grammar_schema(Section)), verbose=False)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^\d+$", r"^[0-9]+$"),
        (r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$", r"^-?[0-9]{1,15}([.][0-9]{1,6})?$"),
        (r"^[\d.]+$", r"^[0-9.]+$"),
        (r"^[a\-z]$", r"^[az-]$"),
        (r"^a\-b$", r"^a[-]b$"),
        (r"^\w$", r"^[0-9A-Za-z_]$"),
        (r"^\(x\)$", r"^\(x\)$"),  # the converter itself unescapes these
        (r"^[.]$", r"^[.]$"),
    ],
)
def test_patterns_are_rewritten_into_the_safe_subset(pattern, expected):
    from extractor.backends.schema_format import grammar_pattern

    assert grammar_pattern(pattern) == expected


@pytest.mark.parametrize("pattern", [r"^\D$", r"^\bword$", r"^[\W]$", r"^[abc$"])
def test_patterns_without_a_safe_spelling_fail_here_not_in_the_server(pattern):
    from extractor.backends.schema_format import grammar_pattern

    with pytest.raises(ValueError):
        grammar_pattern(pattern)


def test_rewritten_pattern_means_the_same_to_python():
    import re

    from extractor.backends.schema_format import grammar_pattern

    original = r"^-?\d{1,3}(\.\d{1,2})?$"
    rewritten = grammar_pattern(original)
    for text in ["1", "-12.5", "123.45", "1234", "1.234", "a", "1.", "--1"]:
        assert bool(re.match(original, text)) == bool(re.match(rewritten, text)), text


class Decimal(BaseModel):
    amount: str | None = Field(None, pattern=r"^-?\d{1,15}(\.\d{1,6})?$", max_length=24)


def test_pattern_inside_an_optional_field_is_rewritten():
    schema = grammar_schema(Decimal)
    amount = schema["properties"]["amount"]
    text = json.dumps(amount)
    assert r"\\d" not in text and r"\\." not in text
    assert "[0-9]" in text
