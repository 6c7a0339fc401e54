"""The one LLM client path: ``openai`` SDK + ``instructor`` JSON mode + ``tenacity`` transport retries.

Every model, remote or embedded, is an OpenAI-compatible chat-completions endpoint:

- ``openai:<model>`` talks to ``config.base_url`` (OpenAI, DeepSeek, DashScope, vLLM, Ollama, a
  llama.cpp server ...) with ``config.api_key``.
- ``local:<name>`` assembles the embedded GGUF once, starts llama-cpp-python's server on loopback
  on first use and talks to it through exactly the same code; the only difference is that the
  request also carries the JSON schema so the server constrains decoding with a grammar.

``ask`` returns a validated pydantic instance plus the ``Usage`` it cost (transport retries and
schema re-asks included), or raises ``LLMError`` with the last raw completion.
"""

from __future__ import annotations

import difflib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, SecretStr, ValidationError

from extractor.backends.llama_server import LocalModel
from extractor.backends.retry import describe_transport_error, is_transient, make_retrying
from extractor.backends.schema_format import grammar_schema
from extractor.config import RunConfig
from extractor.errors import ConfigError, LLMError, NianbaoError

T = TypeVar("T", bound=BaseModel)

# instructor logs every failed attempt at ERROR level; we report retries and failures ourselves
# (through ``progress`` and ``LLMError``), so keep its records out of a bare stderr.
logging.getLogger("instructor").addHandler(logging.NullHandler())

Progress = Callable[[str], None]

PROVIDERS: tuple[str, ...] = ("openai", "local")
# A truncated answer is asked again with twice the budget, up to this many tokens.
MAX_TOKENS_CAP = 4096
# Endpoints such as Ollama or a bare llama.cpp server want *some* bearer token; none is secret.
_PLACEHOLDER_KEY = "sk-no-key-needed"


class Usage(BaseModel):
    """What one or more calls cost. ``calls`` counts HTTP requests, including transport retries."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    retries: int = 0
    reasks: int = 0
    cache_hits: int = 0

    def add(self, other: "Usage") -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls
        self.retries += other.retries
        self.reasks += other.reasks
        self.cache_hits += other.cache_hits


class StructuredLLM(Protocol):
    model_id: str

    def ask(
        self,
        system: str,
        user: str,
        response_model: type[T],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> tuple[T, Usage]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ModelRef:
    provider: str  # "openai" | "local"
    name: str

    @property
    def model_id(self) -> str:
        return f"{self.provider}:{self.name}"


def parse_model(spec: str) -> ModelRef:
    """Split ``provider:name``; unknown providers and local names fail with a did-you-mean hint."""
    from extractor.backends.embedded_model import MODELS

    raw = spec.strip()
    provider, sep, name = raw.partition(":")
    provider = provider.lower()
    if not sep or not name:
        guess = f"openai:{raw}" if raw and raw not in MODELS else f"local:{raw}"
        raise ConfigError(
            f"model {raw!r} needs a provider prefix",
            hint=f"use 'local:<name>' or 'openai:<model>'; did you mean '{guess}'?",
            hint_zh=f"模型名需要前缀 local: 或 openai:，例如 '{guess}'",
        )
    if provider not in PROVIDERS:
        close = difflib.get_close_matches(provider, PROVIDERS, n=1, cutoff=0.4)
        suggestion = f"; did you mean '{close[0]}:{name}'?" if close else ""
        raise ConfigError(
            f"unknown model provider {provider!r} in {raw!r}",
            hint=f"known providers: {', '.join(PROVIDERS)}{suggestion}",
            hint_zh=f"未知的模型前缀 {provider!r}，可用：local、openai",
        )
    if provider == "local" and name not in MODELS:
        close = difflib.get_close_matches(name, list(MODELS), n=1, cutoff=0.3)
        suggestion = f"; did you mean 'local:{close[0]}'?" if close else ""
        raise ConfigError(
            f"unknown embedded model {name!r}",
            hint=f"embedded models: {', '.join(MODELS)}{suggestion}",
            hint_zh=f"未知的内置模型 {name!r}，可用：{'、'.join(MODELS)}",
        )
    return ModelRef(provider, name)


@dataclass(frozen=True)
class Endpoint:
    base_url: str | None
    api_key: SecretStr
    model: str  # the name sent in the request body


class _TransportFailure(Exception):
    """Raised inside instructor's loop so it is not mistaken for a schema problem; carries a safe text."""

    def __init__(self, error: NianbaoError) -> None:
        super().__init__(error.message)
        self.error = error


def _redact(text: str, secret: SecretStr | None) -> str:
    if secret is None:
        return text
    value = secret.get_secret_value()
    if value and len(value) >= 4:
        text = text.replace(value, "***")
    return text


def _completion_text(completion: Any) -> str | None:
    """The assistant text of a ChatCompletion (or None)."""
    try:
        content = completion.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _server_message(exc: BaseException) -> str:
    """The endpoint's own one-line error message, if its body has one (never headers)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            msg = inner.get("message")
            if isinstance(msg, str):
                return msg[:300]
        elif isinstance(inner, str):
            return inner[:300]
    return ""


def _detach(result: BaseModel, response_model: type[T]) -> T:
    """An instance of exactly ``response_model`` with the validated values.

    instructor answers with an instance of a private subclass of the requested model and hangs the
    whole HTTP answer on it; neither should leak to callers (equality, pickling, memory). The
    values were validated against the same fields and validators, so no second validation runs.
    """
    if type(result) is response_model:
        for attr in ("_raw_response", "_total_usage"):
            result.__dict__.pop(attr, None)
        return result
    values = {name: result.__dict__[name] for name in response_model.model_fields if name in result.__dict__}
    return response_model.model_construct(_fields_set=set(result.model_fields_set), **values)


def _first_problem(exc: BaseException) -> str:
    """One line naming the first thing wrong with an answer (field path and reason)."""
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        if errors:
            first = errors[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "answer"
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            return f"{loc}: {first.get('msg', 'invalid')}{more}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else "invalid answer"


class OpenAICompatLLM:
    """A ``StructuredLLM`` over any OpenAI-compatible endpoint.

    ``connect`` returns the endpoint lazily (the embedded model starts its server on first use) and
    ``constrain_schema`` adds llama.cpp's ``response_format={"type": "json_object", "schema": ...}``.
    Thread-safe: the openai client is shared, everything per call lives on the call's stack.
    """

    def __init__(
        self,
        *,
        model_id: str,
        connect: Callable[[], Endpoint],
        timeout_s: float,
        max_retries: int,
        max_reasks: int,
        constrain_schema: bool = False,
        progress: Progress | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        on_close: Callable[[], None] | None = None,
        health: Callable[[float], str | None] | None = None,
    ) -> None:
        self.model_id = model_id
        # What the cache keys on, when it must say more than the model id (a swapped GGUF file).
        self.cache_identity: str | None = None
        self._connect = connect
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._max_reasks = max_reasks
        self._constrain_schema = constrain_schema
        self._progress = progress
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._on_close = on_close
        # For a server we run ourselves: None while it is up, else what happened to it; the
        # argument is how long to wait for a process that is still exiting.
        self._health = health
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None
        self._endpoint: Endpoint | None = None

    # -- public -----------------------------------------------------------------------------------

    def ask(
        self,
        system: str,
        user: str,
        response_model: type[T],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> tuple[T, Usage]:
        client, endpoint = self._ensure_client()
        usage = Usage()
        completions = [0]
        extra_body: dict[str, Any] | None = None
        mode = instructor.Mode.JSON
        if self._constrain_schema:
            # llama.cpp compiles the schema into a grammar, so the answer cannot leave it, and the
            # schema is not repeated in the prompt: on 2 CPU cores every prompt token costs time
            # (table 三's schema was ~860 tokens of each of its calls). The caller's prompt names the
            # keys and the answer's shape in its own compact words.
            schema = grammar_schema(response_model)
            extra_body = {"response_format": {"type": "json_object", "schema": schema}}
            mode = instructor.Mode.JSON_SCHEMA  # instructor adds no schema text in this mode
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        budget = max_tokens
        while True:
            create = instructor.patch(
                create=partial(self._send, client, endpoint, usage, completions), mode=mode
            )
            # Errors are built inside ``except`` but raised after it, so no exception chain (which
            # may hold a server's echo of the request, key included) rides along with them.
            failure: NianbaoError | None = None
            truncated: IncompleteOutputException | None = None
            try:
                result = create(
                    response_model=response_model,
                    max_retries=self._max_reasks,
                    strict=False,
                    messages=messages,
                    model=endpoint.model,
                    max_tokens=budget,
                    temperature=temperature,
                    extra_body=extra_body,
                )
            except IncompleteOutputException as exc:
                truncated = exc
            except InstructorRetryException as exc:
                failure = self._llm_error(exc, usage, completions[0])
            except _TransportFailure as exc:  # raised before instructor's loop wrapped it
                failure = exc.error
            if failure is not None:
                raise failure
            if truncated is not None:
                text = _completion_text(truncated.last_completion)
                del truncated
                if budget >= MAX_TOKENS_CAP or usage.reasks >= self._max_reasks:
                    raise LLMError(
                        f"{self.model_id}: answer truncated at max_tokens={budget}",
                        last_completion=text,
                        attempts=completions[0],
                        hint="the answer is longer than the token budget; ask for less per call",
                        hint_zh="模型回答超出长度上限，请缩小每次提问的范围",
                    )
                budget = min(budget * 2, MAX_TOKENS_CAP)
                usage.reasks += 1
                self._say(f"回答被截断，放宽长度重问 answer truncated, asking again with max_tokens={budget}")
                continue
            # Each completion after the first one in this call was a schema re-ask (the truncation
            # re-asks were already counted above).
            usage.reasks = max(usage.reasks, completions[0] - 1)
            return _detach(result, response_model), usage

    def close(self) -> None:
        with self._lock:
            client, self._client, self._endpoint = self._client, None, None
        if client is not None:
            client.close()
        if self._on_close is not None:
            self._on_close()

    # -- internals --------------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def _ensure_client(self) -> tuple[openai.OpenAI, Endpoint]:
        with self._lock:
            stale = self._health is not None and self._client is not None and self._health(0.0) is not None
            if stale:
                # The local server went away (crash, or another client closed it): start it again.
                self._say("本地模型服务已停止，正在重启 local model server is gone; restarting")
                assert self._client is not None
                self._client.close()
                self._client = None
            if self._client is None or self._endpoint is None:
                endpoint = self._connect()
                self._client = openai.OpenAI(
                    base_url=endpoint.base_url,
                    api_key=endpoint.api_key.get_secret_value(),
                    timeout=self._timeout_s,
                    max_retries=0,  # tenacity owns retries, so they are counted and classified once
                )
                self._endpoint = endpoint
            return self._client, self._endpoint

    def _send(
        self, client: openai.OpenAI, endpoint: Endpoint, usage: Usage, completions: list[int], **kwargs: Any
    ) -> Any:
        """One chat-completions request with transport retries; counts every HTTP attempt."""

        attempts = [0]

        def once() -> Any:
            usage.calls += 1
            attempts[0] += 1
            return client.chat.completions.create(**kwargs)

        def on_retry(attempt: int, exc: BaseException, wait_s: float) -> None:
            usage.retries += 1
            self._say(
                f"{describe_transport_error(exc)}，{wait_s:.1f} 秒后重试 "
                f"(retry {attempt}/{self._max_retries} in {wait_s:.1f}s)"
            )

        def server_gone(exc: BaseException) -> bool:
            # Retrying a server of ours that has exited only burns the backoff; the next ask restarts it.
            if self._health is None or not isinstance(exc, openai.APIConnectionError):
                return False
            # A dying process drops its sockets before it can be reaped: give it a moment to finish.
            return self._health(1.0) is not None

        retrying = make_retrying(
            self._max_retries,
            retry_after=client._parse_retry_after_header,
            base_s=self._backoff_base_s,
            max_s=self._backoff_max_s,
            on_retry=on_retry,
            give_up=server_gone,
        )
        failure: NianbaoError | None = None
        try:
            response = retrying(once)
        except openai.AuthenticationError as exc:
            failure = ConfigError(
                f"{self.model_id}: the endpoint rejected the API key (HTTP {exc.status_code})",
                hint="check NIANBAO_API_KEY / --api-key",
                hint_zh="API 密钥被拒绝，请检查 NIANBAO_API_KEY",
            )
        except openai.APIConnectionError as exc:
            gone = self._health(1.0) if self._health is not None else None
            if gone is not None:
                failure = LLMError(
                    f"{self.model_id}: the local model server stopped during the request: {gone}",
                    attempts=attempts[0],
                    retryable=True,
                    hint="the next request starts it again; if it keeps dying, see the server log",
                    hint_zh="本地模型服务意外退出，下次请求会自动重启；若反复出现请查看日志",
                )
            else:
                failure = self._status_failure(exc, endpoint, attempts[0])
        except openai.APIError as exc:
            failure = self._status_failure(exc, endpoint, attempts[0])
        if failure is not None:
            # Raised outside the except block: the openai error (and its response) stays behind.
            raise _TransportFailure(failure)
        completions[0] += 1
        tokens = getattr(response, "usage", None)
        if tokens is not None:
            usage.prompt_tokens += int(getattr(tokens, "prompt_tokens", 0) or 0)
            usage.completion_tokens += int(getattr(tokens, "completion_tokens", 0) or 0)
        return response

    def _status_failure(self, exc: openai.APIError, endpoint: Endpoint, attempts: int) -> LLMError:
        """A key-free LLMError for an endpoint that kept failing or refused the request."""
        detail = _redact(_server_message(exc), endpoint.api_key)
        transient = is_transient(exc)
        return LLMError(
            f"{self.model_id}: {describe_transport_error(exc)} from {endpoint.base_url or 'api.openai.com'}"
            f" after {attempts} attempt(s)" + (f": {detail}" if detail else ""),
            attempts=attempts,
            retryable=transient,
            hint="the endpoint kept failing; try again later or raise --timeout" if transient else None,
            hint_zh="模型服务暂时不可用，请稍后重试" if transient else "模型服务拒绝了请求",
        )

    def _llm_error(self, exc: InstructorRetryException, usage: Usage, completions: int) -> NianbaoError:
        cause = exc.__cause__
        if isinstance(cause, _TransportFailure):
            return cause.error
        last = _completion_text(exc.last_completion)
        usage.reasks = max(usage.reasks, completions - 1)
        first_line = _first_problem(cause if cause is not None else exc)
        return LLMError(
            f"{self.model_id}: no schema-valid answer after {completions} attempt(s): {first_line[:300]}",
            last_completion=last,
            attempts=completions,
            retryable=False,
            hint="the model's answer did not match the expected structure",
            hint_zh="模型的回答不符合要求的结构",
        )


def _remote_endpoint(config: RunConfig, name: str) -> Endpoint:
    if config.api_key is None and not config.base_url:
        raise ConfigError(
            f"model 'openai:{name}' needs an API key or a base URL",
            hint="set NIANBAO_API_KEY (and NIANBAO_BASE_URL for non-OpenAI endpoints), or use the embedded 'local:' model",
            hint_zh="请设置 NIANBAO_API_KEY（非 OpenAI 服务还需 NIANBAO_BASE_URL），或使用内置模型 local:",
        )
    if config.base_url and not config.base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"base URL {config.base_url!r} is not an http(s) URL",
            hint="for example https://api.deepseek.com/v1 or http://127.0.0.1:11434/v1",
            hint_zh="base URL 需以 http:// 或 https:// 开头",
        )
    return Endpoint(
        base_url=config.base_url or None,
        api_key=config.api_key or SecretStr(_PLACEHOLDER_KEY),
        model=name,
    )


def make_llm(config: RunConfig, progress: Progress | None = None) -> StructuredLLM:
    """The client for ``config.model``, behind the disk cache when ``config.use_cache``."""
    ref = parse_model(config.model)
    llm: StructuredLLM
    if ref.provider == "openai":
        endpoint = _remote_endpoint(config, ref.name)
        llm = OpenAICompatLLM(
            model_id=ref.model_id,
            connect=lambda: endpoint,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            max_reasks=config.max_reasks,
            progress=progress,
        )
    else:
        local = LocalModel(ref.name, Path(config.cache_dir), progress)
        embedded = OpenAICompatLLM(
            model_id=ref.model_id,
            connect=lambda: Endpoint(base_url=local.start(), api_key=SecretStr("sk-local"), model=ref.name),
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            max_reasks=config.max_reasks,
            constrain_schema=True,
            progress=progress,
            on_close=local.stop,
            health=local.death_report,
        )
        embedded.cache_identity = local.cache_identity(ref.model_id)
        llm = embedded
    if config.use_cache:
        from extractor.llm_cache import LLMCache

        llm = CachedLLM(llm, LLMCache.open(config.cache_dir), progress=progress)
    return llm


class CachedLLM:
    """Answers from the disk cache when the exact same question was answered before.

    The key covers the model, the full prompt text (which carries the prompt version), the
    response schema and the sampling temperature, so any change to one of them misses.
    """

    def __init__(self, inner: StructuredLLM, cache: Any, progress: Progress | None = None) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self._cache = cache
        self._progress = progress

    def ask(
        self,
        system: str,
        user: str,
        response_model: type[T],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> tuple[T, Usage]:
        identity = getattr(self.inner, "cache_identity", None) or self.model_id
        schema = json.dumps(response_model.model_json_schema(), sort_keys=True, ensure_ascii=False)
        key = self._cache.key(identity, system, schema, user, temperature)
        hit = self._cache.get(key)
        if hit is not None:
            payload, _original_usage = hit
            try:
                return response_model.model_validate_json(payload), Usage(cache_hits=1)
            except ValueError:
                pass  # an entry that no longer validates (model changed in place): ask again
        result, usage = self.inner.ask(system, user, response_model, max_tokens=max_tokens, temperature=temperature)
        self._cache.put(key, identity, result.model_dump_json(), usage.model_dump())
        return result, usage

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self._cache.close()


class _Borrowed:
    """A shared client lent to one report: ``close()`` leaves it (and its local server) running for
    the next report of the same process; the server itself stops at exit."""

    def __init__(self, inner: StructuredLLM) -> None:
        self._inner = inner
        self.model_id = inner.model_id

    def ask(self, system: str, user: str, response_model: type[T], *, max_tokens: int = 1024,
            temperature: float = 0.0) -> tuple[T, Usage]:
        return self._inner.ask(system, user, response_model, max_tokens=max_tokens, temperature=temperature)

    def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


_SHARED: dict[tuple[object, ...], StructuredLLM] = {}
_SHARED_LOCK = threading.Lock()


def shared_llm(config: RunConfig, progress: Progress | None = None) -> StructuredLLM:
    """One client per model and settings for the whole process, so batch, eval and the UI do not
    reload the embedded model for every report."""
    key = (config.model, config.base_url, config.api_key.get_secret_value() if config.api_key else None,
           config.use_cache, str(config.cache_dir), config.timeout_s, config.max_retries, config.max_reasks)
    with _SHARED_LOCK:
        llm = _SHARED.get(key)
        if llm is None:
            llm = _SHARED[key] = make_llm(config, progress)
    return _Borrowed(llm)
