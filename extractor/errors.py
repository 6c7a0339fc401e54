"""One exception root for the project. Each class says whether a retry can help and gives a hint.

The CLI maps these to one-line messages and exit codes; the UI shows ``hint_zh``.
"""

from __future__ import annotations


class NianbaoError(Exception):
    """Base of every error the project raises on purpose."""

    retryable: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, hint_zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.hint_zh = hint_zh

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (class, args, attributes) without calling __init__ again: subclasses take
        # keyword-only arguments, and errors cross from the per-file worker process (time_budget.py).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[NianbaoError], args: tuple[object, ...], state: dict[str, object]) -> NianbaoError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InputError(NianbaoError):
    """The input cannot be read as text: empty, binary, undecodable, too large, unsupported format."""

    exit_code = 2


class NotAReportError(NianbaoError):
    """The text was read, but it is not a 政府信息公开工作年度报告."""

    exit_code = 3


class ConfigError(NianbaoError):
    """A setting is wrong: unknown engine or model, missing key, bad URL."""

    exit_code = 2


class ModelUnavailableError(NianbaoError):
    """The embedded model or an endpoint cannot be reached or loaded."""

    exit_code = 4


class LLMError(NianbaoError):
    """An LLM call failed after its retries; keeps the last raw completion and the attempt count."""

    exit_code = 5

    def __init__(self, message: str, *, last_completion: str | None = None, attempts: int = 0,
                 retryable: bool = False, hint: str | None = None, hint_zh: str | None = None) -> None:
        super().__init__(message, hint=hint, hint_zh=hint_zh)
        self.last_completion = last_completion
        self.attempts = attempts
        self.retryable = retryable
