"""Bad input never crashes: a clear message and an exit code, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from extractor.cli import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return code, out.err + out.out


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    code, out = _run(["extract", str(f), "--engine", "template"], capsys)
    assert code == 2 and "empty" in out


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "blob.bin"
    f.write_bytes(os.urandom(4096) + b"\x00" * 10)
    code, out = _run(["extract", str(f), "--engine", "template"], capsys)
    assert code == 2 and "binary" in out


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["extract", str(tmp_path / "nope.txt"), "--engine", "template"], capsys)
    assert code == 2 and "no such file" in out


def test_gb18030_is_decoded_not_mangled(tmp_path: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = next((shared_dir / "seeds").glob("001_*.txt")).read_text(encoding="utf-8")
    f = tmp_path / "gbk.txt"
    f.write_bytes(text.encode("gb18030"))
    code, out = _run(["extract", str(f), "--engine", "template", "--json"], capsys)
    assert code == 0 and json.loads(out)["applications"]["new_received"] == [28, 1, 0, 0, 0, 0, 29]


def test_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "poem.txt"
    f.write_text("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n" * 20, encoding="utf-8")
    code, out = _run(["extract", str(f), "--engine", "template"], capsys)
    assert code == 3 and "not a report" in out


def test_truncated_table_is_read_as_far_as_it_goes(tmp_path: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = next((shared_dir / "seeds").glob("001_*.txt")).read_text(encoding="utf-8")
    cut = text[: text.index("3.补正后申请内容仍不明确")]
    f = tmp_path / "cut.txt"
    f.write_text(cut, encoding="utf-8")
    code, out = _run(["extract", str(f), "--engine", "template", "--json"], capsys)
    assert code == 0
    apps = json.loads(out)["applications"]
    assert apps["unable_not_held"] == [18, 1, 0, 0, 0, 0, 19]
    assert apps["total"] is None and apps["carried_forward"] is None  # rows not there stay null, never invented


def test_huge_file_is_refused_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "huge.txt"
    with f.open("wb") as fh:
        fh.truncate(70 * 1024 * 1024)
    code, out = _run(["extract", str(f), "--engine", "template"], capsys)
    assert code == 2 and "limit" in out


def test_unknown_engine_suggests(capsys: pytest.CaptureFixture[str], shared_dir: Path) -> None:
    seed = next((shared_dir / "seeds").glob("001_*.txt"))
    code, out = _run(["extract", str(seed), "--engine", "templte"], capsys)
    assert code == 2 and "did you mean 'template'" in out


def test_check_command_round_trip(tmp_path: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = next((shared_dir / "seeds").glob("001_*.txt"))
    code = main(["extract", str(seed), "--engine", "template", "--json"])
    report = tmp_path / "r.json"
    report.write_text(capsys.readouterr().out, encoding="utf-8")
    assert code == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    data["applications"]["total"][0] = 27
    report.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out = _run(["check", str(report), "--source", str(seed), "--json"], capsys)
    assert code == 0 and '"rule": "G1"' in out and "applications.total[0]" in out


def test_table_three_fits_an_80_column_terminal(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = next((shared_dir / "seeds").glob("001_*.txt"))
    assert main(["extract", str(seed), "--engine", "template"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "自然人" in line and "总计" in line)
    for short in ("自然人", "商业", "科研", "公益", "法律", "其他", "总计"):
        assert f" {short} " in header
    assert "…" not in header
    assert "列：自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他、总计" in out
