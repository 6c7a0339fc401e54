"""Progress as plain lines when the output is a log file or CI rather than a terminal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extractor.cli import main
from extractor.progress_lines import StepLines, ThrottledLines

from evals.dataset import DEFAULT_SAMPLES_DIR


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_step_lines_print_one_line_per_finished_step_with_its_duration() -> None:
    clock, lines = FakeClock(), []
    steps = StepLines(3, lines.append, clock=clock)
    steps.update("llm · a", 0)
    clock.now += 241.25
    steps.update("llm · a", 1)
    steps.update("llm · b", 0)
    clock.now += 3600
    steps.update("llm · b", 1)
    assert lines == ["[1/3 0:04:01] llm · a 完成 done in 241.2 s",
                     "[2/3 1:04:01] llm · b 完成 done in 3600.0 s"]


def test_throttled_lines_skip_ticks_inside_the_interval_but_never_the_first_or_last() -> None:
    clock, lines = FakeClock(), []
    ticker = ThrottledLines(lines.append, interval=10, clock=clock)
    for done in range(1, 6):
        clock.now += 3
        ticker.tick(done, 5, f"f{done}")
    # ticks at t=3..15: the first is shown, the next three fall inside 10 s of it, the last is always shown
    assert [line.split("]")[1].strip() for line in lines] == ["f1", "f5"]
    assert lines[0].startswith("[1/5 0:00:03") and lines[-1].startswith("[5/5 0:00:15")


def test_eval_prints_a_line_per_report_when_stderr_is_not_a_terminal(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("001_8d25aa58008aa371", "d025"):
        for path in DEFAULT_SAMPLES_DIR.glob(f"{name}.*"):
            shutil.copyfile(path, samples / path.name)
    assert main(["eval", str(samples), "--mutations", "1"]) == 0
    err = capsys.readouterr().err
    done = [line for line in err.splitlines() if "完成 done in" in line]
    assert [line.split("] ")[1].split(" 完成")[0] for line in done] == [
        "template · 001_8d25aa58008aa371", "template · d025",
        "mutations · 001_8d25aa58008aa371", "mutations · d025"]
    assert done[0].startswith("[1/4 ") and done[-1].startswith("[4/4 ")


def test_batch_prints_count_lines_when_stderr_is_not_a_terminal(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copyfile(DEFAULT_SAMPLES_DIR / "d025.txt", inputs / "d025.txt")
    (inputs / "empty.txt").write_bytes(b"")
    assert main(["batch", str(inputs), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "2 个文件待读取 files to read" in err
    last = [line for line in err.splitlines() if line.startswith("[2/2 ")]
    assert last and "成功 1 失败 1" in last[0]
