"""Bounds on what a PDF expands to while pdfminer reads it: inflated stream bytes, layout objects per page.

pdfminer inflates a stream with ``zlib.decompress`` (or its LZW / run-length decoders) all at once
and keeps the result; a 29 KB file can carry a 10 MB content stream that becomes a million layout
objects. Here the decoders pdfminer calls are replaced, once, by versions that stop as soon as the
stream passes what the file may still expand to. Outside ``bounded_pdf_streams`` (another caller of
pdfminer, another thread) they behave exactly like the originals.

Three budgets (see limits.py): every inflated byte of the file counts toward ``max_expanded_bytes``;
every stream that is not a font or an image (page content, form XObjects, object and cross-reference
streams, CMaps) must stay under ``max_pdf_stream_bytes``, and so must the content one page draws.
And a page may lay out at most ``max_pdf_page_objects`` characters, paths and images: each costs about
2 KB in pdfminer and pdfplumber, and 4 MB of content can draw a million characters (2 GB, 80 s).
"""

from __future__ import annotations

import contextvars
import threading
import zlib as _zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from extractor.errors import InputError
from extractor.ingest.limits import ENV_VARS, InputLimits, expansion_error, megabytes


class PdfExpansionError(InputError):
    """A PDF stream inflates past a limit; raised from inside pdfminer and re-raised as is."""


@dataclass
class _Budget:
    limits: InputLimits
    total: int = 0  # inflated bytes of the whole file so far
    page_content: int = 0  # inflated non-font bytes while the current page was being read
    page: int | None = None  # the page being read (1-based), None while the file is being opened
    page_objects: int = 0  # characters, paths and images laid out on the current page
    exceeded: PdfExpansionError | None = field(default=None)

    def fail(self, error: PdfExpansionError) -> PdfExpansionError:
        # pdfminer swallows some exceptions (a broken font is skipped); the reader checks this after each page
        self.exceeded = self.exceeded or error
        return error

    def room_for(self, stream: Any) -> tuple[int, str]:
        """Bytes this stream may inflate to before it breaks a limit, and that limit's name."""
        room, name = self.limits.max_expanded_bytes - self.total, "max_expanded_bytes"
        if not _is_font_or_image(stream):
            stream_room = self.limits.max_pdf_stream_bytes
            if self.page is not None:
                stream_room -= self.page_content
            if stream_room < room:
                room, name = stream_room, "max_pdf_stream_bytes"
        return max(room, 0), name

    def account(self, stream: Any, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_expanded_bytes:
            raise self.fail(_error("the PDF's streams", self.total, self.limits.max_expanded_bytes, "max_expanded_bytes"))
        if _is_font_or_image(stream):
            return
        if self.page is not None:
            self.page_content += size
            if self.page_content > self.limits.max_pdf_stream_bytes:
                raise self.fail(_error(f"the content of page {self.page}", self.page_content,
                                       self.limits.max_pdf_stream_bytes, "max_pdf_stream_bytes"))

    def laid_out(self) -> None:
        self.page_objects += 1
        if self.page is not None and self.page_objects > self.limits.max_pdf_page_objects:
            env = ENV_VARS["max_pdf_page_objects"]
            raise self.fail(PdfExpansionError(
                f"page {self.page} draws more than {self.limits.max_pdf_page_objects:,} characters and shapes "
                f"(raise {env} if the file is genuine)",
                hint_zh=f"PDF 第 {self.page} 页的字符和图形过多（超过 {self.limits.max_pdf_page_objects:,} 个），"
                        f"疑似恶意文件；如确为正常文件，可调高环境变量 {env}"))

    def over(self, produced: int | None, limit_name: str) -> PdfExpansionError:
        """A stream passed its room: ``produced`` is its full size where known (run-length), else None."""
        what = "a PDF stream" if self.page is None else f"a stream of page {self.page}"
        return self.fail(_error(what, produced, getattr(self.limits, limit_name), limit_name))


def _error(what: str, size: int | None, limit: int, field_name: str) -> PdfExpansionError:
    base = expansion_error(what, None if size is None else megabytes(size), megabytes(limit), field_name)
    return PdfExpansionError(base.message, hint=base.hint, hint_zh=base.hint_zh)


def _is_font_or_image(stream: Any) -> bool:
    attrs = getattr(stream, "attrs", {}) or {}
    if any(k in attrs for k in ("Length1", "Length2", "Length3")):  # FontFile, FontFile2
        return True
    subtype = attrs.get("Subtype")
    name = getattr(subtype, "name", subtype)
    return name in ("Image", "Type1C", "CIDFontType0C", "OpenType")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("nianbao_pdf_budget", default=None)
# (bytes the stream being decoded may still produce, the name of the limit that sets it)
_ROOM: contextvars.ContextVar[tuple[int, str] | None] = contextvars.ContextVar("nianbao_pdf_room", default=None)
_CHUNK = 1 << 16


def _over(produced: int | None, limit_name: str) -> PdfExpansionError:
    budget = _BUDGET.get()
    if budget is None:  # not reachable: _ROOM is only set inside a budget
        return PdfExpansionError("a PDF stream inflates too far", hint_zh="PDF 数据流解压后过大")
    return budget.over(produced, limit_name)


class _BoundedInflater:
    """zlib.decompressobj() whose total output stops at the stream's room."""

    def __init__(self, *args: Any) -> None:
        self._inner = _zlib.decompressobj(*args)
        self._produced = 0

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        bound = _ROOM.get()
        if bound is None:
            return self._inner.decompress(data, max_length)
        room, name = bound
        allowed = room - self._produced + 1  # >= 1: we raise as soon as production passes the room
        out = self._inner.decompress(data, min(allowed, max_length) if max_length else allowed)
        self._produced += len(out)
        if self._produced > room:
            raise _over(None, name)
        return out

    def flush(self, *args: Any) -> bytes:
        return self._inner.flush(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _decompress(data: bytes, *args: Any) -> bytes:
    bound = _ROOM.get()
    if bound is None:
        return _zlib.decompress(data, *args)
    room, name = bound
    inflater = _zlib.decompressobj(*args[:1])
    out = bytearray()
    pending = data
    while True:
        piece = inflater.decompress(pending, _CHUNK)
        out += piece
        if len(out) > room:
            raise _over(None, name)
        pending = inflater.unconsumed_tail
        if inflater.eof or (not pending and not piece):
            break
    if not inflater.eof:
        # what zlib.decompress says for a cut stream; pdfminer then tries decompress_corrupted
        raise _zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return bytes(out)


class _ZlibForPdfminer:
    """The ``zlib`` pdfminer.pdftypes sees: bounded ``decompress``/``decompressobj``, the rest as is."""

    error = _zlib.error
    decompress = staticmethod(_decompress)
    decompressobj = _BoundedInflater

    def __getattr__(self, name: str) -> Any:
        return getattr(_zlib, name)


def _bounded_lzw(original: Any) -> Any:
    def lzwdecode(data: bytes) -> bytes:
        bound = _ROOM.get()
        if bound is None:
            return original(data)
        from io import BytesIO

        from pdfminer.lzw import LZWDecoder

        room, name = bound
        out = bytearray()
        for piece in LZWDecoder(BytesIO(data)).run():
            out += piece
            if len(out) > room:
                raise _over(None, name)
        return bytes(out)

    return lzwdecode


def _run_length_size(data: bytes) -> int:
    """What RunLengthDecode would produce, counted without producing it."""
    size, i, n = 0, 0, len(data)
    while i < n:
        length = data[i]
        if length == 128:
            break
        if length < 128:
            size += length + 1
            i += length + 2
        else:
            size += 257 - length
            i += 2
    return size


def _bounded_rl(original: Any) -> Any:
    def rldecode(data: bytes) -> bytes:
        bound = _ROOM.get()
        if bound is not None:
            size = _run_length_size(data)
            if size > bound[0]:
                raise _over(size, bound[1])
        return original(data)

    return rldecode


_installed = False
_install_lock = threading.Lock()


def _count_layout_objects() -> None:
    """Count each character, path and image pdfminer lays out against the current page's budget
    (pdfplumber's device calls these through ``super()``)."""
    from pdfminer.converter import PDFLayoutAnalyzer

    for name in ("render_char", "paint_path", "render_image"):
        original = getattr(PDFLayoutAnalyzer, name)

        def counted(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            budget = _BUDGET.get()
            if budget is not None:
                budget.laid_out()
            return __original(self, *args, **kwargs)

        setattr(PDFLayoutAnalyzer, name, counted)


def _install() -> None:
    """Wrap pdfminer's stream decoding once per process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import pdfminer.pdftypes as pdftypes

        original_decode = pdftypes.PDFStream.decode

        def decode(self: Any) -> None:
            budget = _BUDGET.get()
            if budget is None:
                return original_decode(self)
            if budget.exceeded is not None:
                raise budget.exceeded
            token = _ROOM.set(budget.room_for(self))
            try:
                original_decode(self)
            finally:
                _ROOM.reset(token)
            budget.account(self, len(self.data or b""))
            return None

        pdftypes.PDFStream.decode = decode  # type: ignore[method-assign]  # the bounded decode replaces pdfminer's on purpose
        _count_layout_objects()
        pdftypes.zlib = _ZlibForPdfminer()  # type: ignore[assignment]  # a bounded stand-in for the zlib module pdfminer calls
        pdftypes.lzwdecode = _bounded_lzw(pdftypes.lzwdecode)
        pdftypes.rldecode = _bounded_rl(pdftypes.rldecode)
        _installed = True


class PdfReadBudget:
    """The running budget of one PDF being read; ``page(n)`` marks the page whose content is read next."""

    def __init__(self, budget: _Budget) -> None:
        self._budget = budget

    @contextmanager
    def page(self, number: int) -> Iterator[None]:
        self._budget.page = number
        self._budget.page_content = 0
        self._budget.page_objects = 0
        try:
            yield
        finally:
            self._budget.page = None
        self.raise_if_exceeded()

    def raise_if_exceeded(self) -> None:
        if self._budget.exceeded is not None:
            raise self._budget.exceeded


@contextmanager
def bounded_pdf_streams(limits: InputLimits) -> Iterator[PdfReadBudget]:
    """Within this block (this thread), pdfminer's stream decoding obeys ``limits``."""
    _install()
    budget = _Budget(limits)
    token = _BUDGET.set(budget)
    try:
        yield PdfReadBudget(budget)
    finally:
        _BUDGET.reset(token)
