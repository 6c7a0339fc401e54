"""A built wheel carries what the package reads at run time: prompts/ beside extractor/, the eval samples."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_carries_every_prompt_file_and_eval_sample(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("nianbao-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("prompts", "evals/samples"):
        expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()}
        assert expected and expected <= names, sorted(expected - names)
