from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SourceDocument(BaseModel):
    """A source as text. ``text`` is what spans point into and what the UI shows."""

    model_config = ConfigDict(extra="forbid")

    text: str
    format: str = "text"  # "text" | "html" | "pdf" | "docx" | "doc"
    encoding: str | None = None
    name: str | None = None
    warnings: list[str] = Field(default_factory=list)
