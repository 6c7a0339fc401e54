"""One list of engines, one way to reject a wrong name: every shell says the same thing about a typo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extractor.cli import main
from extractor.config import RunConfig
from extractor.engine_catalog import ENGINE_NAMES, ENGINES, REVIEW_ENGINES, parse_engine
from extractor.engines import get_engine
from extractor.errors import ConfigError


def _usage_message(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The shell's exit code must be 2; returns what it said about the value, one line."""
    assert main(args) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    said = " ".join((out.err + out.out).split())  # rich may wrap a long line
    match = re.search(r"Invalid value for '--engine'(?: / '-e')?: (.*)", said)
    assert match, said
    return match.group(1)


def test_every_shell_rejects_a_misspelled_engine_with_the_same_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_dir: Path) -> None:
    seed = str(next((shared_dir / "seeds").glob("001_*.txt")))
    said = {
        "extract": _usage_message(["extract", seed, "--engine", "templat"], capsys),
        "batch": _usage_message(["batch", seed, "--out", str(tmp_path / "out"), "--engine", "templat"], capsys),
        "eval": _usage_message(["eval", "--engine", "template", "--engine", "templat"], capsys),
        "ui": _usage_message(["ui", "--engine", "templat"], capsys),
    }
    # the UI offers fewer engines, so its list of choices is shorter; the sentence is the same
    assert said["extract"] == said["batch"] == said["eval"]
    assert said["extract"].startswith("unknown engine 'templat'; did you mean 'template'?")
    assert said["ui"].startswith("unknown engine 'templat'; did you mean 'template'?")
    assert "是否想用 template" in said["extract"]
    assert not (tmp_path / "out").exists()  # rejected before the batch touched --out


def test_the_python_entry_points_raise_the_catalog_error() -> None:
    with pytest.raises(ConfigError) as from_parse:
        parse_engine("hybird")
    with pytest.raises(ConfigError) as from_config:
        RunConfig(engine="hybird")  # type: ignore[arg-type]  # a wrong name on purpose
    with pytest.raises(ConfigError) as from_factory:
        get_engine("hybird")
    assert str(from_parse.value) == str(from_config.value) == str(from_factory.value)
    assert "did you mean 'hybrid'?" in str(from_parse.value)
    with pytest.raises(ConfigError, match="choose one of"):
        parse_engine("zzz")


def test_the_review_ui_offers_a_subset_and_says_so(tmp_path: Path) -> None:
    from extractor.ingest import load_text
    from extractor.review_store import ReviewStore
    from ui.app import ENGINE_CHOICES
    from ui.service import ReviewService, zh_error

    assert [value for _label, value in ENGINE_CHOICES] == list(REVIEW_ENGINES)
    assert set(REVIEW_ENGINES) < set(ENGINE_NAMES)
    service = ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=None)
    with pytest.raises(ConfigError) as refused:
        service.extract(load_text("一、总体情况", "x.txt"), "baseline")
    assert "baseline" in zh_error(refused.value) and "此处不提供" in zh_error(refused.value)


def test_every_catalogued_engine_builds_under_its_own_name() -> None:
    for info in ENGINES:
        assert get_engine(info.name).name == info.name
        assert info.en and info.zh
