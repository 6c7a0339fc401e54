"""Bytes in, text out: decode and render a user's file into the text every reader and span refers to."""

from __future__ import annotations

from extractor.ingest.document import SourceDocument
from extractor.ingest.loader import MAX_BYTES, load_bytes, load_path, load_text

__all__ = ["MAX_BYTES", "SourceDocument", "load_bytes", "load_path", "load_text"]
