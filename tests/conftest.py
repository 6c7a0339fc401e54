from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.shared_data import ROOT, SHARED, SHARED_IS_ORIGINAL  # noqa: F401 - re-exported for the tests


def _shared() -> Path:
    return SHARED


def shared_file(*parts: str) -> Path:
    """A file of ../shared; skips the test where only the evals/samples mirror exists and it lacks the file."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{'/'.join(parts)} is only in ../shared, which is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _shared()


def seed_pairs() -> list[tuple[Path, Path]]:
    return [(t, SHARED / "gold" / (t.stem + ".json")) for t in sorted((SHARED / "seeds").glob("*.txt"))]


def devset_pairs() -> list[tuple[Path, Path]]:
    return [(t, t.with_suffix(".json")) for t in sorted((SHARED / "devset").glob("d*.txt"))]


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
