from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _shared() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared (seeds, gold, devset) is not next to this checkout")
    return SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _shared()


def seed_pairs() -> list[tuple[Path, Path]]:
    if not SHARED.exists():
        return []
    return [(t, SHARED / "gold" / (t.stem + ".json")) for t in sorted((SHARED / "seeds").glob("*.txt"))]


def devset_pairs() -> list[tuple[Path, Path]]:
    if not SHARED.exists():
        return []
    return [(t, t.with_suffix(".json")) for t in sorted((SHARED / "devset").glob("d*.txt"))]


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
