"""The promise on a fixed corpus of generated reports, per flattening: silent wrong cells (must be 0),
cells flagged while right (a reviewer's time), reports blamed wrongly or missed, seconds per report.

    python benchmarks/bench_generated.py                      # 500 reports × 8 text forms + HTML, template engine
    python benchmarks/bench_generated.py --reports 2000 --styles all
    python benchmarks/bench_generated.py --engine llm --reports 3 --styles glued,pipes   # the embedded model
    python benchmarks/bench_generated.py --blank-zeros 0.3    # agencies that leave single zero cells blank

The corpus is seeds 0…N-1 of ``evals.synth.generate``: the same reports on every machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evals.synth.corpus import StyleSummary, run_corpus  # noqa: E402
from evals.synth.flatten import STYLES, TEXT_STYLES  # noqa: E402
from extractor.config import RunConfig  # noqa: E402
from extractor.engine_catalog import ENGINE_NAMES  # noqa: E402


def _row(s: StyleSummary) -> str:
    per = s.seconds / s.reports if s.reports else 0.0
    share = 100 * s.flagged_right / s.cells if s.cells else 0.0
    return (f"| {s.style} | {s.reports} | {s.cells} | {s.wrong} | **{s.silent}** | {s.flagged_right} ({share:.1f}%) "
            f"| {s.false_blame} | {s.missed_blame} | {s.failed} | {per:.3f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--styles", default=",".join([*TEXT_STYLES, "html"]),
                        help=f"comma-separated, or 'all' ({', '.join(STYLES)})")
    parser.add_argument("--engine", default="template", choices=ENGINE_NAMES)
    parser.add_argument("--model", default=None, help="for --engine llm/hybrid, e.g. local:qwen2.5-coder-1.5b")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--blank-zeros", type=float, default=0.0,
                        help="leave this share of each report's zero cells blank, one by one (e.g. 0.3)")
    args = parser.parse_args()
    styles = list(STYLES) if args.styles == "all" else args.styles.split(",")
    config = RunConfig(engine=args.engine, model=args.model) if args.model else RunConfig(engine=args.engine)
    t0 = time.perf_counter()
    summary = run_corpus(range(args.first_seed, args.first_seed + args.reports), styles, args.engine, config,
                         blank_zeros=args.blank_zeros)
    wall = time.perf_counter() - t0
    blanks = f", {args.blank_zeros:.0%} of zero cells blank" if args.blank_zeros else ""
    print(f"generated corpus: seeds {args.first_seed}…{args.first_seed + args.reports - 1}{blanks}, engine {args.engine}, "
          f"{wall:.0f} s")
    print("| form | reports | cells | wrong | silent wrong | flagged but right | false blame | missed blame | failed | s/report |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in summary.values():
        print(_row(s))
    for s in summary.values():
        for example in s.examples:
            print(f"  {s.style}: {example}")
    if args.json:
        args.json.write_text(json.dumps({k: vars(v) for k, v in summary.items()}, ensure_ascii=False, indent=1))
    return 1 if any(s.silent or s.false_blame or s.missed_blame or s.failed for s in summary.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
