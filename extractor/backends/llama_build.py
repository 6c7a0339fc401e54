"""Which llama.cpp build is installed, what this CPU offers, and the build that runs on every x86-64 CPU.

llama-cpp-python compiles llama.cpp when it is installed from its sdist, and by default for the
building machine (``GGML_NATIVE``). On a Sapphire Rapids-class CPU that turns on llama.cpp's AMX path,
which segfaults on the first completion; a build copied to an older CPU dies with SIGILL. The build
this project installs fixes the instruction set at AVX2 (benchmarks/bench_llama_builds.py measured it
against the native build and llama.cpp's runtime CPU dispatch). Nothing here runs llama.cpp: the
build is told apart by its files, or by what its libraries say they were compiled for (loading them is
harmless; running them is what crashes, and that happens in a child process, ``model_probe``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
from dataclasses import dataclass
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"
# The build the README and .ci/run install: AVX2/FMA/F16C, no -march=native (so no AMX, no AVX-512).
PORTABLE_CMAKE_ARGS = "-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
# For x86-64 CPUs without AVX2 (rare: before 2013 Haswell, some Atom/Celeron): slow, but it runs.
NO_AVX2_CMAKE_ARGS = "-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF"

_LIB_SUFFIXES = (".so", ".dylib", ".dll")


def reinstall_command(cmake_args: str = PORTABLE_CMAKE_ARGS, pip: str = "pip") -> str:
    """The command that rebuilds llama-cpp-python with ``cmake_args``.

    ``--no-cache-dir``: pip's wheel cache is keyed by the sdist, not by CMAKE_ARGS, so without it pip
    hands back the wheel it built before (the native one) and the flags are silently ignored.
    """
    return (
        f'CMAKE_ARGS="{cmake_args}" {pip} install --no-cache-dir --force-reinstall --no-deps '
        f'"llama-cpp-python=={LLAMA_CPP_VERSION}"'
    )


@dataclass(frozen=True)
class CpuInfo:
    machine: str  # platform.machine(): x86_64, aarch64, arm64 ...
    model: str
    flags: frozenset[str]

    @property
    def is_x86(self) -> bool:
        return self.machine.lower() in ("x86_64", "amd64", "i686", "i386")

    @property
    def has_avx2(self) -> bool:
        return "avx2" in self.flags

    def notable_flags(self) -> list[str]:
        """The flags that decide which llama.cpp kernels can run here."""
        keep = re.compile(r"^(avx|avx2|fma|f16c|bmi2|avx_vnni|avx512\w*|amx\w*|sse4_2)$")
        return sorted(f for f in self.flags if keep.match(f))


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    """This machine's CPU (the first processor of /proc/cpuinfo; elsewhere, what ``platform`` says)."""
    machine = platform.machine() or "unknown"
    model = platform.processor() or machine
    flags: frozenset[str] = frozenset()
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return CpuInfo(machine, model, flags)
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model in (machine, ""):
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
        elif not line.strip() and flags:
            break  # the first processor is enough: all cores of a machine share one instruction set
    return CpuInfo(machine, model, flags)


@dataclass(frozen=True)
class InstalledBuild:
    """The installed llama-cpp-python, identified by its files (never by loading them)."""

    version: str | None
    lib_dir: Path
    libs: tuple[tuple[str, int, int], ...]  # (file name, size, mtime_ns) of each shared library

    @property
    def cpu_variants(self) -> list[str]:
        """The CPU backends of a runtime-dispatch build (libggml-cpu-haswell.so ...); empty for a fixed build."""
        found = []
        for name, _size, _mtime in self.libs:
            m = re.match(r"^(?:lib)?ggml-cpu-([\w.]+?)\.(?:so|dylib|dll)$", name)
            if m:
                found.append(m.group(1))
        return sorted(found)

    def identity(self) -> list[object]:
        """What changes whenever the build does: a reinstall rewrites the libraries."""
        return [self.version, str(self.lib_dir), [list(lib) for lib in self.libs]]


def installed_build() -> InstalledBuild | None:
    """The llama_cpp package this interpreter would import, or None when it is not installed."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    lib_dir = Path(list(spec.submodule_search_locations)[0]) / "lib"
    try:
        version: str | None = importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        version = None
    libs: list[tuple[str, int, int]] = []
    if lib_dir.is_dir():
        for path in sorted(lib_dir.iterdir()):
            if path.is_file() and not path.is_symlink() and any(s in path.name for s in _LIB_SUFFIXES):
                st = path.stat()
                libs.append((path.name, st.st_size, st.st_mtime_ns))
    return InstalledBuild(version, lib_dir, tuple(libs))


def compiled_features(system_info: str) -> list[str]:
    """The CPU features a build was compiled for, from ``llama_print_system_info()`` ("AVX2 = 1 | ...")."""
    return [name for name, on in re.findall(r"(\w+) = (\d)", system_info) if on == "1"]


def describe(system_info: str, variants: list[str] | None = None) -> str:
    """A few words on a build: "portable AVX2", "native with AMX", "runtime dispatch (14 CPU variants)"."""
    if variants:
        return f"runtime CPU dispatch ({len(variants)} variants)"
    features = set(compiled_features(system_info))
    if not features:
        return "unknown build"
    if any(f.startswith("AMX") for f in features):
        kind = "native with AMX"  # -march=native on a Sapphire Rapids-class CPU
    elif any(f.startswith("AVX512") for f in features):
        kind = "AVX-512"
    elif "AVX2" in features:
        kind = "portable AVX2"
    else:
        kind = "no AVX2"
    return kind


def main() -> int:
    """``python -m extractor.backends.llama_build``: say which build is installed; exit 1 unless it is
    the portable one (.ci/run then rebuilds it: an older environment may hold a native build that pip
    considers good enough and never rebuilds)."""
    build = installed_build()
    if build is None:
        print("llama-cpp-python is not installed")
        return 1
    import llama_cpp  # loading the libraries runs no kernel, so even a build that crashes here loads

    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
    kind = describe(info, build.cpu_variants)
    print(f"llama-cpp-python {build.version} at {build.lib_dir.parent}: {kind} ({info})")
    if not cpu_info().is_x86:
        return 0  # the x86 flags do not apply; llama.cpp's own defaults are right for this CPU
    return 0 if kind == "portable AVX2" else 1


if __name__ == "__main__":
    raise SystemExit(main())
