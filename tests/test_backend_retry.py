"""Transport retry policy: what is retried, how long we wait."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Iterator
from types import SimpleNamespace

import openai
import pytest
from tenacity import RetryCallState

from extractor.backends.retry import (
    MAX_RETRY_AFTER_S,
    BackoffWait,
    RetryAfterParser,
    is_transient,
    make_retrying,
    retry_after_seconds,
)


@pytest.fixture(scope="module")
def sdk_parser() -> Iterator[RetryAfterParser]:
    """The header parser of a real openai client, as ``client.py`` passes it (nothing is sent)."""
    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    yield client._parse_retry_after_header
    client.close()


def _with_headers(**headers: str) -> Exception:
    exc = Exception("x")
    exc.response = SimpleNamespace(headers={k.replace("_", "-"): v for k, v in headers.items()})  # type: ignore[attr-defined]  # a bare exception carrying the one attribute read
    return exc


def test_retry_after_seconds_forms(sdk_parser: RetryAfterParser) -> None:
    assert retry_after_seconds(_with_headers(retry_after="3"), sdk_parser) == 3.0
    assert retry_after_seconds(_with_headers(retry_after_ms="1500"), sdk_parser) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    hinted = retry_after_seconds(_with_headers(retry_after=future), sdk_parser)
    assert hinted is not None and 25 <= hinted <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_seconds(_with_headers(retry_after=past), sdk_parser) == 0.0  # never a negative wait
    assert retry_after_seconds(_with_headers(retry_after="soon"), sdk_parser) is None
    assert retry_after_seconds(_with_headers(retry_after="inf"), sdk_parser) is None
    assert retry_after_seconds(Exception("no response"), sdk_parser) is None


def _state(attempt: int, exc: BaseException, parser: RetryAfterParser) -> RetryCallState:
    state = RetryCallState(retry_object=make_retrying(5, retry_after=parser), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_backoff_is_exponential_with_jitter_and_capped(sdk_parser: RetryAfterParser) -> None:
    wait = BackoffWait(sdk_parser, base_s=1.0, max_s=8.0, rng=random.Random(7))
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        samples = [wait(_state(attempt, Exception("boom"), sdk_parser)) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # jitter spans the whole window
        assert len(set(samples)) > 100  # not a fixed delay: concurrent workers spread out


def test_retry_after_wins_over_backoff_but_is_capped(sdk_parser: RetryAfterParser) -> None:
    wait = BackoffWait(sdk_parser, base_s=0.01, max_s=0.02)
    assert wait(_state(1, _with_headers(retry_after="2"), sdk_parser)) == 2.0
    assert wait(_state(1, _with_headers(retry_after="99999"), sdk_parser)) == MAX_RETRY_AFTER_S


def test_only_transport_failures_are_transient() -> None:
    assert is_transient(openai.APITimeoutError(request=None))  # type: ignore[arg-type]  # the request is never read
    assert not is_transient(ValueError("schema"))
    assert not is_transient(KeyError("x"))


def test_make_retrying_stops_after_max_retries_plus_one(sdk_parser: RetryAfterParser) -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        raise openai.APITimeoutError(request=None)  # type: ignore[arg-type]  # the request is never read

    retrying = make_retrying(2, retry_after=sdk_parser, base_s=0.0, max_s=0.0)
    with pytest.raises(openai.APITimeoutError):
        retrying(flaky)
    assert len(calls) == 3


def test_non_transient_errors_are_not_retried(sdk_parser: RetryAfterParser) -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad request shape")

    with pytest.raises(ValueError):
        make_retrying(5, retry_after=sdk_parser, base_s=0.0)(broken)
    assert len(calls) == 1


def test_a_veto_stops_retries_the_error_type_would_allow(sdk_parser: RetryAfterParser) -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise openai.APIConnectionError(request=None)  # type: ignore[arg-type]  # the request is never read

    with pytest.raises(openai.APIConnectionError):
        make_retrying(5, retry_after=sdk_parser, base_s=0.0, give_up=lambda exc: True)(refused)
    assert len(calls) == 1
