"""Template reader speed on the seeds and the development set (target: under 20 ms per report, one core).

Prints CPU time per report (time.process_time: what one core spends, whatever else the machine runs) and
wall time, for the reader alone (normalize, sections, read tables) and for the whole pipeline (plus
grounding and every rule).

Run: python benchmarks/bench_template.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from extractor.config import RunConfig
from extractor.normalize import normalize
from extractor.pipeline import extract_text
from extractor.reader import template_reader
from extractor.sections import analyze_layout

ROOT = Path(__file__).resolve().parents[1]


def _measure(texts: list[str], rounds: int, fn: Callable[[str], object]) -> tuple[list[float], list[float]]:
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(rounds):
        for text in texts:
            template_reader.clear_cache()  # measure real reading, not the cache
            c0, w0 = time.process_time(), time.perf_counter()
            fn(text)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    return cpu, wall


def _reader_only(text: str) -> object:
    norm = normalize(text)
    layout = analyze_layout(norm)
    return template_reader.build_report(template_reader.locate(norm, layout), layout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    # the seeds and devset as the repo carries them (evals/samples equals ../shared, tested)
    files = sorted((ROOT / "evals" / "samples").glob("*.txt"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    config = RunConfig(engine="template")
    print(f"{len(texts)} reports (seeds + devset) × {args.rounds} rounds")
    for name, fn in (("template reader", _reader_only), ("full pipeline", lambda t: extract_text(t, config))):
        cpu, wall = _measure(texts, args.rounds, fn)
        mean_cpu = statistics.mean(cpu)
        print(f"{name:16s} CPU  mean {mean_cpu * 1000:6.2f} ms  median {statistics.median(cpu) * 1000:6.2f} ms"
              f"  p95 {sorted(cpu)[int(len(cpu) * 0.95)] * 1000:6.2f} ms  → {1 / mean_cpu:6.1f} reports/s per core")
        print(f"{'':16s} wall mean {statistics.mean(wall) * 1000:6.2f} ms")
        print(f"{'':16s} target 20 ms/report: {'met' if mean_cpu < 0.020 else 'NOT met'}")


if __name__ == "__main__":
    main()
