"""Module-level handlers to Gradio events: a handler returns ``{component name: value}``; ``bind`` turns
that into Gradio's ``{component: value}`` so each handler names only what it changes.

Also the one channel from the page's own script to Python: a hidden textbox that the script fills with
a JSON action (and a counter, so that every action is a change) — Gradio has no event for a click inside
an ``gr.HTML`` table.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ui.access import reviewer_name

Handler = Callable[..., Mapping[str, Any]]


class Components(dict[str, Any]):
    """The app's components by name (the names the handlers' outputs use)."""

    def pick(self, names: Iterable[str]) -> list[Any]:
        return [self[n] for n in names]


def _outputs(components: Components, out: Mapping[str, Any]) -> dict[Any, Any]:
    """A handler's ``{name: value}`` as Gradio's ``{component: value}``. Nothing to change is Gradio's skip:
    Gradio would read an empty dict as one output value (and fail an event with several outputs)."""
    if not out:
        import gradio as gr

        return gr.skip()
    return {components[name]: value for name, value in out.items()}


def bind(components: Components, handler: Handler, *bound: Any) -> Callable[..., dict[Any, Any]]:
    """``handler(*bound, *inputs)`` as a Gradio callback returning ``{component: value}``."""

    def run(*inputs: Any) -> dict[Any, Any]:
        return _outputs(components, handler(*bound, *inputs))

    run.__name__ = getattr(handler, "__name__", "handler")
    return run


@dataclass(frozen=True)
class Caller:
    """Who sent an event, as a handler needs it: the logged-in user (None when the UI has no login) and
    the browser session (each has its own cancel token)."""

    username: str | None
    session_key: str


def caller_of(request: Any) -> Caller:
    return Caller(username=getattr(request, "username", None) or None,
                  session_key=getattr(request, "session_hash", None) or "default")


# Gradio's progress bar as a handler sees it: (fraction done, what is being done)
ProgressBar = Callable[[float, str], None]


def bind_request(components: Components, handler: Handler, *bound: Any, n_inputs: int,
                 reviewer_inputs: tuple[int, ...] = (), caller: bool = False,
                 progress: bool = False) -> Callable[..., dict[Any, Any]]:
    """``bind`` for a handler that needs to know who sent the event. Gradio also passes the request, and
    each of the ``n_inputs`` inputs at ``reviewer_inputs`` (a 审核人 box) becomes the logged-in user when the
    UI has a login (``ui.access.reviewer_name``), so a typed name cannot stand for another account. With
    ``caller`` the handler gets a ``Caller`` after its inputs; with ``progress`` a ``ProgressBar`` after that
    (Gradio shows a progress bar only for a callback that declares one)."""
    import gradio as gr

    def run(*args: Any) -> dict[Any, Any]:
        if progress:
            *args_list, request, tracker = args
        else:
            *args_list, request = args
        inputs = list(args_list)
        for i in reviewer_inputs:
            inputs[i] = reviewer_name(request, inputs[i])
        extra: list[Any] = []
        if caller:
            extra.append(caller_of(request))
        if progress:
            extra.append(lambda fraction, desc: tracker(fraction, desc=desc))
        return _outputs(components, handler(*bound, *inputs, *extra))

    # Gradio passes the request to a positional parameter annotated gr.Request (after the inputs), a
    # tracker to one whose default is a gr.Progress, and it counts inputs by positional parameters:
    # ``*args`` would hide all three, so the signature is spelled out.
    positional = inspect.Parameter.POSITIONAL_ONLY
    params = [inspect.Parameter(f"input_{i}", positional) for i in range(n_inputs)]
    params.append(inspect.Parameter("request", positional, annotation=gr.Request))
    if progress:
        params.append(inspect.Parameter("progress", positional, default=gr.Progress()))
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # inspect reads it; mypy knows only declared attributes
    run.__annotations__ = {"request": gr.Request}
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
