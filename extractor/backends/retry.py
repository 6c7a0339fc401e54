"""Transport retries for one chat-completions request: the one retry mechanism, tenacity.

Only failures that a second try can fix are retried: timeouts, connection errors, HTTP 5xx and
HTTP 429. A 429 (or 503) that names ``Retry-After`` is waited for exactly that long; everything else
backs off exponentially with full jitter so concurrent workers do not retry in lock step.
Schema problems are not transport problems: they are re-asked by instructor, not retried here.

The openai SDK's own retry loop is switched off (``max_retries=0`` in ``client.py``): it cannot say
how many requests a call cost, report each wait, or give up at once on a local server that has
died. The header itself is read by the SDK's parser (``retry_after``), not by a copy of it.
"""

from __future__ import annotations

import math
import random
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


# Reads ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date) from a response's headers:
# ``openai.OpenAI._parse_retry_after_header`` of the client that made the request. The headers are
# ``Any`` because their class is the SDK's HTTP library's (httpx or httpx2, by SDK version).
RetryAfterParser = Callable[[Any], "float | None"]


def retry_after_seconds(exc: BaseException, parse: RetryAfterParser) -> float | None:
    """The server's ``Retry-After`` in seconds (never negative), if the error's response has one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    seconds = parse(headers)
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class BackoffWait:
    """Tenacity wait strategy: ``Retry-After`` when given, else exponential backoff with full jitter."""

    def __init__(
        self,
        retry_after: RetryAfterParser,
        base_s: float = 0.5,
        max_s: float = 20.0,
        rng: random.Random | None = None,
    ) -> None:
        self.retry_after = retry_after
        self.base_s = base_s
        self.max_s = max_s
        self._rng = rng or random.Random()

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if exc is not None:
            hinted = retry_after_seconds(exc, self.retry_after)
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
    retry_after: RetryAfterParser,
    base_s: float = 0.5,
    max_s: float = 20.0,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    give_up: Callable[[BaseException], bool] | None = None,
) -> Retrying:
    """A ``Retrying`` that makes at most ``max_retries + 1`` attempts of one request.

    ``retry_after`` reads the server's Retry-After headers (the openai client's own parser).
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
        wait=BackoffWait(retry_after, base_s, max_s),
        retry=retry_if_exception(
            lambda exc: is_transient(exc) and not (give_up is not None and give_up(exc))
        ),
        before_sleep=before_sleep,
        reraise=True,
    )

