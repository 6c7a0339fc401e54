"""The README's commands work in a fresh clone: every file they name is in the repository, and the install
uses the llama.cpp build the code recommends, rebuilt past pip's wheel cache."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from extractor.backends.llama_build import LLAMA_CPP_VERSION, PORTABLE_CMAKE_ARGS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"

# Arguments that name what a command writes, not what it reads.
_OUTPUT_OPTIONS = {"--json", "--md", "--out", "-o", "--db"}
_FILE_LIKE = re.compile(r"(/|\.(txt|json|md|py|html|pdf|docx|toml|yaml|j2|sh)$)")


def _commands(markdown: str) -> list[str]:
    """Shell commands of the fenced ``bash`` blocks, and of inline code that runs ``python``."""
    commands: list[str] = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", markdown, flags=re.S):
        commands += [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    commands += [m for m in re.findall(r"`([^`\n]+)`", markdown) if m.startswith(("python ", ".venv/bin/python "))]
    return commands


def named_files(command: str) -> list[str]:
    """The paths a command reads, relative to the repository root (what it creates is left out)."""
    names: list[str] = []
    for part in re.split(r"&&|\|\||;|\|", command):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        for i, word in enumerate(words):
            if i and words[i - 1] in _OUTPUT_OPTIONS:
                continue
            if "=" in word.split("/")[0] or word.startswith(("-", "http://", "https://", ".venv/", "'", ".[")):
                continue  # an environment assignment, an option, a URL, the venv the command makes
            if word.startswith(".") and "[" in word:
                continue  # pip's '.[dev]': the repository itself
            if _FILE_LIKE.search(word) and word not in ("/", "-"):
                names.append(word)
    return names


def test_readme_commands_name_only_files_in_the_repository() -> None:
    commands = _commands(README.read_text(encoding="utf-8"))
    assert any("nianbao extract" in c for c in commands), "the README lost its first command"
    missing = []
    for command in commands:
        for name in named_files(command):
            path = (ROOT / name).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                missing.append(f"{name!r} in: {command}")
    assert not missing, "\n".join(missing)


def test_the_check_catches_a_file_from_beside_the_checkout() -> None:
    assert named_files(".venv/bin/nianbao extract ../shared/seeds/001.txt --json out.json") == ["../shared/seeds/001.txt"]
    assert named_files("python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'") == []
    assert named_files("python benchmarks/bench_template.py") == ["benchmarks/bench_template.py"]


def test_readme_and_ci_install_the_portable_build_past_the_wheel_cache() -> None:
    for path in (README, CI):
        text = path.read_text(encoding="utf-8")
        # .ci/run names the flags once in a variable; the README spells them out in its one command
        flags = re.findall(r'^(\w+)="' + re.escape(PORTABLE_CMAKE_ARGS) + '"$', text, flags=re.M)
        spelled = [f'CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}"'] + [f'CMAKE_ARGS="${name}"' for name in flags]
        installs = [line for line in text.splitlines()
                    if "pip install" in line and ("-e " in line or "llama-cpp-python" in line)]
        assert installs, f"{path.name} installs nothing"
        for line in installs:
            assert any(s in line for s in spelled), f"{path.name} builds llama.cpp with other flags: {line}"
            assert "--no-cache-dir" in line, f"{path.name}: a cached native wheel would be reused: {line}"


def test_one_llama_cpp_python_version_everywhere() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"llama-cpp-python[server]=={LLAMA_CPP_VERSION}"' in pyproject
    pins = re.findall(r"llama-cpp-python==([\w.]+)", CI.read_text(encoding="utf-8"))
    assert pins and set(pins) == {LLAMA_CPP_VERSION}
