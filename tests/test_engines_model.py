"""End to end with the real embedded models (marked ``model`` and ``slow``; minutes on two cores).

- The default 1.5B model reads seed 001 with ``--engine llm``: every non-zero gold cell is either right
  or flagged by grounding (mismatch/unsupported).
- The 0.5B model hallucinates; the checker's recall against it must be 100%: every cell it gets wrong,
  on every seed, is flagged. Repair is switched off there so that its raw mistakes are all judged.

Answers go through the normal LLM cache, so a rerun on the same machine is quick; a fresh machine (CI)
runs the models for real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.config import RunConfig
from extractor.pipeline import extract_text
from extractor.result import ExtractionResult
from extractor.schema import Report, iter_cells
from tests.shared_data import SHARED

pytestmark = [pytest.mark.model, pytest.mark.slow]

SEEDS = sorted((SHARED / "seeds").glob("*.txt"))
FLAGGED = ("mismatch", "unsupported")


def _gold(seed: Path) -> Report:
    return Report.model_validate(json.loads((SHARED / "gold" / f"{seed.stem}.json").read_text(encoding="utf-8")))


def _same(a: object, b: object) -> bool:
    return a == b or (a in (None, 0, "0") and b in (None, 0, "0"))


def _unflagged_wrong(result: ExtractionResult, gold: Report, nonzero_only: bool) -> dict[str, tuple[object, object, str | None]]:
    got = dict(iter_cells(result.report))
    out: dict[str, tuple[object, object, str | None]] = {}
    for path, want in iter_cells(gold):
        if nonzero_only and want in (None, 0, "0"):
            continue
        value = got.get(path)
        if _same(value, want):
            continue
        ev = result.evidence.get(path)
        status = ev.status if ev is not None else None
        if status not in FLAGGED:
            out[path] = (value, want, status)
    return out


def test_embedded_model_reads_seed_001_with_every_nonzero_cell_right_or_flagged() -> None:
    seed = next(s for s in SEEDS if s.stem.startswith("001"))
    result = extract_text(seed.read_text(encoding="utf-8"), RunConfig(engine="llm"), name=seed.name)
    assert result.status == "ok", result.error
    assert result.meta["llm"]["model"] == "local:qwen2.5-coder-1.5b"
    assert result.meta["llm"]["calls"] + result.meta["llm"]["cache_hits"] >= 4
    assert _unflagged_wrong(result, _gold(seed), nonzero_only=True) == {}


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.stem[:3])
def test_every_cell_the_small_model_gets_wrong_is_flagged(seed: Path) -> None:
    config = RunConfig(engine="llm", model="local:qwen2.5-coder-0.5b", max_repair_rounds=0)
    result = extract_text(seed.read_text(encoding="utf-8"), config, name=seed.name)
    assert result.status == "ok", result.error
    assert _unflagged_wrong(result, _gold(seed), nonzero_only=False) == {}
    # and a flagged cell always carries an extraction finding that names it
    flagged = {p for p, ev in result.evidence.items() if ev.status in FLAGGED}
    named = {c for f in result.findings if f.attribution == "extraction" for c in f.cells}
    assert flagged <= named
