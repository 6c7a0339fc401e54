"""The disk cache of LLM answers: a real SQLite file, and a real HTTP endpoint to count requests."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from pydantic import BaseModel, SecretStr

from extractor.backends.client import CachedLLM, Usage, make_llm
from extractor.config import RunConfig
from extractor.llm_cache import CACHE_FILE, LLMCache

try:
    from tests.openai_stub_server import Reply, StubOpenAI
except ImportError:  # tests/ is not a package
    from openai_stub_server import Reply, StubOpenAI


class Answer(BaseModel):
    total: int | None


class AnswerV2(BaseModel):
    total: int | None
    note: str | None = None


@pytest.fixture
def stub():
    with StubOpenAI() as server:
        yield server


def config_for(stub: StubOpenAI, cache_dir, **kw) -> RunConfig:
    return RunConfig(model="openai:stub", base_url=stub.base_url, api_key=SecretStr("sk-cache-test"),
                     cache_dir=cache_dir, use_cache=True, timeout_s=5, **kw)


def test_second_identical_question_costs_no_request(stub, tmp_path):
    stub.enqueue(Reply.json({"total": 12}, prompt_tokens=50, completion_tokens=5))
    llm = make_llm(config_for(stub, tmp_path))
    assert isinstance(llm, CachedLLM)
    first, u1 = llm.ask("system v1", "收到申请 12 件", Answer)
    second, u2 = llm.ask("system v1", "收到申请 12 件", Answer)
    llm.close()
    assert first == second == Answer(total=12)
    assert u1 == Usage(prompt_tokens=50, completion_tokens=5, calls=1)
    assert u2 == Usage(cache_hits=1)
    assert len(stub.chat_requests) == 1


def test_cache_survives_the_process_and_is_a_real_sqlite_file(stub, tmp_path):
    stub.enqueue(Reply.json({"total": 3}))
    llm = make_llm(config_for(stub, tmp_path))
    llm.ask("s", "u", Answer)
    llm.close()
    rows = sqlite3.connect(tmp_path / CACHE_FILE).execute("SELECT model, answer FROM answers").fetchall()
    assert rows == [("openai:stub", '{"total":3}')]
    again = make_llm(config_for(stub, tmp_path))  # a fresh client, as in the next run
    result, usage = again.ask("s", "u", Answer)
    again.close()
    assert result == Answer(total=3) and usage.cache_hits == 1 and usage.calls == 0
    assert len(stub.chat_requests) == 1


@pytest.mark.parametrize(
    "change",
    ["system", "user", "schema", "model", "temperature"],
)
def test_any_change_in_the_question_misses(stub, tmp_path, change):
    stub.enqueue(Reply.json({"total": 1}), Reply.json({"total": 2}))
    base = dict(system="prompt v1", user="text", model=Answer, temperature=0.0, name="openai:stub")
    varied = dict(base)
    varied.update(
        {
            "system": {"system": "prompt v2"},
            "user": {"user": "other text"},
            "schema": {"model": AnswerV2},
            "model": {"name": "openai:stub-2"},
            "temperature": {"temperature": 0.7},
        }[change]
    )
    results = []
    for q in (base, varied):
        llm = make_llm(config_for(stub, tmp_path).model_copy(update={"model": q["name"]}))
        result, usage = llm.ask(q["system"], q["user"], q["model"], temperature=q["temperature"])
        llm.close()
        results.append((result.total, usage.cache_hits))
    assert results == [(1, 0), (2, 0)]
    assert len(stub.chat_requests) == 2


def test_use_cache_false_always_asks(stub, tmp_path):
    stub.enqueue(Reply.json({"total": 1}), Reply.json({"total": 1}))
    llm = make_llm(config_for(stub, tmp_path).model_copy(update={"use_cache": False}))
    llm.ask("s", "u", Answer)
    llm.ask("s", "u", Answer)
    llm.close()
    assert len(stub.chat_requests) == 2
    assert not (tmp_path / CACHE_FILE).exists()


def test_failed_answers_are_not_cached(stub, tmp_path):
    stub.enqueue(Reply.text("garbage"), Reply.json({"total": 4}))
    llm = make_llm(config_for(stub, tmp_path, max_reasks=0))
    with pytest.raises(Exception):
        llm.ask("s", "u", Answer)
    result, usage = llm.ask("s", "u", Answer)
    llm.close()
    assert result.total == 4 and usage.calls == 1


def test_entry_that_no_longer_validates_is_asked_again(stub, tmp_path):
    cache = LLMCache.open(tmp_path)
    llm = make_llm(config_for(stub, tmp_path))
    import json as _json

    key = cache.key("openai:stub", "s", _json.dumps(Answer.model_json_schema(), sort_keys=True, ensure_ascii=False), "u", 0.0)
    cache.put(key, "openai:stub", '{"total": "not a number"}', {})
    cache.close()
    stub.enqueue(Reply.json({"total": 9}))
    result, usage = llm.ask("s", "u", Answer)
    llm.close()
    assert result.total == 9 and usage.calls == 1


def test_key_is_unambiguous():
    k = LLMCache.key
    assert k("m", "ab", "c", "d") != k("m", "a", "bc", "d")
    assert k("m", "s", "{}", "u") == k("m", "s", "{}", "u")
    assert len(k("m", "s", "{}", "u")) == 64


def test_unwritable_cache_dir_degrades_to_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = LLMCache.open(blocker / "sub")  # a file where a directory should be
    assert not cache.available
    assert cache.get("k") is None
    cache.put("k", "m", "{}", {})  # no exception
    assert len(cache) == 0


def test_cache_is_safe_across_threads(tmp_path):
    cache = LLMCache.open(tmp_path)

    def worker(i: int) -> None:
        for j in range(20):
            cache.put(f"{i}-{j}", "m", f'{{"total": {j}}}', {"calls": 1})
            assert cache.get(f"{i}-{j}") is not None

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 80
    assert cache.get("3-19") == ('{"total": 19}', {"calls": 1})
    cache.close()
