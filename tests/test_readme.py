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
    readme = README.read_text(encoding="utf-8")
    installs = [line for line in readme.splitlines() if "pip install" in line and "-e " in line]
    assert installs, "the README installs nothing"
    for line in installs:
        assert f'CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}"' in line, f"the README builds llama.cpp with other flags: {line}"
        assert "--no-cache-dir" in line, f"README: a cached native wheel would be reused: {line}"

    # .ci/run builds llama-cpp-python in one place, as a wheel with the flags (named once in a
    # variable) and past pip's cache, and installs that wheel into every venv it makes.
    ci = CI.read_text(encoding="utf-8")
    (flags,) = re.findall(r'^(\w+)="' + re.escape(PORTABLE_CMAKE_ARGS) + '"$', ci, flags=re.M)
    builds = [line for line in ci.splitlines() if "llama-cpp-python==" in line]
    assert builds, ".ci/run builds no llama-cpp-python"
    for line in builds:
        assert "pip wheel" in line and "-w .whl" in line, line
        assert f'CMAKE_ARGS="${flags}"' in line, f".ci/run builds llama.cpp with other flags: {line}"
        assert "--no-cache-dir" in line, f".ci/run: a cached native wheel would be reused: {line}"
    venv_installs = [line for line in ci.splitlines() if re.search(r"pip install .*-e '\.\[dev\]'", line)]
    assert len(venv_installs) == 2, venv_installs  # the test venv and the dependency floors' venv
    for line in venv_installs:
        assert '"$LLAMA_WHEEL"' in line, f"this install would build llama.cpp from the sdist: {line}"
    assert ci.count("python -m extractor.backends.llama_build") >= 2  # each venv's build is checked


def test_one_llama_cpp_python_version_everywhere() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"llama-cpp-python[server]=={LLAMA_CPP_VERSION}"' in pyproject
    pins = re.findall(r"^LLAMA_VERSION=([\w.]+)$", CI.read_text(encoding="utf-8"), flags=re.M)
    assert pins == [LLAMA_CPP_VERSION]
