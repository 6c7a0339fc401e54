"""Transport retries for one chat-completions request.

Only failures that a second try can fix are retried: timeouts, connection errors, HTTP 5xx and
HTTP 429. A 429 (or 503) that names ``Retry-After`` is waited for exactly that long; everything else
backs off exponentially with full jitter so concurrent workers do not retry in lock step.
Schema problems are not transport problems: they are re-asked by instructor, not retried here.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import Any

import openai
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

# A server asking for more than this is treated as "come back much later": we wait the cap and
# let the attempt budget decide, rather than hang a batch for an hour.
MAX_RETRY_AFTER_S = 60.0


def is_transient(exc: BaseException) -> bool:
    """True for failures that a later identical request may not meet."""
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.RateLimitError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500 or exc.status_code in (408, 409, 429)
    return False


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's ``Retry-After`` (seconds or HTTP date), if the error carries one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw = headers.get("retry-after-ms")
    if raw is not None:
        try:
            return max(0.0, float(raw) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class BackoffWait:
    """Tenacity wait strategy: ``Retry-After`` when given, else exponential backoff with full jitter."""

    def __init__(self, base_s: float = 0.5, max_s: float = 20.0, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self._rng = rng or random.Random()

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if exc is not None:
            hinted = retry_after_seconds(exc)
            if hinted is not None:
                return min(hinted, MAX_RETRY_AFTER_S)
        ceiling = min(self.max_s, self.base_s * (2 ** (retry_state.attempt_number - 1)))
        return self._rng.uniform(0.0, ceiling)


def describe_transport_error(exc: BaseException) -> str:
    """A short, key-free description of a transport failure (no response body, no headers)."""
    if isinstance(exc, openai.APITimeoutError):
        return "request timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "cannot connect to the endpoint"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def make_retrying(
    max_retries: int,
    *,
    base_s: float = 0.5,
    max_s: float = 20.0,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    give_up: Callable[[BaseException], bool] | None = None,
) -> Retrying:
    """A ``Retrying`` that makes at most ``max_retries + 1`` attempts of one request.

    ``give_up(exc)`` can veto a retry that the error type alone would allow (a dead local server).
    """

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is None or state.outcome is None:
            return
        exc = state.outcome.exception()
        if exc is not None:
            wait_s = state.next_action.sleep if state.next_action is not None else 0.0
            on_retry(state.attempt_number, exc, wait_s)

    return Retrying(
        stop=stop_after_attempt(max(0, max_retries) + 1),
        wait=BackoffWait(base_s, max_s),
        retry=retry_if_exception(
            lambda exc: is_transient(exc) and not (give_up is not None and give_up(exc))
        ),
        before_sleep=before_sleep,
        reraise=True,
    )


def call_with_retries(fn: Callable[[], Any], retrying: Retrying) -> Any:
    """Run ``fn`` under ``retrying``; the last exception propagates unchanged when attempts run out."""
    return retrying(fn)
