"""Hostile and broken input (issue 16): each case of the tests/hostile corpus, built here, ends in one
clear error line, exit status 2, within seconds and in bounded memory; a batch over all of them
accounts for every file; pdfminer's warnings stay off the terminal; nested JSON and pipes given to
``check`` are one-line errors.

Each ``extract`` runs in a child process so that its peak memory (ru_maxrss) is its own: before the
limits, the .docx bomb took 3.8 GB and the PDF content bomb 0.8 GB to 2.3 GB.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.cli import main
from extractor.exports import build_tables
from tests.hostile import CASES, HostileCase, build_corpus, builders
from tests.shared_data import SHARED

REPO = Path(__file__).resolve().parents[1]
SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)
# A child that imports the pipeline and pdfplumber peaks near 150 MB; the bombs, unbounded, reach GBs.
PEAK_RSS_LIMIT_MB = 400
CHILD_TIMEOUT_S = 120  # a hang fails the test instead of holding the suite

_CHILD = """
import json, resource, sys, time
from extractor.cli import main
from extractor.exports import build_tables
started = time.perf_counter()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _extract_in_child(path: Path) -> tuple[dict[str, float], str]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, "extract", str(path), "--engine", "template"],
                          capture_output=True, text=True, cwd=REPO, timeout=CHILD_TIMEOUT_S)
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures, proc.stderr


@pytest.mark.parametrize("case", [c for c in CASES if c.available()], ids=lambda c: c.name)
def test_each_hostile_input_ends_in_one_clear_error_in_bounded_memory(case: HostileCase, tmp_path: Path) -> None:
    path = case.build(tmp_path)
    figures, stderr = _extract_in_child(path)
    assert "Traceback" not in stderr
    assert figures["peak_mb"] < PEAK_RSS_LIMIT_MB, figures
    assert figures["seconds"] < 30, figures  # generous: each takes about a second; the bombs took 20-36 s
    if case.error is None:
        assert figures["code"] == 3 and "not a report" in stderr  # read, then judged by the pipeline
        return
    assert figures["code"] == 2, stderr
    first = stderr.strip().splitlines()[0]
    assert first.startswith("error:") and case.error in first, stderr


def test_each_limit_can_be_raised_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.errors import ConfigError, InputError
    from extractor.ingest import load_path

    pdf = builders.pdf_many_pages(tmp_path, pages=30)
    monkeypatch.setenv("NIANBAO_MAX_PDF_PAGES", "20")
    with pytest.raises(InputError, match="NIANBAO_MAX_PDF_PAGES"):
        load_path(pdf)
    monkeypatch.setenv("NIANBAO_MAX_PDF_PAGES", "40")
    assert load_path(pdf).text.count("page") == 30
    monkeypatch.setenv("NIANBAO_MAX_PDF_PAGES", "lots")
    with pytest.raises(ConfigError):  # a typo never lifts a limit silently
        load_path(pdf)


def test_pdfminer_warnings_stay_off_the_terminal(tmp_path: Path) -> None:
    pdf = builders.pdf_font_without_bbox(tmp_path)
    code = ("import logging, sys\n"
            "from extractor.ingest import load_path\n"
            "print(load_path(sys.argv[1]).text)")
    proc = subprocess.run([sys.executable, "-c", code, str(pdf)], capture_output=True, text=True, cwd=REPO,
                          timeout=CHILD_TIMEOUT_S)
    assert "annual report 2023" in proc.stdout  # the font warning does not stop the reading
    assert proc.stderr == ""  # pdfminer logs "Could not get FontBBox…" for this font


# ---- check: nested JSON, pipes and devices
def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return code, out.err


@pytest.mark.skipif(SEED_001 is None, reason="shared seeds not present")
def test_check_refuses_deeply_nested_json_and_previous_in_one_line(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    deep = builders.deeply_nested_json(tmp_path)
    code, err = _run(["check", str(deep)], capsys)
    assert code == 2 and err.count("\n") == 1 and "nests too deeply" in err
    assert main(["extract", str(SEED_001), "--engine", "template", "--json"]) == 0
    report = tmp_path / "r.json"
    report.write_text(capsys.readouterr().out, encoding="utf-8")
    code, err = _run(["check", str(report), "--previous", str(deep)], capsys)
    assert code == 2 and "nests too deeply" in err


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")
def test_check_and_extract_refuse_pipes_and_devices_without_waiting(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    pipe, zero = builders.fifo(tmp_path), builders.dev_zero_link(tmp_path)
    started = time.perf_counter()
    code, err = _run(["check", str(pipe)], capsys)
    assert code == 2 and "named pipe" in err
    code, err = _run(["extract", str(zero), "--engine", "template"], capsys)
    assert code == 2 and "character device" in err
    code, err = _run(["extract", str(builders.symlink_loop(tmp_path)), "--engine", "template"], capsys)
    assert code == 2 and "loops" in err
    assert time.perf_counter() - started < 30  # nothing waited for a writer or read /dev/zero


# ---- a batch over all of it
def _as_batch_names(path: Path) -> str:
    """The path a batch records: resolved (a link to /dev/zero is /dev/zero), a loop as it is named."""
    try:
        return str(path.resolve())
    except RuntimeError:
        return str(path.absolute())


@pytest.mark.skipif(SEED_001 is None, reason="shared seeds not present")
def test_a_batch_over_the_hostile_corpus_accounts_for_every_file(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "in"
    built = build_corpus(corpus)
    assert SEED_001 is not None
    shutil.copy(SEED_001, corpus / "good.txt")
    # byte-identical copies of broken files: not read either, whatever the de-duplication says
    shutil.copy(built["binary_junk"], corpus / "zz_junk_copy_1.txt")
    shutil.copy(built["binary_junk"], corpus / "zz_junk_copy_2.txt")
    shutil.copy(built["pdf_content_bomb"], corpus / "zz_bomb_copy.pdf")
    out = tmp_path / "out"

    started = time.perf_counter()
    code = main(["batch", str(corpus), "--out", str(out), "--engine", "template"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Traceback" not in printed.out + printed.err
    assert time.perf_counter() - started < 120

    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    by_path = {r["source_path"]: r for r in lines}
    inputs = {_as_batch_names(p): p.name for p in corpus.iterdir() if not p.name.startswith(".")}
    assert set(by_path) == set(inputs) and len(lines) == len(inputs)  # every file, once
    by_name = {inputs[path]: record for path, record in by_path.items()}
    expected = set(inputs.values())
    assert by_name["good.txt"]["status"] == "ok"
    for case in CASES:
        if case.available():
            record = by_name[built[case.name].name]
            assert record["status"] == case.batch_status, (case.name, record["error"])
            if case.error is not None:
                assert case.error in record["error"], (case.name, record["error"])
    for copy in ("zz_junk_copy_1.txt", "zz_junk_copy_2.txt", "zz_bomb_copy.pdf"):
        assert by_name[copy]["status"] == "duplicate"

    # the summary counts what was not read, copies included: every input but good.txt
    summary = build_tables(lines).summary
    assert summary.not_read == len(expected) - 1 and summary.read == 1
    assert {inputs[path] for path, _, _ in summary.failures} == expected - {"good.txt"}
    assert any(f"{summary.not_read}" in line for line in printed.out.splitlines() if "未读取 not read" in line)
