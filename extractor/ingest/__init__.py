"""Bytes in, text out: decode and render a user's file into the text every reader and span refers to."""

from __future__ import annotations

from extractor.ingest.document import SourceDocument
from extractor.ingest.encoding import decode_bytes
from extractor.ingest.loader import MAX_BYTES, decode_text, load_bytes, load_path, load_text, sniff_format

__all__ = [
    "MAX_BYTES",
    "SourceDocument",
    "decode_bytes",
    "decode_text",
    "load_bytes",
    "load_path",
    "load_text",
    "sniff_format",
]
