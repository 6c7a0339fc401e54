"""Template reader speed on the seeds and the development set (target: under 20 ms per report, one core).

Run: python benchmarks/bench_template.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from extractor.config import RunConfig
from extractor.pipeline import extract_text
from extractor.reader import template_reader

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    shared = ROOT.parent / "shared"
    files = sorted((shared / "seeds").glob("*.txt")) + sorted((shared / "devset").glob("d*.txt"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    config = RunConfig(engine="template")
    per_report: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            template_reader.clear_cache()  # measure real reading, not the cache
            t0 = time.perf_counter()
            extract_text(text, config)
            per_report.append(time.perf_counter() - t0)
    mean = statistics.mean(per_report)
    print(f"template engine, full pipeline (normalize, read, ground, check) on {len(texts)} reports × {args.rounds} rounds")
    print(f"  mean   {mean * 1000:7.2f} ms/report   ({1 / mean:6.1f} reports/s)")
    print(f"  median {statistics.median(per_report) * 1000:7.2f} ms/report")
    print(f"  p95    {sorted(per_report)[int(len(per_report) * 0.95)] * 1000:7.2f} ms/report")
    print(f"  target 20 ms/report: {'met' if mean < 0.020 else 'NOT met'}")


if __name__ == "__main__":
    main()
