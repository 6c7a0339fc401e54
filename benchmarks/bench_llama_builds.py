"""Benchmark llama-cpp-python builds side by side: prompt and generation tokens/s of the embedded model.

    .venv/bin/python benchmarks/bench_llama_builds.py                  # the installed build only
    .venv/bin/python benchmarks/bench_llama_builds.py \\
        --build native=/tmp/builds/native/site --build dispatch=/tmp/builds/dispatch/site

A ``--build NAME=DIR`` is a directory holding another build's ``llama_cpp`` package (an unpacked wheel:
``python -m zipfile -e llama_cpp_python-*.whl DIR``); it is imported instead of the installed one. Each
build runs in its own child process, so a build that crashes on this CPU (the native build's AMX path on
Sapphire Rapids) is reported as crashed, with its signal, and the others are still measured. Each
measurement reads the same prompt (a real report's section 三) in one batch and then writes tokens one
at a time; builds take turns, ``--reps`` rounds, and the best round of each is shown (the machine is
shared: the best round is the one least disturbed).

The README's figures come from this script. Nothing is asserted: timings are figures, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.backends.embedded_model import ensure_model  # noqa: E402
from extractor.backends.llama_build import compiled_features, cpu_info, describe, installed_build  # noqa: E402
from extractor.backends.llama_server import default_threads  # noqa: E402
from extractor.config import DEFAULT_MODEL, default_cache_dir  # noqa: E402

SAMPLE = ROOT / "evals" / "samples" / "d004.txt"

# One measurement in a fresh process. A runtime-dispatch build (GGML_BACKEND_DL) keeps its CPU variants
# as libggml-cpu-*.so files, and llama-cpp-python 0.3.36's wheel puts them in site-packages/bin, where
# llama.cpp never looks (it searches beside the python executable and the working directory): the child
# loads the best one itself, with llama.cpp's own scoring.
_CHILD = r"""
import ctypes, json, sys, time
from pathlib import Path
model, text, n_prompt, n_gen, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
import llama_cpp
lib = Path(llama_cpp.__file__).parent / "lib"
variants = []
for folder in (lib, lib.parent.parent / "bin"):
    found = sorted(p.name for p in folder.glob("libggml-cpu-*.so"))
    if found:
        variants = found
        # the library libllama.so was linked against (its SONAME, libggml.so.0): a wheel holds copies, not
        # links, of libggml.so*, and a second copy would be a second, empty backend registry
        ggml = ctypes.CDLL(str(min(lib.glob("libggml.so.*"), key=lambda p: len(p.name), default=lib / "libggml.so")))
        ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load_all_from_path(str(folder).encode())
        break
print(json.dumps({"variants": [v[len("libggml-cpu-"):-3] for v in variants]}), flush=True)
began = time.perf_counter()
llm = llama_cpp.Llama(model_path=model, n_ctx=n_prompt + n_gen + 64, n_batch=512, n_threads=threads,
                      n_threads_batch=threads, verbose=False)
loaded = time.perf_counter() - began
info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
print(json.dumps({"system_info": info, "load_s": loaded}), flush=True)
tokens = llm.tokenize(text.encode("utf-8"))[:n_prompt]
t0 = time.perf_counter()
generator = llm.generate(tokens, temp=0.0, reset=True)
next(generator)  # the whole prompt is read in one batch before the first token comes out
t1 = time.perf_counter()
for _ in range(n_gen - 1):
    next(generator)
t2 = time.perf_counter()
print(json.dumps({"prompt_tokens": len(tokens), "prompt_tps": len(tokens) / (t1 - t0),
                  "gen_tokens": n_gen - 1, "gen_tps": (n_gen - 1) / (t2 - t1)}), flush=True)
"""


@dataclass
class Build:
    name: str
    site: Path | None  # None: the installed package
    rounds: list[dict[str, float]] = field(default_factory=list)
    system_info: str = ""
    variants: list[str] = field(default_factory=list)
    crashed: str | None = None
    load_s: float | None = None

    def best(self, key: str) -> float | None:
        values = [r[key] for r in self.rounds if key in r]
        return max(values) if values else None


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def measure(build: Build, model: Path, text: str, n_prompt: int, n_gen: int, threads: int, timeout_s: float) -> None:
    env = dict(os.environ)
    if build.site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(build.site), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-c", _CHILD, str(model), text, str(n_prompt), str(n_gen), str(threads)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s, check=False,
                              stdin=subprocess.DEVNULL, cwd="/")  # not the repo: no stray llama_cpp on the path
    except subprocess.TimeoutExpired:
        build.crashed = build.crashed or f"no answer within {timeout_s:.0f}s"
        return
    round_: dict[str, float] = {}
    for line in proc.stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        build.variants = record.get("variants", build.variants)
        build.system_info = record.get("system_info", build.system_info)
        if "load_s" in record:
            build.load_s = min(build.load_s or record["load_s"], record["load_s"])
        round_.update({k: v for k, v in record.items() if k.endswith(("_tps", "_tokens"))})
    if proc.returncode != 0:
        if proc.returncode < 0:
            build.crashed = f"crashed: {_signal_name(proc.returncode)}"
        else:
            tail = (proc.stderr or "").strip().splitlines()
            build.crashed = f"failed: {tail[-1][:200] if tail else proc.returncode}"
        return
    if "prompt_tps" in round_:
        build.rounds.append(round_)


def _parse_build(spec: str) -> Build:
    name, sep, site = spec.partition("=")
    if not sep or not Path(site).joinpath("llama_cpp").is_dir():
        raise SystemExit(f"--build wants NAME=DIR with DIR/llama_cpp inside; got {spec!r}")
    return Build(name, Path(site).resolve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="append", default=[], metavar="NAME=DIR",
                        help="another build's site directory (repeatable)")
    parser.add_argument("--model", default=DEFAULT_MODEL.partition(":")[2], help="embedded model name")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="llama.cpp threads (default: as the embedded server uses)")
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3, help="rounds; the best of each build is shown")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per measurement")
    args = parser.parse_args(argv)

    cpu = cpu_info()
    installed = installed_build()
    model = ensure_model(args.model, default_cache_dir(), progress=lambda m: print(m, file=sys.stderr))
    text = SAMPLE.read_text(encoding="utf-8")
    builds = ([Build("installed", None)] if installed is not None else []) + [_parse_build(b) for b in args.build]
    if not builds:
        print("llama-cpp-python is not installed and no --build was given", file=sys.stderr)
        return 2

    print(f"CPU: {cpu.model} ({cpu.machine}); {os.cpu_count()} cores")
    print(f"CPU flags: {' '.join(cpu.notable_flags()) or '(none found)'}")
    print(f"model: {model.name} ({model.stat().st_size / 1e9:.2f} GB); threads: {args.threads}; "
          f"prompt {args.prompt_tokens} tokens, then {args.gen_tokens} generated; best of {args.reps} rounds")
    for rep in range(args.reps):
        for build in builds:
            if build.crashed is None or rep == 0:
                measure(build, model, text, args.prompt_tokens, args.gen_tokens, args.threads, args.timeout)
        print(f"  round {rep + 1}/{args.reps} done", file=sys.stderr)

    print()
    print(f"{'build':<14} {'prompt tok/s':>12} {'gen tok/s':>10} {'load s':>7}  what")
    for build in builds:
        what = describe(build.system_info, build.variants)
        if build.variants:
            chosen = [f for f in compiled_features(build.system_info) if f.startswith(("AVX512", "AMX", "AVX_VNNI"))]
            what += f", loaded {'+'.join(chosen) or 'AVX2'}"
        if build.crashed and not build.rounds:
            print(f"{build.name:<14} {build.crashed:>31}  {what}")
            continue
        prompt, gen = build.best("prompt_tps"), build.best("gen_tps")
        load = f"{build.load_s:.1f}" if build.load_s is not None else "-"
        print(f"{build.name:<14} {prompt or 0:>12.1f} {gen or 0:>10.2f} {load:>7}  {what}")
    if installed is not None:
        first = builds[0]
        print()
        print(f"installed: llama-cpp-python {installed.version} at {installed.lib_dir.parent} "
              f"({describe(first.system_info, first.variants)})")
        if first.system_info:
            print(f"  {first.system_info.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
