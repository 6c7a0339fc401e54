"""The one client path against a real local HTTP server that speaks the OpenAI protocol."""

from __future__ import annotations

import logging
import threading

import pytest
from pydantic import BaseModel, Field, SecretStr

from extractor.backends.client import OpenAICompatLLM, Endpoint, Usage, make_llm, parse_model
from extractor.config import RunConfig
from extractor.errors import ConfigError, LLMError

try:
    from tests.openai_stub_server import Reply, StubOpenAI
except ImportError:  # tests/ is not a package
    from openai_stub_server import Reply, StubOpenAI

SECRET = "sk-test-SECRET-0123456789"


class Cells(BaseModel):
    year: int
    agency: str | None
    row: list[int | None] = Field(min_length=3, max_length=3)


GOOD = {"year": 2023, "agency": "某某市人民政府", "row": [1, None, 0]}


@pytest.fixture
def stub():
    with StubOpenAI() as server:
        yield server


def llm_for(stub: StubOpenAI, *, timeout_s: float = 5.0, max_retries: int = 3, max_reasks: int = 2,
            progress=None) -> OpenAICompatLLM:
    endpoint = Endpoint(base_url=stub.base_url, api_key=SecretStr(SECRET), model="stub-model")
    return OpenAICompatLLM(
        model_id="openai:stub-model",
        connect=lambda: endpoint,
        timeout_s=timeout_s,
        max_retries=max_retries,
        max_reasks=max_reasks,
        progress=progress,
        backoff_base_s=0.01,  # keep the suite fast; the backoff itself is tested in test_backend_retry
    )


def test_valid_answer_is_parsed_and_usage_counted(stub):
    stub.enqueue(Reply.json(GOOD, prompt_tokens=100, completion_tokens=20))
    result, usage = llm_for(stub).ask("你是抽取助手。", "报告正文", Cells)
    assert result == Cells(**GOOD)
    assert usage == Usage(prompt_tokens=100, completion_tokens=20, calls=1)
    sent = stub.chat_requests[0]
    assert sent.body["model"] == "stub-model"
    assert sent.body["temperature"] == 0.0
    assert sent.body["max_tokens"] == 1024
    # A remote endpoint gets plain JSON mode; the schema travels in the system prompt.
    assert sent.body["response_format"] == {"type": "json_object"}
    assert sent.body["messages"][0]["role"] == "system"
    assert sent.body["messages"][0]["content"].startswith("你是抽取助手。")
    assert '"row"' in sent.body["messages"][0]["content"]
    assert sent.body["messages"][1] == {"role": "user", "content": "报告正文"}


def test_500_then_success_is_retried(stub):
    stub.enqueue(Reply.error(500), Reply.error(502), Reply.json(GOOD))
    messages: list[str] = []
    result, usage = llm_for(stub, progress=messages.append).ask("s", "u", Cells)
    assert result.year == 2023
    assert usage.calls == 3 and usage.retries == 2 and usage.reasks == 0
    assert len(stub.chat_requests) == 3
    assert any("HTTP 500" in m for m in messages)


def test_429_honours_retry_after(stub):
    stub.enqueue(Reply.error(429, "slow down", retry_after="1"), Reply.json(GOOD))
    result, usage = llm_for(stub).ask("s", "u", Cells)
    assert result.year == 2023 and usage.retries == 1
    first, second = stub.chat_requests
    assert second.at - first.at >= 0.9  # waited what the server asked, not the 10 ms backoff


def test_timeout_is_retried(stub):
    stub.enqueue(Reply.hang(2.0), Reply.json(GOOD))
    result, usage = llm_for(stub, timeout_s=0.5).ask("s", "u", Cells)
    assert result == Cells(**GOOD)
    assert usage.calls == 2 and usage.retries == 1


def test_transport_give_up_raises_llm_error(stub):
    stub.enqueue(*[Reply.error(503)] * 3)
    with pytest.raises(LLMError) as info:
        llm_for(stub, max_retries=2).ask("s", "u", Cells)
    err = info.value
    assert err.retryable is True
    assert err.attempts == 3
    assert "HTTP 503" in str(err)
    assert len(stub.chat_requests) == 3  # max_retries=2 means three attempts, no more
    assert stub.remaining == 0


def test_client_error_is_not_retried(stub):
    stub.enqueue(Reply.error(400, "context length exceeded"), Reply.json(GOOD))
    with pytest.raises(LLMError) as info:
        llm_for(stub).ask("s", "u", Cells)
    assert info.value.retryable is False
    assert "context length exceeded" in str(info.value)
    assert len(stub.chat_requests) == 1


def test_rejected_key_is_a_config_error_without_the_key(stub):
    stub.enqueue(Reply.error(401, echo_auth=True))
    with pytest.raises(ConfigError) as info:
        llm_for(stub).ask("s", "u", Cells)
    assert SECRET not in str(info.value)
    assert len(stub.chat_requests) == 1
    # The key did go to the server, as a bearer token: that is the only place it may appear.
    assert stub.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_key_never_leaks_into_errors_or_logs(stub, caplog):
    caplog.set_level(logging.DEBUG)
    stub.enqueue(*[Reply.error(500, echo_auth=True)] * 2)
    with pytest.raises(LLMError) as info:
        llm_for(stub, max_retries=1).ask("s", "u", Cells)
    err = info.value
    text = " ".join(str(x) for x in (err, err.hint, err.hint_zh, err.last_completion, repr(err)))
    assert "Bearer ***" in str(err)  # the server's message is shown, redacted
    assert SECRET not in text
    assert SECRET not in caplog.text
    chain = err.__cause__ or err.__context__
    while chain is not None:
        assert SECRET not in str(chain)
        chain = chain.__cause__ or chain.__context__


def test_invalid_json_is_reasked_with_the_error(stub):
    stub.enqueue(Reply.text("这不是 JSON"), Reply.json({**GOOD, "row": [1, 2]}), Reply.json(GOOD))
    result, usage = llm_for(stub).ask("s", "u", Cells)
    assert result == Cells(**GOOD)
    assert usage.reasks == 2 and usage.calls == 3 and usage.retries == 0
    assert usage.prompt_tokens == 3 * 11
    # The re-ask shows the model its own answer and what was wrong with it.
    reask = stub.chat_requests[1].body["messages"]
    assert any(m["role"] == "assistant" and m["content"] == "这不是 JSON" for m in reask)
    assert "json" in reask[-1]["content"].lower()


def test_reasks_exhausted_raise_with_last_completion(stub):
    stub.enqueue(Reply.text("nope 1"), Reply.text("nope 2"))
    with pytest.raises(LLMError) as info:
        llm_for(stub, max_reasks=1).ask("s", "u", Cells)
    err = info.value
    assert err.last_completion == "nope 2"
    assert err.attempts == 2
    assert err.retryable is False
    assert len(stub.chat_requests) == 2


def test_truncated_answer_is_asked_again_with_a_larger_budget(stub):
    stub.enqueue(Reply.text('{"year": 2023, "agen', finish_reason="length"), Reply.json(GOOD))
    result, usage = llm_for(stub).ask("s", "u", Cells, max_tokens=16)
    assert result == Cells(**GOOD)
    assert [r.body["max_tokens"] for r in stub.chat_requests] == [16, 32]
    assert usage.reasks == 1


def test_truncated_every_time_raises_with_the_partial_answer(stub):
    stub.enqueue(*[Reply.text('{"year": 20', finish_reason="length")] * 3)
    with pytest.raises(LLMError) as info:
        llm_for(stub, max_reasks=2).ask("s", "u", Cells, max_tokens=16)
    assert "truncated" in str(info.value)
    assert info.value.last_completion == '{"year": 20'
    assert [r.body["max_tokens"] for r in stub.chat_requests] == [16, 32, 64]


def test_unreachable_endpoint_is_a_retryable_llm_error():
    with StubOpenAI() as dead:
        url = dead.base_url
    endpoint = Endpoint(base_url=url, api_key=SecretStr(SECRET), model="m")
    llm = OpenAICompatLLM(model_id="openai:m", connect=lambda: endpoint, timeout_s=1.0,
                          max_retries=1, max_reasks=0, backoff_base_s=0.01)
    with pytest.raises(LLMError) as info:
        llm.ask("s", "u", Cells)
    assert info.value.retryable and "cannot connect" in str(info.value)


def test_threads_share_one_client(stub):
    stub.enqueue(*[Reply.json({**GOOD, "year": 2000 + i}) for i in range(8)])
    llm = llm_for(stub)
    years: list[int] = []
    usages: list[Usage] = []
    lock = threading.Lock()

    def worker() -> None:
        result, usage = llm.ask("s", "u", Cells)
        with lock:
            years.append(result.year)
            usages.append(usage)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(years) == list(range(2000, 2008))
    assert all(u.calls == 1 for u in usages)  # each call's usage is its own, not a shared counter


def test_make_llm_goes_through_config(stub):
    stub.enqueue(Reply.error(500), Reply.json(GOOD))
    config = RunConfig(model="openai:stub-model", base_url=stub.base_url, api_key=SecretStr(SECRET),
                       use_cache=False, timeout_s=5, max_retries=1)
    llm = make_llm(config)
    try:
        result, usage = llm.ask("s", "u", Cells)
    finally:
        llm.close()
    assert llm.model_id == "openai:stub-model"
    assert result.year == 2023 and usage.retries == 1
    assert stub.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_usage_add():
    total = Usage()
    total.add(Usage(prompt_tokens=3, completion_tokens=2, calls=1, retries=1, reasks=0))
    total.add(Usage(prompt_tokens=4, completion_tokens=1, calls=2, retries=0, reasks=1, cache_hits=1))
    assert total == Usage(prompt_tokens=7, completion_tokens=3, calls=3, retries=1, reasks=1, cache_hits=1)


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [
        ("opnai:gpt-4o-mini", "openai:gpt-4o-mini"),
        ("lcoal:qwen2.5-coder-1.5b", "local:qwen2.5-coder-1.5b"),
        ("gpt-4o-mini", "openai:gpt-4o-mini"),
        ("qwen2.5-coder-1.5b", "local:qwen2.5-coder-1.5b"),
        ("local:qwen2.5-coder-1.5", "local:qwen2.5-coder-1.5b"),
    ],
)
def test_bad_model_names_suggest_the_right_one(spec, suggestion):
    with pytest.raises(ConfigError) as info:
        parse_model(spec)
    assert suggestion in str(info.value)


def test_good_model_names_parse():
    assert parse_model("openai:deepseek-chat").model_id == "openai:deepseek-chat"
    assert parse_model("local:qwen2.5-coder-0.5b").name == "qwen2.5-coder-0.5b"


def test_remote_model_without_key_or_url_is_a_config_error(tmp_path):
    config = RunConfig(model="openai:gpt-4o-mini", base_url=None, api_key=None, cache_dir=tmp_path)
    with pytest.raises(ConfigError) as info:
        make_llm(config)
    assert "API key" in str(info.value)


def test_secret_is_not_in_config_repr():
    config = RunConfig(model="openai:x", api_key=SecretStr(SECRET))
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())


def test_constrained_mode_sends_the_schema_as_grammar_only(stub):
    """The local path: llama.cpp's response_format carries the schema; the prompt stays the caller's."""
    from extractor.backends.schema_format import grammar_schema

    stub.enqueue(Reply.text("{broken"), Reply.json(GOOD))
    endpoint = Endpoint(base_url=stub.base_url, api_key=SecretStr("sk-local"), model="qwen")
    llm = OpenAICompatLLM(model_id="local:qwen", connect=lambda: endpoint, timeout_s=5, max_retries=0,
                          max_reasks=1, constrain_schema=True)
    result, usage = llm.ask("系统提示", "正文", Cells)
    assert result == Cells(**GOOD) and usage.reasks == 1
    first = stub.chat_requests[0].body
    assert first["response_format"] == {"type": "json_object", "schema": grammar_schema(Cells)}
    # The grammar enforces the schema, so no copy of it is paid for in prompt tokens.
    assert first["messages"][0]["content"] == "系统提示"
    assert [m["content"] for m in first["messages"]] == ["系统提示", "正文"]
    # The re-ask keeps the grammar and shows the model its broken answer.
    second = stub.chat_requests[1].body
    assert second["response_format"] == first["response_format"]
    assert any(m["role"] == "assistant" and m["content"] == "{broken" for m in second["messages"])
