"""Benchmark the LLM engine on real reports: prompt and answer tokens, seconds per call and per report.

    .venv/bin/python benchmarks/bench_llm_backend.py                        # 2 samples, default threads
    .venv/bin/python benchmarks/bench_llm_backend.py --threads 1,2 --rounds 2   # compare thread counts
    .venv/bin/python benchmarks/bench_llm_backend.py --sample d002 --sample d011 --model openai:deepseek-chat

Each report is read by ``--engine llm`` exactly as ``nianbao extract`` reads it, with the answer cache
off, so every call reaches the model. For each report it prints the tokens, calls and seconds of each
kind of call (header, 二, 三, 四, repair) and the machine's load average before and after: on a shared
machine the seconds mean little without it. ``--threads`` runs every thread count in its own process
(a fresh local server each), alternating ``--rounds`` times so a change in load hits all counts alike;
``NIANBAO_THREADS`` is what it sets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.config import DEFAULT_MODEL  # noqa: E402

SAMPLES_DIR = ROOT / "evals" / "samples"
DEFAULT_SAMPLES = ("d002", "001_8d25aa58008aa371")
KINDS = ("header", "section2", "section3", "section4", "repair")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def read_reports(model: str, samples: list[str]) -> list[dict[str, Any]]:
    """Read each sample with the llm engine (cache off); one record of figures per report."""
    from extractor.config import RunConfig
    from extractor.pipeline import extract_path

    config = RunConfig(engine="llm", model=model, use_cache=False)
    records = []
    for name in samples:
        source = next(p for p in sorted(SAMPLES_DIR.glob(f"{name}.*")) if p.suffix != ".json")
        before = loadavg()
        began = time.perf_counter()
        result = extract_path(source, config)
        llm = result.meta.get("llm", {})
        records.append({
            "sample": name, "status": result.status, "seconds": time.perf_counter() - began,
            "tokens_in": llm.get("tokens_in", 0), "tokens_out": llm.get("tokens_out", 0),
            "calls": llm.get("calls", 0), "by_section": llm.get("by_section", {}),
            "load_before": before, "load_after": loadavg(), "threads": os.environ.get("NIANBAO_THREADS", "default"),
        })
    return records


def print_records(records: list[dict[str, Any]]) -> None:
    head = f"{'report':<22} {'thr':>3} {'s':>7} {'in':>6} {'out':>5} {'calls':>5}  " + "  ".join(
        f"{k + ' in/out/s':>22}" for k in KINDS) + "  load before → after"
    print(head)
    for r in records:
        by = r["by_section"]
        parts = [
            f"{by[k]['tokens_in']:>6}/{by[k]['tokens_out']:>4}/{by[k]['seconds']:>6.1f}s" if k in by else f"{'—':>22}"
            for k in KINDS
        ]
        print(f"{r['sample']:<22} {r['threads']:>3} {r['seconds']:>7.1f} {r['tokens_in']:>6} {r['tokens_out']:>5} "
              f"{r['calls']:>5}  " + "  ".join(f"{p:>22}" for p in parts) + f"  {r['load_before']} → {r['load_after']}")
    n = len(records) or 1
    print(f"{'mean':<22} {'':>3} {sum(r['seconds'] for r in records) / n:>7.1f} "
          f"{sum(r['tokens_in'] for r in records) / n:>6.0f} {sum(r['tokens_out'] for r in records) / n:>5.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("NIANBAO_MODEL", DEFAULT_MODEL))
    parser.add_argument("--sample", action="append", help=f"sample name in evals/samples (default: {', '.join(DEFAULT_SAMPLES)})")
    parser.add_argument("--threads", help="comma-separated llama thread counts to compare, e.g. 1,2 (local models)")
    parser.add_argument("--rounds", type=int, default=1, help="how often to alternate the thread counts (default 1)")
    parser.add_argument("--json", dest="json_out", type=Path, help="also write every record to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    samples = args.sample or list(DEFAULT_SAMPLES)

    if args.child:  # one process per thread count: its own local server
        print(json.dumps(read_reports(args.model, samples)))
        return 0
    print(f"model: {args.model}   cpu cores: {os.cpu_count()}   load: {loadavg()}", flush=True)
    records: list[dict[str, Any]] = []
    if not args.threads:
        records = read_reports(args.model, samples)
    else:
        counts = [t.strip() for t in args.threads.split(",") if t.strip()]
        for _ in range(max(1, args.rounds)):
            for count in counts:
                env = {**os.environ, "NIANBAO_THREADS": count}
                cmd = [sys.executable, __file__, "--child", "--model", args.model] + [a for s in samples for a in ("--sample", s)]
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(f"threads {count}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                    continue
                batch = json.loads(done.stdout.strip().splitlines()[-1])
                print_records(batch)
                records.extend(batch)
    print_records(records)
    if args.json_out:
        args.json_out.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
