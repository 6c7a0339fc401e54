"""Turn a pydantic model into a JSON schema that llama.cpp's grammar converter handles well.

llama-cpp-python turns ``response_format={"type": "json_object", "schema": ...}`` into a GBNF
grammar, and silently falls back to "any JSON" when the conversion fails. Its converter handles
``$ref`` poorly across files, ignores ``minItems`` inside tuples, and maps ``"type": [..]`` to bare
primitives. So we hand it a schema that is explicit and flat:

- every ``$ref`` inlined and ``$defs`` dropped (recursive models are refused: no finite grammar);
- ``Optional[X]`` for primitives becomes ``{"type": ["x", "null"]}``, for enums an ``enum`` that
  includes ``null``; only objects and arrays keep ``anyOf`` with null;
- tuples of one repeated item type become ``items`` + ``minItems`` == ``maxItems`` (a short rule),
  mixed tuples stay ``prefixItems``;
- every object lists all its properties as required, in declaration order, with
  ``additionalProperties: false``: the model must emit each key, which keeps small models from
  skipping cells;
- titles, defaults and examples are dropped (they cost prompt tokens and mean nothing to a grammar);
- regex ``pattern``s are rewritten into the subset the converter translates faithfully: it copies
  ``\\d``, ``\\.`` and friends into the grammar verbatim, where llama.cpp's own grammar parser rejects
  them and the server process dies. ``\\d`` becomes ``[0-9]``, ``\\.`` becomes ``[.]`` and so on; an
  escape with no safe spelling raises ``ValueError`` here instead of killing the server later.

Pure function; no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

_DROP_KEYS = frozenset({"title", "default", "examples", "$schema", "readOnly", "writeOnly"})
_PRIMITIVES = frozenset({"string", "integer", "number", "boolean"})
_NULL = {"type": "null"}


def grammar_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The grammar-friendly JSON schema of ``model`` (see module docstring)."""
    raw = model.model_json_schema()
    defs = raw.get("$defs", {})
    return _simplify(raw, defs, ())


def _resolve(ref: str, defs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix):] not in defs:
        raise ValueError(f"unsupported $ref {ref!r}: only local #/$defs references can be inlined")
    name = ref[len(prefix):]
    return name, defs[name]


def _simplify(node: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_simplify(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node

    if "$ref" in node:
        name, target = _resolve(node["$ref"], defs)
        if name in stack:
            raise ValueError(f"recursive model {name!r} cannot become a finite grammar")
        merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
        return _simplify(merged, defs, (*stack, name))

    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP_KEYS or key == "$defs":
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {prop: _simplify(sub, defs, stack) for prop, sub in value.items()}
        else:
            out[key] = _simplify(value, defs, stack)

    # pydantic puts a description next to a $ref through allOf: [{$ref}] in older versions
    if "allOf" in out and len(out["allOf"]) == 1 and isinstance(out["allOf"][0], dict):
        only = out.pop("allOf")[0]
        out = {**only, **out}

    if isinstance(out.get("pattern"), str):
        out["pattern"] = grammar_pattern(out["pattern"])
    if "anyOf" in out:
        out = _collapse_nullable(out)
    if out.get("type") == "array" or "prefixItems" in out:
        out = _fixed_arrays(out)
    if out.get("type") == "object" and isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def _collapse_nullable(node: dict[str, Any]) -> dict[str, Any]:
    options = node["anyOf"]
    non_null = [o for o in options if o != _NULL]
    has_null = len(non_null) < len(options)
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if len(non_null) == 1 and not has_null:
        return {**non_null[0], **rest}
    if not has_null or len(non_null) != 1:
        return node
    inner = non_null[0]
    inner_type = inner.get("type")
    if "enum" in inner:
        values = list(inner["enum"])
        if None not in values:
            values.append(None)
        return {**{k: v for k, v in inner.items() if k not in ("enum", "type")}, "enum": values, **rest}
    if "const" in inner:
        return {"enum": [inner["const"], None], **rest}
    if isinstance(inner_type, str) and inner_type in _PRIMITIVES and set(inner) <= {"type", "description"}:
        return {**inner, "type": [inner_type, "null"], **rest}
    return node


def _fixed_arrays(node: dict[str, Any]) -> dict[str, Any]:
    prefix = node.get("prefixItems")
    if isinstance(prefix, list) and prefix:
        first = prefix[0]
        if all(item == first for item in prefix) and node.get("items") in (None, False):
            out = {k: v for k, v in node.items() if k != "prefixItems"}
            out["type"] = "array"
            out["items"] = first
            out["minItems"] = len(prefix)
            out["maxItems"] = len(prefix)
            return out
        # Mixed tuple: the converter emits an exact sequence; extra keys only confuse it.
        return {k: v for k, v in node.items() if k not in ("items", "minItems", "maxItems")}
    return node


# Escapes llama.cpp's GBNF parser understands as they are (inside literals and classes alike).
_GBNF_ESCAPES = frozenset("\\nrt")
# Escapes the converter itself strips when they are outside a class.
_CONVERTER_STRIPS = frozenset("[]()|{}*+?")
_CLASS_SHORTHANDS = {"d": "0-9", "w": "0-9A-Za-z_", "s": " \\t\\n\\r"}
_SAFE_ALONE = frozenset(".$-/^")


def grammar_pattern(pattern: str) -> str:
    """Rewrite ``pattern`` so llama.cpp's converter produces a grammar its parser accepts."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "[":
            j = i + 1
            body: list[str] = []
            dash = False
            if j < n and pattern[j] == "^":
                body.append("^")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\" and j + 1 < n:
                    e = pattern[j + 1]
                    if e in _CLASS_SHORTHANDS:
                        body.append(_CLASS_SHORTHANDS[e])
                    elif e == "-":
                        dash = True
                    elif e in _GBNF_ESCAPES or e in "[]":
                        body.append("\\" + e)
                    elif e in ".$/(){}|*+?^" and not (e == "^" and not body):
                        body.append(e)
                    else:
                        raise ValueError(f"pattern {pattern!r}: escape \\{e} has no grammar-safe spelling")
                    j += 2
                else:
                    body.append(pattern[j])
                    j += 1
            if j >= n:
                raise ValueError(f"pattern {pattern!r}: unbalanced [")
            out.append("[" + "".join(body) + ("-" if dash else "") + "]")
            i = j + 1
        elif c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e in _CLASS_SHORTHANDS:
                out.append("[" + _CLASS_SHORTHANDS[e] + "]")
            elif e in _SAFE_ALONE:
                if e == "^":
                    raise ValueError(f"pattern {pattern!r}: a literal ^ has no grammar-safe spelling")
                out.append("[" + e + "]")
            elif e in _GBNF_ESCAPES or e in _CONVERTER_STRIPS:
                out.append("\\" + e)
            else:
                raise ValueError(f"pattern {pattern!r}: escape \\{e} has no grammar-safe spelling")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
