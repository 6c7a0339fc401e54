"""Benchmark llama.cpp thread counts for the embedded model: prompt reading and answer writing apart.

    .venv/bin/python benchmarks/bench_llm_threads.py                  # threads 1 and 2, 3 alternating rounds
    .venv/bin/python benchmarks/bench_llm_threads.py --threads 1,2,4 --rounds 5

The two phases scale differently: reading a prompt is a few large matrix products per layer (work that
splits well across threads), writing an answer is one token at a time (little work per layer, so the
threads spend their time waiting for each other at llama.cpp's per-layer barrier, and a thread that the
OS deschedules stalls all the others). So each round loads the model once per thread count, reads the
same real section prompt (table 三 of a sample report) from an empty context and writes a fixed number
of tokens, and prints tokens per second for both phases with the load average before and after; the
counts alternate round by round so a change in the machine's load hits them alike. ``--busy N`` adds N
processes that spin on a core each for the whole run: a controlled stand-in for the other work of a
shared machine. This is what chose ``extractor.backends.llama_server.default_threads``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def section_prompt(sample: str) -> str:
    """The first-pass table 三 prompt of a sample, as the llm engine sends it (system + user, ChatML)."""
    from extractor.config import RunConfig
    from extractor.engines.llm_engine import LLMSectionAsker, guess_template
    from extractor.ingest import load_path
    from extractor.llm_sections import detect_single_other_row, section3_spec
    from extractor.normalize import normalize
    from extractor.sections import analyze_layout

    source = next(p for p in sorted((ROOT / "evals" / "samples").glob(f"{sample}.*")) if p.suffix != ".json")
    norm = normalize(load_path(source).text)
    layout = analyze_layout(norm)
    asker = LLMSectionAsker(RunConfig(engine="llm"), norm, layout, llm_factory=lambda c: None)  # type: ignore[arg-type,return-value]
    single = detect_single_other_row(asker.section_text(3), guess_template(layout))
    user = asker.prompt(section3_spec(single))
    return f"<|im_start|>system\n{asker._system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def measure(gguf: Path, threads: int, prompt: str, answer_tokens: int) -> tuple[int, float, float]:
    from llama_cpp import Llama

    llm = Llama(str(gguf), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False)
    try:
        tokens = llm.tokenize(prompt.encode("utf-8"), special=True)
        began = time.perf_counter()
        llm.eval(tokens)
        read_s = time.perf_counter() - began
        began = time.perf_counter()
        written = 0
        for _token in llm.generate(tokens, temp=0.0):  # the prompt is in the KV cache: only new tokens run
            written += 1
            if written >= answer_tokens:
                break
        write_s = time.perf_counter() - began
    finally:
        llm.close()
    return len(tokens), len(tokens) / read_s, written / write_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--sample", default="d002", help="sample whose table 三 prompt is read (default d002)")
    parser.add_argument("--answer-tokens", type=int, default=48, help="tokens to write per round (default 48)")
    parser.add_argument("--busy", type=int, default=0, help="spinning processes to run alongside (default 0)")
    args = parser.parse_args(argv)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(0, args.busy))]
    try:
        return _run(args)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _run(args: argparse.Namespace) -> int:
    from extractor.backends.embedded_model import MODEL_PATH_ENV, ensure_model
    from extractor.config import RunConfig

    override = os.environ.get(MODEL_PATH_ENV)
    gguf = Path(override) if override else ensure_model("qwen2.5-coder-1.5b", RunConfig().cache_dir)
    prompt = section_prompt(args.sample)
    counts = [int(t) for t in args.threads.split(",") if t.strip()]
    print(f"cpu cores: {os.cpu_count()}   model: {gguf.name}   sample: {args.sample}   busy processes: {args.busy}")
    print(f"{'round':>5} {'threads':>7} {'prompt tok':>10} {'read tok/s':>10} {'write tok/s':>11}  load before → after")
    results: dict[int, list[tuple[float, float]]] = {c: [] for c in counts}
    for round_no in range(1, args.rounds + 1):
        for count in counts:
            before = loadavg()
            n, read_rate, write_rate = measure(gguf, count, prompt, args.answer_tokens)
            results[count].append((read_rate, write_rate))
            print(f"{round_no:>5} {count:>7} {n:>10} {read_rate:>10.1f} {write_rate:>11.1f}  {before} → {loadavg()}", flush=True)
    for count, rates in results.items():
        reads = sorted(r for r, _ in rates)
        writes = sorted(w for _, w in rates)
        print(f"threads {count}: read median {reads[len(reads) // 2]:.1f} tok/s, write median {writes[len(writes) // 2]:.1f} tok/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
