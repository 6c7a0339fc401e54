"""Module-level handlers to Gradio events: a handler returns ``{component name: value}``; ``bind`` turns
that into Gradio's ``{component: value}`` so each handler names only what it changes.

Also the one channel from the page's own script to Python: a hidden textbox that the script fills with
a JSON action (and a counter, so that every action is a change) — Gradio has no event for a click inside
an ``gr.HTML`` table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Handler = Callable[..., Mapping[str, Any]]


class Components(dict[str, Any]):
    """The app's components by name (the names the handlers' outputs use)."""

    def pick(self, names: Iterable[str]) -> list[Any]:
        return [self[n] for n in names]


def bind(components: Components, handler: Handler, *bound: Any) -> Callable[..., dict[Any, Any]]:
    """``handler(*bound, *inputs)`` as a Gradio callback returning ``{component: value}``."""

    def run(*inputs: Any) -> dict[Any, Any]:
        out = handler(*bound, *inputs)
        return {components[name]: value for name, value in out.items()}

    run.__name__ = getattr(handler, "__name__", "handler")
    return run


def action_box(gr: Any, elem_id: str) -> Any:
    """The hidden textbox a page script writes its actions into (kept in the page, never shown)."""
    return gr.Textbox(visible="hidden", elem_id=elem_id, interactive=True, show_label=False, container=False)


def parse_action(raw: str | None) -> dict[str, Any]:
    """The script's JSON action; anything else is no action (a crafted value must not raise)."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
