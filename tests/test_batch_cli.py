"""``nianbao batch`` end to end with the real template engine: every file accounted for, broken files
recorded with clear reasons, usage errors, resume, and kill-then-resume giving identical exports."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from extractor.batch.results_log import read_results
from extractor.cli import main
from tests.shared_data import SHARED

REPO = Path(__file__).resolve().parents[1]

SOURCES = sorted((SHARED / "seeds").glob("*.txt")) + sorted((SHARED / "devset").glob("*.txt"))

pytestmark = pytest.mark.skipif(not SOURCES, reason="shared seeds/devset not found")

NOT_A_REPORT_TEXT = (
    "今天天气晴朗，气温二十三度，适合外出散步。我们先去菜市场买了两斤西红柿和一把小葱，"
    "回家后做了一道西红柿炒鸡蛋。下午在公园里看见很多人放风筝，孩子们跑来跑去，十分热闹。"
    "晚上读了几页小说，讲的是一个渔夫和大海的故事。明天打算早起去爬山，顺便拍一些照片。\n"
) * 6


@dataclass
class Corpus:
    root: Path
    files: list[Path] = field(default_factory=list)
    broken: dict[str, Path] = field(default_factory=dict)
    exact_copies: int = 0  # files whose bytes equal an earlier file's


def truncated_report() -> str:
    """A seed cut in the middle of its table 三 (and everything after it gone)."""
    text = (SHARED / "seeds" / "001_8d25aa58008aa371.txt").read_text(encoding="utf-8")
    start = text.index("三、收到和处理")
    end = text.index("四、政府信息公开行政复议")
    return text[: start + (end - start) // 2]


def build_corpus(root: Path, copies: int, *, broken: bool = True, seed: int = 7) -> Corpus:
    """``copies`` rounds over seeds + devset in nested folders: round 1 repeats round 0's bytes exactly
    (duplicates), later rounds append a copy note so each is a distinct report to read."""
    corpus = Corpus(root)
    for i in range(copies):
        folder = root / f"round{i % 3}" / f"r{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for src in SOURCES:
            dst = folder / src.name
            data = src.read_bytes()
            if i == 1:
                corpus.exact_copies += 1
            elif i > 1:
                data += f"\n（副本 {i}）\n".encode("utf-8")
            dst.write_bytes(data)
            corpus.files.append(dst)
    if broken:
        bad = root / "broken"
        bad.mkdir(parents=True, exist_ok=True)
        rng = random.Random(seed)
        corpus.broken = {
            "empty": bad / "empty.txt",
            "binary": bad / "random.txt",
            "truncated": bad / "truncated.txt",
            "not_a_report": bad / "diary.md",
        }
        corpus.broken["empty"].write_bytes(b"")
        corpus.broken["binary"].write_bytes(bytes(rng.randrange(256) for _ in range(8192)))
        corpus.broken["truncated"].write_text(truncated_report(), encoding="utf-8")
        corpus.broken["not_a_report"].write_text(NOT_A_REPORT_TEXT, encoding="utf-8")
        corpus.files.extend(corpus.broken.values())
        (bad / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a supported format: not an input
    return corpus


def records_by_path(out: Path) -> dict[str, dict]:
    loaded = read_results(out / "results.jsonl")
    assert not loaded.truncated_tail and loaded.bad_lines == 0
    paths = [r["source_path"] for r in loaded.records]
    assert len(paths) == len(set(paths)), "a path has more than one line"
    return {r["source_path"]: r for r in loaded.records}


def csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to show Chinese"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def xlsx_values(path: Path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def run_cli(*args: str) -> int:
    return main(["batch", *args])


@pytest.fixture(scope="module")
def corpus50(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    # 14 sources x 3 rounds + 4 broken files + 4 more distinct copies = 50 files
    root = tmp_path_factory.mktemp("corpus50")
    corpus = build_corpus(root, 3)
    extra = root / "extra"
    extra.mkdir()
    for j, src in enumerate(SOURCES[:4]):
        dst = extra / f"x{j}_{src.name}"
        dst.write_bytes(src.read_bytes() + f"\n（另一副本 {j}）\n".encode())
        corpus.files.append(dst)
    assert len(corpus.files) == 50
    return corpus


@pytest.fixture(scope="module")
def batch50(corpus50: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out50")
    assert run_cli(str(corpus50.root), "--out", str(out), "-j", "2") == 0
    return out


def test_every_file_is_accounted_for_once(corpus50: Corpus, batch50: Path) -> None:
    records = records_by_path(batch50)
    assert set(records) == {str(p.resolve()) for p in corpus50.files}
    statuses = Counter(r["status"] for r in records.values())
    assert statuses["duplicate"] == corpus50.exact_copies
    assert all(r["settings"]["engine"] == "template" for r in records.values())


def test_broken_files_fail_with_clear_reasons(corpus50: Corpus, batch50: Path) -> None:
    records = records_by_path(batch50)
    rec = {name: records[str(p.resolve())] for name, p in corpus50.broken.items()}
    assert rec["empty"]["status"] == "failed" and "输入为空" in rec["empty"]["error"]
    assert rec["binary"]["status"] == "failed" and "二进制" in rec["binary"]["error"]
    assert rec["not_a_report"]["status"] == "not_a_report" and rec["not_a_report"]["error"]
    # A report cut inside table 三 is never a clean read: refused, or read with its gaps flagged.
    trunc = rec["truncated"]
    if trunc["status"] == "ok":
        assert trunc["counts"]["errors"] > 0 or trunc["counts"]["extraction_doubts"] > 0
    else:
        assert trunc["error"]


def test_batch_results_equal_the_single_file_pipeline(corpus50: Corpus, batch50: Path) -> None:
    from extractor.config import RunConfig
    from extractor.pipeline import extract_path

    records = records_by_path(batch50)
    checked = 0
    for path, record in records.items():
        if record["status"] != "ok" or "round2" not in path:
            continue
        single = extract_path(path, RunConfig(engine="template")).to_dict()
        for key in ("agency", "year", "template", "active_disclosure", "applications", "review_litigation",
                    "findings", "evidence"):
            assert record[key] == single[key], (path, key)
        checked += 1
    assert checked >= len(SOURCES) - 2


def test_duplicates_point_at_a_read_file_with_the_same_bytes(batch50: Path) -> None:
    records = records_by_path(batch50)
    dups = [r for r in records.values() if r["status"] == "duplicate"]
    assert dups
    for dup in dups:
        primary = records[dup["duplicate_of"]]
        assert primary["status"] != "duplicate"
        assert primary["source_sha256"] == dup["source_sha256"]
        assert Path(primary["source_path"]).read_bytes() == Path(dup["source_path"]).read_bytes()


def test_source_sha256_is_the_hash_of_the_file_bytes(batch50: Path) -> None:
    import hashlib

    for path, record in records_by_path(batch50).items():
        assert record["source_sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_exports_have_one_row_per_report_and_one_per_finding(corpus50: Corpus, batch50: Path) -> None:
    records = records_by_path(batch50)
    primaries = {p: r for p, r in records.items() if r["status"] != "duplicate"}
    rows = csv_rows(batch50 / "reports.csv")
    assert [row["路径 [path]"] for row in rows] == sorted(primaries)
    by_path = {row["路径 [path]"]: row for row in rows}
    for path, record in primaries.items():
        row = by_path[path]
        assert row["状态 [status]"] == record["status"]
        if record["status"] == "ok":
            total = record["applications"]["new_received"][6]
            assert row["新收申请总计 [new_received_total]"] == ("" if total is None else str(total))
            assert row["机关 [agency]"] == (record["agency"] or "")
            assert int(row["报告错误数 [report_errors]"]) == record["counts"]["report_errors"]
            assert int(row["提取存疑数 [extraction_doubts]"]) == record["counts"]["extraction_doubts"]
        else:
            assert row["错误 [error]"]
    dup_paths = sorted(p for row in rows for p in row["重复路径 [duplicate_paths]"].split(";") if p)
    assert dup_paths == sorted(p for p, r in records.items() if r["status"] == "duplicate")

    findings = csv_rows(batch50 / "findings.csv")
    assert len(findings) == sum(len(r["findings"]) for r in primaries.values())
    for f in findings:
        assert f["归因 [attribution]"] in ("report", "extraction")
        assert f["规则 [rule]"]

    sheets = xlsx_values(batch50 / "reports.xlsx")
    report_sheet = next(v for k, v in sheets.items() if "reports" in k)
    assert len(report_sheet) == len(rows) + 1
    assert report_sheet[0][0] == "路径 [path]"


def test_summary_table_counts_match_the_results(corpus50: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    small = [str(p) for p in corpus50.files[:3]] + [str(p) for p in corpus50.broken.values()]
    assert run_cli(*small, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "批处理汇总" in printed
    assert "失败 failed" in printed and "非年报 not a report" in printed
    assert "输入为空" in printed  # the failures are listed with their reasons


def test_existing_results_are_never_overwritten_without_resume(corpus50: Corpus, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    first = [str(corpus50.files[0])]
    assert run_cli(*first, "--out", str(out)) == 0
    before = (out / "results.jsonl").read_bytes()
    capsys.readouterr()
    assert run_cli(*first, "--out", str(out)) == 2
    assert "--resume" in capsys.readouterr().err
    assert (out / "results.jsonl").read_bytes() == before


def test_usage_errors_exit_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(str(tmp_path / "nothing-here"), "--out", str(tmp_path / "o1")) == 2
    assert "没有找到任何输入文件" in capsys.readouterr().err
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert run_cli(str(SOURCES[0]), "--out", str(a_file)) == 2
    assert "不是目录" in capsys.readouterr().err
    assert run_cli(str(SOURCES[0]), "--out", str(tmp_path / "o2"), "--engine", "templat") == 2
    assert "template" in capsys.readouterr().err


def test_resume_reads_only_new_or_changed_files(corpus50: Corpus, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for src in SOURCES[:3]:
        (inputs / src.name).write_bytes(src.read_bytes())
    out = tmp_path / "out"
    assert run_cli(str(inputs), "--out", str(out)) == 0
    first = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(first) == 3

    assert run_cli(str(inputs), "--out", str(out), "--resume") == 0
    assert (out / "results.jsonl").read_text(encoding="utf-8").splitlines() == first  # nothing redone

    (inputs / "new.txt").write_bytes(SOURCES[3].read_bytes())
    changed = inputs / SOURCES[0].name
    changed.write_bytes(SOURCES[4].read_bytes())  # same path, other content: read again
    assert run_cli(str(inputs), "--out", str(out), "--resume") == 0
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[:3] == [json.loads(x) for x in first]
    assert sorted(r["source_path"] for r in lines[3:]) == sorted([str((inputs / "new.txt").resolve()), str(changed.resolve())])
    rows = csv_rows(out / "reports.csv")
    assert len(rows) == 4  # the changed file's latest line wins
    sha_changed = next(r["source_sha256"] for r in lines[3:] if r["source_path"] == str(changed.resolve()))
    assert next(r for r in rows if r["路径 [path]"] == str(changed.resolve()))["SHA-256 [sha256]"] == sha_changed


# ---- kill and resume (a real subprocess) ----------------------------------------------------

def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from extractor.cli import run; run()", "batch", *args]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))


def _line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.fixture(scope="module")
def kill_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("killcorpus"), 10)


@pytest.fixture(scope="module")
def reference_out(kill_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    assert run_cli(str(kill_corpus.root), "--out", str(out), "-j", "1") == 0
    return out


def _assert_same_outputs(out: Path, reference: Path) -> None:
    got, want = records_by_path(out), records_by_path(reference)
    assert set(got) == set(want)
    for path in want:
        a, b = got[path], want[path]
        for key in ("source_sha256", "status", "error", "duplicate_of", "applications", "findings", "agency", "year"):
            assert a.get(key) == b.get(key), (path, key)
    for name in ("reports.csv", "findings.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert xlsx_values(out / "reports.xlsx") == xlsx_values(reference / "reports.xlsx")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_killed_batch_resumes_to_identical_outputs(sig: signal.Signals, kill_corpus: Corpus, reference_out: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "out"
    total = len(kill_corpus.files)
    proc = _spawn([str(kill_corpus.root), "--out", str(out), "-j", "2"])
    deadline = time.monotonic() + 120
    while _line_count(out / "results.jsonl") < 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, stderr.decode()
        assert "--resume" in stderr.decode()
        assert not read_results(out / "results.jsonl").truncated_tail
    else:
        assert proc.returncode == -signal.SIGKILL
    written = _line_count(out / "results.jsonl")
    assert 0 < written < total

    assert run_cli(str(kill_corpus.root), "--out", str(out), "--resume", "-j", "2") == 0
    _assert_same_outputs(out, reference_out)


def test_cut_last_line_is_redone_on_resume(kill_corpus: Corpus, reference_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lines = (reference_out / "results.jsonl").read_bytes().splitlines(keepends=True)
    # as if the process died while writing the third line from the end
    (out / "results.jsonl").write_bytes(b"".join(lines[:-3]) + lines[-3][: len(lines[-3]) // 2])
    assert run_cli(str(kill_corpus.root), "--out", str(out), "--resume") == 0
    _assert_same_outputs(out, reference_out)


@pytest.mark.slow
def test_thousand_files_every_one_accounted_for(tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "in", 72)  # 14 x 72 + 4 broken = 1012 files
    out = tmp_path / "out"
    assert run_cli(str(corpus.root), "--out", str(out), "-j", "2") == 0
    records = records_by_path(out)
    assert set(records) == {str(p.resolve()) for p in corpus.files}
    statuses = Counter(r["status"] for r in records.values())
    assert statuses["duplicate"] == corpus.exact_copies
    assert statuses["failed"] >= 2 and statuses["not_a_report"] >= 1
    assert len(csv_rows(out / "reports.csv")) == len(records) - corpus.exact_copies
