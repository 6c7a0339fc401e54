"""Can the installed llama.cpp build run the embedded model on this machine? Asked once, in a child.

A llama.cpp build that does not fit the CPU does not fail politely: it dies with SIGSEGV (the AMX
path of a native build on Sapphire Rapids-class CPUs) or SIGILL (a build for newer instructions than
the CPU has). Found in the middle of a batch, that costs every report. So before the first use of
the local model (and in ``nianbao model status``) a child process loads the GGUF and writes a few
tokens; how it ends becomes one line with what to do.

The answer is kept on disk under the cache directory, keyed by everything that could change it: the
build's library files, the model file and the CPU. A reinstall, another model or another machine
asks again; otherwise the answer costs a file read.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from extractor.backends.llama_build import (
    NO_AVX2_CMAKE_ARGS,
    CpuInfo,
    InstalledBuild,
    cpu_info,
    describe,
    installed_build,
    reinstall_command,
)
from extractor.errors import ModelUnavailableError

Progress = Callable[[str], None]

PROBE_TIMEOUT_S = float(os.environ.get("NIANBAO_PROBE_TIMEOUT_S", "300"))
# Long enough to go through llama.cpp's batched matrix kernels (where the AMX path lives), short
# enough to cost about a second; the answer is not judged, only that one comes back.
PROBE_PROMPT = (
    "政府信息公开工作年度报告 第三部分 收到和处理政府信息公开申请情况：本年新收政府信息公开申请数量 12 件，"
    "上年结转政府信息公开申请数量 0 件，予以公开 7 件，部分公开 2 件，不予公开 1 件，无法提供 2 件。"
    "Question: how many applications were received this year? Answer:"
)
PROBE_TOKENS = 4

# The child prints the build's features before it loads anything, so a crash still says what ran.
_CHILD = """
import json, sys, time
path, threads, prompt, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
import llama_cpp
print(json.dumps({"system_info": llama_cpp.llama_print_system_info().decode("utf-8", "replace")}), flush=True)
began = time.perf_counter()
llm = llama_cpp.Llama(model_path=path, n_ctx=512, n_threads=threads, n_threads_batch=threads, verbose=False)
out = llm.create_completion(prompt, max_tokens=n, temperature=0.0)
print(json.dumps({"ok": True, "text": out["choices"][0]["text"], "seconds": time.perf_counter() - began,
                  "system_info": llama_cpp.llama_print_system_info().decode("utf-8", "replace")}), flush=True)
"""

_SIGNALS = {signal.SIGSEGV: "SIGSEGV (segmentation fault)", signal.SIGILL: "SIGILL (illegal instruction)",
            signal.SIGBUS: "SIGBUS", signal.SIGABRT: "SIGABRT (abort)", signal.SIGKILL: "SIGKILL"}


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str  # one line: how the test completion went
    hint: str | None = None  # what to do about a failure
    hint_zh: str | None = None
    build: str = ""  # a few words on the build ("portable AVX2", "native with AMX")
    system_info: str = ""
    seconds: float = 0.0
    transient: bool = False  # a timeout or an outside cause: says nothing about the build, so it is not kept
    cached: bool = False

    def error(self) -> ModelUnavailableError:
        return ModelUnavailableError(self.message, hint=self.hint, hint_zh=self.hint_zh)


def probe_key(gguf: Path, build: InstalledBuild | None, cpu: CpuInfo) -> str:
    try:
        st = gguf.stat()
        model: list[object] = [str(gguf.resolve()), st.st_size, st.st_mtime_ns]
    except OSError:
        model = [str(gguf), None, None]
    identity = {
        "build": build.identity() if build is not None else None,
        "model": model,
        "cpu": [cpu.machine, cpu.model, sorted(cpu.flags)],
        "probe": [PROBE_PROMPT, PROBE_TOKENS, _CHILD],
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


def _cache_file(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "probe" / f"{key}.json"


def _read_cached(path: Path) -> ProbeResult | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["cached"] = True
        return ProbeResult(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_cached(path: Path, result: ProbeResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


_OTHERS = "or use --engine template, or an openai: endpoint (NIANBAO_MODEL)"


def _failure_advice(cpu: CpuInfo) -> tuple[str, str]:
    """(hint, hint_zh) for a build that crashes on this CPU."""
    pip = f"{sys.executable} -m pip"  # the interpreter that runs nianbao, whichever environment that is
    if cpu.is_x86 and not cpu.has_avx2:
        return (
            f"this CPU has no AVX2; rebuild without it (slow): {reinstall_command(NO_AVX2_CMAKE_ARGS, pip)}; {_OTHERS}",
            "本机 CPU 不支持 AVX2，请按提示重新编译 llama-cpp-python，或改用 --engine template / openai: 远程模型",
        )
    return (
        f"rebuild the portable llama.cpp: {reinstall_command(pip=pip)}; {_OTHERS}",
        "本机无法运行当前编译的 llama.cpp，请按提示以可移植参数重新安装 llama-cpp-python，或改用 --engine template / openai: 远程模型",
    )


def _signal_name(number: int) -> str:
    try:
        sig = signal.Signals(number)
    except ValueError:
        return f"signal {number}"
    return _SIGNALS.get(sig, sig.name)


def run_probe(gguf: Path, n_threads: int = 1, timeout_s: float | None = None) -> ProbeResult:
    """Load ``gguf`` and write a few tokens in a child process; never raises for a crash."""
    timeout_s = PROBE_TIMEOUT_S if timeout_s is None else timeout_s
    cpu = cpu_info()
    build = installed_build()
    variants = build.cpu_variants if build is not None else []
    cmd = [sys.executable, "-c", _CHILD, str(gguf), str(n_threads), PROBE_PROMPT, str(PROBE_TOKENS)]
    began = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return ProbeResult(
            ok=False,
            message=f"the embedded model did not finish a {PROBE_TOKENS}-token test completion within {timeout_s:.0f}s",
            hint="the machine may be overloaded; raise NIANBAO_PROBE_TIMEOUT_S or try again",
            hint_zh="本地模型测试运行超时，机器可能过于繁忙，请稍后重试",
            transient=True,
        )
    except OSError as exc:
        return ProbeResult(ok=False, message=f"cannot start a test of the embedded model: {exc}", transient=True)
    seconds = time.monotonic() - began
    system_info, answered = "", False
    for line in proc.stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            system_info = str(record.get("system_info", system_info))
            answered = answered or record.get("ok") is True
    what = describe(system_info, variants)
    if proc.returncode == 0 and answered:
        return ProbeResult(ok=True, message=f"the embedded model runs here ({what} llama.cpp, test completion in {seconds:.1f}s)",
                           build=what, system_info=system_info, seconds=seconds)
    if proc.returncode < 0 and -proc.returncode != signal.SIGKILL:
        # A crash of the build on this CPU: the same build, model and CPU will crash again, so it is kept.
        hint, hint_zh = _failure_advice(cpu)
        return ProbeResult(
            ok=False,
            message=(f"the embedded model cannot run on this machine: llama.cpp ({what}) died with "
                     f"{_signal_name(-proc.returncode)} in a {PROBE_TOKENS}-token test completion"),
            hint=hint, hint_zh=hint_zh, build=what, system_info=system_info, seconds=seconds,
        )
    # Killed from outside (the OOM killer) or an error it reported (memory, a file): not the build's
    # property, so it is said but not kept.
    tail = (proc.stderr or proc.stdout or "").strip().splitlines()
    last = tail[-1][:300] if tail else f"exit code {proc.returncode}"
    if proc.returncode < 0:
        last = "it was killed (SIGKILL; out of memory?)"
    return ProbeResult(
        ok=False,
        message=f"the embedded model failed a test run on this machine: {last}",
        hint=f"{_OTHERS}; after fixing the cause, the next use tests again",
        hint_zh="本地模型测试运行失败，请检查提示中的原因，或改用 --engine template / openai: 远程模型",
        build=what, system_info=system_info, seconds=seconds, transient=True,
    )


_memo: dict[str, ProbeResult] = {}
_memo_lock = threading.Lock()


def probe(gguf: Path, cache_dir: Path, *, n_threads: int = 1, recheck: bool = False,
          progress: Progress | None = None) -> ProbeResult:
    """The probe's answer for this build, model and CPU: from this process, the disk, or a fresh child.

    Crashes and successes are kept; timeouts and errors with an outside cause (memory, a broken file) are not.
    """
    key = probe_key(gguf, installed_build(), cpu_info())
    path = _cache_file(cache_dir, key)
    with _memo_lock:
        if not recheck:
            if key in _memo:
                return _memo[key]
            cached = _read_cached(path)
            if cached is not None:
                _memo[key] = cached
                return cached
        if progress is not None:
            progress("检查本地模型能否在本机运行 testing whether the embedded model runs on this machine…")
        result = run_probe(gguf, n_threads=n_threads)
        if not result.transient:
            _memo[key] = replace(result, cached=True)
            try:
                _write_cached(path, result)
            except OSError:
                pass  # a read-only cache only costs a probe per process
        return result


def ensure_runnable(gguf: Path, cache_dir: Path, *, n_threads: int = 1, progress: Progress | None = None) -> None:
    """Raise ``ModelUnavailableError`` (one line, with what to do) when the model cannot run here."""
    result = probe(gguf, cache_dir, n_threads=n_threads, progress=progress)
    if not result.ok:
        raise result.error()
