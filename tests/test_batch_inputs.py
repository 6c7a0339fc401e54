"""INPUT expansion: files, recursive directories, globs; what is left out and what is reported."""

from __future__ import annotations

from pathlib import Path

from extractor.batch.inputs import expand_inputs


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_directory_is_walked_recursively_in_sorted_order_and_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    root = tmp_path / "in"
    b = _touch(root / "b.txt")
    a = _touch(root / "sub" / "deeper" / "a.HTML")
    c = _touch(root / "a.pdf")
    _touch(root / ".hidden.txt")
    _touch(root / ".git" / "x.txt")
    png = _touch(root / "picture.png")
    d = _touch(root / "sub" / "r.docx")

    out = expand_inputs([str(root)])

    # a folder's own files first, then its subfolders, each level sorted
    assert out.files == [c.resolve(), b.resolve(), d.resolve(), a.resolve()]
    assert out.unsupported == [png.resolve()]
    assert out.unmatched == []


def test_explicit_file_is_taken_whatever_its_extension(tmp_path: Path) -> None:
    odd = _touch(tmp_path / "report_without_extension")
    assert expand_inputs([str(odd)]).files == [odd.resolve()]


def test_globs_files_dirs_are_merged_without_repeats_in_argument_order(tmp_path: Path) -> None:
    one = _touch(tmp_path / "x" / "1.txt")
    two = _touch(tmp_path / "x" / "2.md")
    three = _touch(tmp_path / "y" / "nested" / "3.htm")
    out = expand_inputs([str(tmp_path / "x" / "2.md"), str(tmp_path / "x" / "*.txt"), str(tmp_path / "x"),
                         str(tmp_path / "**" / "*.htm")])
    assert out.files == [two.resolve(), one.resolve(), three.resolve()]
    assert out.unmatched == []


def test_missing_paths_and_empty_globs_are_reported_as_unmatched(tmp_path: Path) -> None:
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    _touch(empty_dir / "notes.xlsx")
    out = expand_inputs([str(tmp_path / "nope.txt"), str(tmp_path / "*.pdf"), str(empty_dir)])
    assert out.files == []
    assert out.unmatched == [str(tmp_path / "nope.txt"), str(tmp_path / "*.pdf"), str(empty_dir)]


def test_output_directory_inside_an_input_directory_is_excluded(tmp_path: Path) -> None:
    report = _touch(tmp_path / "r.txt")
    _touch(tmp_path / "out" / "previous.md")
    out = expand_inputs([str(tmp_path)], exclude=[tmp_path / "out"])
    assert out.files == [report.resolve()]


def test_symlink_loops_pipes_and_devices_are_kept_as_inputs_to_account_for(tmp_path: Path) -> None:
    import os
    import sys

    import pytest

    if sys.platform == "win32":
        pytest.skip("symlinks and FIFOs are POSIX")
    root = tmp_path / "in"
    good = _touch(root / "a.txt")
    loop = root / "loop.txt"
    loop.symlink_to("loop.txt")  # resolve() raised RuntimeError before any file was read
    os.mkfifo(root / "pipe.txt")
    out = expand_inputs([str(root), "/dev/null"])
    assert out.files == [good.resolve(), loop.absolute(), (root / "pipe.txt").resolve(), Path("/dev/null")]
    assert out.unmatched == []
