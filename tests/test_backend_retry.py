"""Transport retry policy: what is retried, how long we wait."""

from __future__ import annotations

import email.utils
import random
import time
from types import SimpleNamespace

import pytest
from tenacity import RetryCallState

from extractor.backends.retry import (
    MAX_RETRY_AFTER_S,
    BackoffWait,
    is_transient,
    make_retrying,
    retry_after_seconds,
)


def _with_headers(**headers: str) -> Exception:
    exc = Exception("x")
    exc.response = SimpleNamespace(headers={k.replace("_", "-"): v for k, v in headers.items()})  # type: ignore[attr-defined]
    return exc


def test_retry_after_seconds_forms():
    assert retry_after_seconds(_with_headers(retry_after="3")) == 3.0
    assert retry_after_seconds(_with_headers(retry_after_ms="1500")) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(_with_headers(retry_after=future)) <= 31  # type: ignore[operator]
    assert retry_after_seconds(_with_headers(retry_after="soon")) is None
    assert retry_after_seconds(Exception("no response")) is None


def _state(attempt: int, exc: BaseException) -> RetryCallState:
    state = RetryCallState(retry_object=make_retrying(5), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_backoff_is_exponential_with_jitter_and_capped():
    wait = BackoffWait(base_s=1.0, max_s=8.0, rng=random.Random(7))
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        samples = [wait(_state(attempt, Exception("boom"))) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # jitter spans the whole window
        assert len(set(samples)) > 100  # not a fixed delay: concurrent workers spread out


def test_retry_after_wins_over_backoff_but_is_capped():
    wait = BackoffWait(base_s=0.01, max_s=0.02)
    assert wait(_state(1, _with_headers(retry_after="2"))) == 2.0
    assert wait(_state(1, _with_headers(retry_after="99999"))) == MAX_RETRY_AFTER_S


def test_only_transport_failures_are_transient():
    import openai

    assert is_transient(openai.APITimeoutError(request=None))  # type: ignore[arg-type]
    assert not is_transient(ValueError("schema"))
    assert not is_transient(KeyError("x"))


def test_make_retrying_stops_after_max_retries_plus_one():
    import openai

    calls = []

    def flaky() -> None:
        calls.append(1)
        raise openai.APITimeoutError(request=None)  # type: ignore[arg-type]

    retrying = make_retrying(2, base_s=0.0, max_s=0.0)
    with pytest.raises(openai.APITimeoutError):
        retrying(flaky)
    assert len(calls) == 3


def test_non_transient_errors_are_not_retried():
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad request shape")

    with pytest.raises(ValueError):
        make_retrying(5, base_s=0.0)(broken)
    assert len(calls) == 1
