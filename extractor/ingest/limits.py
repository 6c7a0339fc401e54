"""How far one input may expand while it is read, and the errors that say which limit it met.

The file size alone bounds nothing: a 650 KB .docx can hold 200 MB of XML and a 29 KB PDF a 10 MB
content stream, and the parsers' memory grows 20-80 times faster than those bytes. So every format
is bounded by what it expands to, checked *while* reading (a ZIP's declared sizes before anything
is inflated, each PDF stream as it inflates), never after the whole thing is in memory.

Each limit has an environment variable (read when a file is read, so a running UI or batch picks up
a change only when restarted or re-read); the defaults are 25-100 times a large real report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from extractor.errors import ConfigError, InputError

_MB = 1024 * 1024


@dataclass(frozen=True)
class InputLimits:
    max_bytes: int = 64 * _MB  # the file itself
    max_expanded_bytes: int = 128 * _MB  # everything a PDF's streams or a Word file's parts inflate to
    max_docx_xml_bytes: int = 32 * _MB  # the XML parts of a Word file, inflated (lxml: ~12 bytes of memory each)
    max_html_bytes: int = 8 * _MB  # an HTML page's markup (its parsed tree: ~50 bytes of memory each)
    max_pdf_stream_bytes: int = 4 * _MB  # one PDF stream, and one page's content, once inflated (fonts excepted)
    max_pdf_pages: int = 1000
    max_pdf_page_objects: int = 50_000  # characters, paths and images one PDF page lays out (a dense page: 3 000)
    max_archive_members: int = 5000  # entries in a .docx (a ZIP); each costs memory before any is read
    max_chars: int = 2_000_000  # characters of text read (a report has 10 000 to 80 000)


# (field, environment variable, unit in bytes or 1)
_ENV: tuple[tuple[str, str, int], ...] = (
    ("max_bytes", "NIANBAO_MAX_INPUT_MB", _MB),
    ("max_expanded_bytes", "NIANBAO_MAX_EXPANDED_MB", _MB),
    ("max_docx_xml_bytes", "NIANBAO_MAX_DOCX_XML_MB", _MB),
    ("max_html_bytes", "NIANBAO_MAX_HTML_MB", _MB),
    ("max_pdf_stream_bytes", "NIANBAO_MAX_PDF_STREAM_MB", _MB),
    ("max_pdf_pages", "NIANBAO_MAX_PDF_PAGES", 1),
    ("max_pdf_page_objects", "NIANBAO_MAX_PDF_PAGE_OBJECTS", 1),
    ("max_archive_members", "NIANBAO_MAX_ARCHIVE_MEMBERS", 1),
    ("max_chars", "NIANBAO_MAX_CHARS", 1),
)
ENV_VARS: dict[str, str] = {name: env for name, env, _ in _ENV}


def current_limits() -> InputLimits:
    """The defaults, with any limit the environment raises or lowers. A value that is not a
    positive number is an error rather than silently ignored: a typo must not lift a limit."""
    values: dict[str, int] = {}
    for name, env, unit in _ENV:
        raw = os.environ.get(env, "").strip()
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            number = -1.0
        if number <= 0:
            raise ConfigError(f"{env}={raw!r} is not a positive number",
                              hint_zh=f"环境变量 {env} 应为正数（当前为 {raw!r}）")
        values[name] = int(number * unit)
    return InputLimits(**values)


def megabytes(n: int) -> str:
    return f"{n / _MB:.0f} MB" if n >= _MB else f"{n / 1024:.0f} KB"


def expansion_error(what: str, size: str | None, limit: str, field: str) -> InputError:
    """``what`` (English) expands past ``limit`` (to ``size`` where it is known: a decoder stopped at
    the limit does not know how far the data would have gone)."""
    env = ENV_VARS[field]
    grows = f"expands to {size}, over the limit of {limit}" if size else f"expands past the limit of {limit}"
    shown = f"{size}，上限 {limit}" if size else f"超过上限 {limit}"
    return InputError(
        f"{what} {grows} (raise {env} if the file is genuine)",
        hint_zh=f"文件解压或展开后过大（{shown}），超出处理上限（疑似恶意文件）；如确为正常文件，可调高环境变量 {env}",
    )


def too_many_chars(n: int, limits: InputLimits) -> InputError:
    env = ENV_VARS["max_chars"]
    return InputError(
        f"the text has {n:,} characters, over the limit of {limits.max_chars:,} (raise {env} if the file is genuine)",
        hint_zh=f"文本过长（{n:,} 字，上限 {limits.max_chars:,} 字）；如确为正常文件，可调高环境变量 {env}",
    )


def check_chars(text: str, limits: InputLimits) -> str:
    if len(text) > limits.max_chars:
        raise too_many_chars(len(text), limits)
    return text
