"""results.jsonl: appended lines survive, a cut last line is tolerated and cut off, the done-index."""

from __future__ import annotations

import json
from pathlib import Path

from extractor.batch.results_log import DoneIndex, ResultsLog, is_settled, read_results


def _rec(path: str, sha: str, status: str = "ok", key: str = "k1", **extra: object) -> dict[str, object]:
    return {"source_path": path, "source_sha256": sha, "settings_key": key, "status": status, **extra}


def test_appended_lines_read_back_in_order_with_chinese_kept_readable(tmp_path: Path) -> None:
    target = tmp_path / "results.jsonl"
    log = ResultsLog(target)
    log.open()
    log.append(_rec("/a.txt", "aa", agency="昆都仑区科学技术局"))
    log.append(_rec("/b.txt", "bb", status="failed", error="输入为空"))
    log.close()

    raw = target.read_text(encoding="utf-8")
    assert "昆都仑区科学技术局" in raw  # not \\u-escaped: the file stays greppable
    assert raw.count("\n") == 2
    loaded = read_results(target)
    assert [r["source_path"] for r in loaded.records] == ["/a.txt", "/b.txt"]
    assert not loaded.truncated_tail and loaded.bad_lines == 0
    assert loaded.good_size == target.stat().st_size


def test_cut_last_line_is_ignored_then_removed_before_the_next_append(tmp_path: Path) -> None:
    target = tmp_path / "results.jsonl"
    full = json.dumps(_rec("/a.txt", "aa"), ensure_ascii=False) + "\n"
    cut = json.dumps(_rec("/b.txt", "bb"), ensure_ascii=False)[:25]
    target.write_text(full + cut, encoding="utf-8")

    loaded = read_results(target)
    assert [r["source_path"] for r in loaded.records] == ["/a.txt"]
    assert loaded.truncated_tail

    log = ResultsLog(target)
    log.open(loaded)
    log.append(_rec("/b.txt", "bb"))
    log.close()
    again = read_results(target)
    assert [r["source_path"] for r in again.records] == ["/a.txt", "/b.txt"]
    assert not again.truncated_tail
    assert target.read_text(encoding="utf-8").endswith("\n")


def test_complete_json_without_its_newline_counts_as_cut(tmp_path: Path) -> None:
    target = tmp_path / "results.jsonl"
    target.write_text(json.dumps(_rec("/a.txt", "aa")), encoding="utf-8")
    loaded = read_results(target)
    assert loaded.records == [] and loaded.truncated_tail and loaded.good_size == 0


def test_damaged_middle_line_is_counted_and_skipped(tmp_path: Path) -> None:
    target = tmp_path / "results.jsonl"
    lines = [json.dumps(_rec("/a.txt", "aa")), "{not json", json.dumps(_rec("/c.txt", "cc"))]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = read_results(target)
    assert [r["source_path"] for r in loaded.records] == ["/a.txt", "/c.txt"]
    assert loaded.bad_lines == 1 and not loaded.truncated_tail


def test_done_index_settles_by_path_content_and_settings() -> None:
    index = DoneIndex.from_records([
        _rec("/a.txt", "aa"),
        _rec("/dup.txt", "aa", status="duplicate", duplicate_of="/a.txt"),
        _rec("/bad.txt", "bb", status="failed", retryable=False),
        _rec("/llm.txt", "cc", status="failed", retryable=True),
        _rec("/nar.txt", "dd", status="not_a_report"),
    ])
    assert index.is_settled("/a.txt", "aa", "k1")
    assert not index.is_settled("/a.txt", "aa", "other-settings")
    assert not index.is_settled("/a.txt", "changed-content", "k1")
    assert index.is_settled("/dup.txt", "aa", "k1")
    assert index.primary_for("aa", "k1") == "/a.txt"
    assert index.is_settled("/bad.txt", "bb", "k1")
    assert not index.is_settled("/llm.txt", "cc", "k1")  # a transient failure is redone
    assert index.primary_for("cc", "k1") is None
    assert index.is_settled("/nar.txt", "dd", "k1")

    strict = DoneIndex.from_records([_rec("/bad.txt", "bb", status="failed")], retry_failed=True)
    assert not strict.is_settled("/bad.txt", "bb", "k1")


def test_is_settled_rejects_unknown_status() -> None:
    assert not is_settled({"status": "running"})
