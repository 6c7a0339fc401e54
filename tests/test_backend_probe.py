"""The run-here probe: a llama.cpp build that crashes on this CPU is found once, in a child, and said in one line.

The builds here are stand-in ``llama_cpp`` packages on the child's import path that really die the way
broken builds do (SIGSEGV like the AMX path, SIGILL like a build for a newer CPU), or hang. That the real
build runs the real model is the model tests' job (tests/test_backend_model.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from extractor.backends import model_probe
from extractor.backends.llama_build import PORTABLE_CMAKE_ARGS, CpuInfo, cpu_info, describe
from extractor.backends.model_probe import probe
from extractor.cli import main
from extractor.errors import ModelUnavailableError

_FAKE = '''
import os, signal, time
from pathlib import Path
BEHAVIOUR = {behaviour!r}
def llama_print_system_info():
    return {system_info!r}.encode()
class Llama:
    def __init__(self, model_path, **kwargs):
        runs = Path({runs!r})
        runs.write_text(str(int(runs.read_text()) + 1 if runs.exists() else 1))
    def create_completion(self, prompt, max_tokens, temperature):
        if BEHAVIOUR == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        if BEHAVIOUR == "sigill":
            os.kill(os.getpid(), signal.SIGILL)
        if BEHAVIOUR == "hang":
            time.sleep(60)
        return {{"choices": [{{"text": " 12"}}]}}
'''
AMX_INFO = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 | "
PORTABLE_INFO = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | OPENMP = 1 | "


class FakeBuild:
    """A ``llama_cpp`` package that this process and its children import instead of the real one."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.runs = root / "runs"
        self.lib = root / "site" / "llama_cpp" / "lib" / "libllama.so"
        self.lib.parent.mkdir(parents=True)
        self.lib.write_bytes(b"\0" * 64)
        monkeypatch.syspath_prepend(str(root / "site"))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root / "site"), os.environ.get("PYTHONPATH", "")]))
        monkeypatch.delitem(sys.modules, "llama_cpp", raising=False)
        self.gguf = root / "model.gguf"
        self.gguf.write_bytes(b"GGUF" + b"\0" * 60)

    def behave(self, behaviour: str, system_info: str = AMX_INFO) -> "FakeBuild":
        code = _FAKE.format(behaviour=behaviour, system_info=system_info, runs=str(self.runs))
        (self.lib.parent.parent / "__init__.py").write_text(code, encoding="utf-8")
        return self

    def reinstall(self) -> None:
        self.lib.write_bytes(b"\1" * 128)  # a rebuilt library: other size and mtime

    @property
    def child_runs(self) -> int:
        return int(self.runs.read_text()) if self.runs.exists() else 0


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBuild:
    return FakeBuild(tmp_path / "build", monkeypatch)


def test_a_build_that_segfaults_is_one_line_naming_the_portable_rebuild(fake: FakeBuild, tmp_path: Path) -> None:
    result = probe(fake.behave("segv").gguf, tmp_path / "cache")
    assert not result.ok and not result.cached
    assert "SIGSEGV" in result.message and "AMX" in result.message and "native with AMX" in result.message
    text = str(result.error())
    assert "\n" not in text
    assert PORTABLE_CMAKE_ARGS in text and "--no-cache-dir" in text and "--engine template" in text
    assert isinstance(result.error(), ModelUnavailableError) and result.error().exit_code == 4


def test_the_answer_is_kept_per_build_model_and_cpu(fake: FakeBuild, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert not probe(fake.behave("segv").gguf, cache).ok
    model_probe._memo.clear()  # as in a new process: the answer comes from the disk
    again = probe(fake.gguf, cache)
    assert not again.ok and again.cached and fake.child_runs == 1

    fake.behave("ok", PORTABLE_INFO).reinstall()
    fixed = probe(fake.gguf, cache)
    assert fixed.ok and not fixed.cached and fake.child_runs == 2
    assert "portable AVX2" in fixed.message
    assert probe(fake.gguf, cache).cached and fake.child_runs == 2
    assert not probe(fake.gguf, cache, recheck=True).cached and fake.child_runs == 3


def test_sigill_on_a_cpu_without_avx2_says_so(fake: FakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = CpuInfo("x86_64", "Intel(R) Celeron(R) CPU N2840", frozenset({"sse4_2", "avx"}))
    monkeypatch.setattr(model_probe, "cpu_info", lambda: old)
    result = probe(fake.behave("sigill", PORTABLE_INFO).gguf, tmp_path / "cache")
    assert not result.ok and "SIGILL" in result.message
    assert result.hint is not None and "no AVX2" in result.hint and "-DGGML_AVX2=OFF" in result.hint


def test_a_timeout_is_not_kept(fake: FakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_probe, "PROBE_TIMEOUT_S", 2.0)
    result = probe(fake.behave("hang").gguf, tmp_path / "cache")
    assert not result.ok and "within 2s" in result.message
    fake.behave("ok", PORTABLE_INFO)
    assert probe(fake.gguf, tmp_path / "cache").ok


def test_first_use_fails_before_any_server_starts(fake: FakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import BaseModel

    from extractor.backends import llama_server
    from extractor.backends.client import make_llm
    from extractor.config import RunConfig

    class Answer(BaseModel):
        total: int

    fake.behave("segv")
    monkeypatch.setenv("NIANBAO_MODEL_PATH", str(fake.gguf))
    started: list[object] = []
    monkeypatch.setattr(llama_server.LlamaServer, "start", lambda self, progress=None: started.append(self))
    llm = make_llm(RunConfig(model="local:qwen2.5-coder-0.5b", use_cache=False, cache_dir=tmp_path / "cache"))
    with pytest.raises(ModelUnavailableError) as info:
        llm.ask("s", "u", Answer)
    assert "SIGSEGV" in str(info.value) and not started
    with pytest.raises(ModelUnavailableError):
        llm.ask("s", "u", Answer)
    assert fake.child_runs == 1  # the second ask is answered from the kept result


def test_model_status_runs_the_probe_and_exits_4_when_the_model_cannot_run(
        fake: FakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NIANBAO_MODEL_PATH", str(fake.behave("segv").gguf))
    args = ["model", "status", "--name", "qwen2.5-coder-0.5b", "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 4
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if "无法运行" in x]
    assert "SIGSEGV" in line and PORTABLE_CMAKE_ARGS in line
    assert "AVX2" in out.splitlines()[0] or "no AVX2" in out.splitlines()[0]  # the machine line

    fake.behave("ok", PORTABLE_INFO).reinstall()
    assert main(args) == 0
    assert "可以运行" in capsys.readouterr().out
    assert main([*args, "--no-run"]) == 0
    assert "运行" not in capsys.readouterr().out


def test_build_descriptions() -> None:
    assert describe(AMX_INFO) == "native with AMX"
    assert describe(PORTABLE_INFO) == "portable AVX2"
    assert describe("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | ") == "AVX-512"
    assert describe("", ["haswell", "icelake"]) == "runtime CPU dispatch (2 variants)"
    assert cpu_info(Path("/nonexistent")).flags == frozenset()


def test_an_error_with_an_outside_cause_is_said_but_not_kept(fake: FakeBuild, tmp_path: Path) -> None:
    fake.behave("ok", PORTABLE_INFO)
    (fake.lib.parent.parent / "__init__.py").write_text(
        "def llama_print_system_info():\n    return b''\n"
        "class Llama:\n    def __init__(self, model_path, **kw):\n        raise ValueError('Failed to load model from file')\n",
        encoding="utf-8")
    result = probe(fake.gguf, tmp_path / "cache")
    assert not result.ok and result.transient and "Failed to load model" in result.message
    fake.behave("ok", PORTABLE_INFO)
    assert probe(fake.gguf, tmp_path / "cache").ok  # asked again, not answered from the failure
