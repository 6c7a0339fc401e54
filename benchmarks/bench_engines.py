"""Seconds and tokens per report per engine on the seeds, with the embedded model by default.

    .venv/bin/python benchmarks/bench_engines.py                      # all engines, all seeds
    .venv/bin/python benchmarks/bench_engines.py --engine llm --seed 001 --model local:qwen2.5-coder-0.5b

The LLM cache is off (``use_cache=False``) so every number is a real model run; ``--cached`` measures a
rerun instead. Cell accuracy against the gold is printed beside the cost so speed is never bought with
silent mistakes (a cell counts as right when it equals the gold, blank and 0 alike).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.config import RunConfig  # noqa: E402
from extractor.engine_catalog import ENGINE_NAMES as ENGINES  # noqa: E402
from extractor.pipeline import extract_text  # noqa: E402
from extractor.schema import Report, iter_cells  # noqa: E402

# the seeds as the repo carries them (evals/samples equals ../shared, tested): NAME.txt beside its gold NAME.json
SAMPLES = ROOT / "evals" / "samples"


def score(report: Report, gold: Report, evidence: dict[str, Any]) -> dict[str, int]:
    got = dict(iter_cells(report))
    wrong = flagged = 0
    cells = 0
    for path, want in iter_cells(gold):
        cells += 1
        value = got.get(path)
        if value == want or (value in (None, 0, "0") and want in (None, 0, "0")):
            continue
        wrong += 1
        ev = evidence.get(path)
        if ev is not None and ev.status in ("mismatch", "unsupported"):
            flagged += 1
    return {"cells": cells, "wrong": wrong, "wrong_flagged": flagged}


def run(engines: list[str], seeds: list[Path], model: str | None, cached: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for engine in engines:
        for seed in seeds:
            gold_path = SAMPLES / f"{seed.stem}.json"
            gold = Report.model_validate(json.loads(gold_path.read_text(encoding="utf-8")))
            settings: dict[str, Any] = {"engine": engine, "use_cache": cached}
            if model:
                settings["model"] = model
            started = time.perf_counter()
            try:
                result = extract_text(seed.read_text(encoding="utf-8"), RunConfig(**settings), name=seed.name)
                error = result.error
            except Exception as exc:  # noqa: BLE001 - a benchmark row reports any failure and goes on
                rows.append({"engine": engine, "seed": seed.stem[:3], "error": f"{type(exc).__name__}: {exc}"})
                print(f"{engine:9s} {seed.stem[:3]}  FAILED  {type(exc).__name__}: {exc}", flush=True)
                continue
            seconds = time.perf_counter() - started
            llm = result.meta.get("llm", {})
            row = {
                "engine": engine, "seed": seed.stem[:3], "seconds": round(seconds, 2),
                "tokens_in": llm.get("tokens_in", 0), "tokens_out": llm.get("tokens_out", 0),
                "calls": llm.get("calls", 0), "repair_rounds": llm.get("repair_rounds", 0),
                "cache_hits": llm.get("cache_hits", 0), "error": error,
                **score(result.report, gold, result.evidence),
                "timings_s": result.meta.get("timings_s", {}),
            }
            rows.append(row)
            print(
                f"{engine:9s} {row['seed']}  {row['seconds']:8.1f}s  in {row['tokens_in']:6d}  out {row['tokens_out']:5d}"
                f"  calls {row['calls']:2d}  repair {row['repair_rounds']}  wrong {row['wrong']:3d}/{row['cells']}"
                f" (flagged {row['wrong_flagged']})",
                flush=True,
            )
    return rows


def summarize(rows: list[dict[str, Any]]) -> None:
    print("\nper engine (mean per report):")
    for engine in dict.fromkeys(r["engine"] for r in rows):
        ok = [r for r in rows if r["engine"] == engine and "seconds" in r]
        if not ok:
            print(f"  {engine:9s} no successful report")
            continue
        n = len(ok)
        print(
            f"  {engine:9s} {sum(r['seconds'] for r in ok) / n:8.1f}s  tokens in {sum(r['tokens_in'] for r in ok) / n:8.0f}"
            f"  out {sum(r['tokens_out'] for r in ok) / n:6.0f}  wrong cells {sum(r['wrong'] for r in ok)}"
            f"  of which flagged {sum(r['wrong_flagged'] for r in ok)}  ({n} reports)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=ENGINES, help="engine(s) to run (default: all)")
    parser.add_argument("--seed", action="append", help="seed id prefix such as 001 (default: all seeds)")
    parser.add_argument("--model", help="model id, e.g. local:qwen2.5-coder-1.5b (default: RunConfig's)")
    parser.add_argument("--cached", action="store_true", help="use the LLM cache (measures a rerun)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    seeds = sorted(SAMPLES.glob("0*.txt"))
    if args.seed:
        seeds = [s for s in seeds if any(s.stem.startswith(p) for p in args.seed)]
    rows = run(args.engine or list(ENGINES), seeds, args.model, args.cached)
    summarize(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
