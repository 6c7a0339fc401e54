"""Benchmark the LLM backend alone: model assembly check, server start, seconds and tokens per call.

    .venv/bin/python benchmarks/bench_llm_backend.py                       # default 1.5B model
    .venv/bin/python benchmarks/bench_llm_backend.py --model local:qwen2.5-coder-0.5b --repeat 3
    .venv/bin/python benchmarks/bench_llm_backend.py --model openai:deepseek-chat   # uses NIANBAO_* env

Each call asks for one section-sized table (three rows of seven cells) from a short text, with the
disk cache off, so the numbers are what a cold extraction pays per section. The first call after
the server starts pays the full prompt; later calls reuse llama.cpp's prefix cache for the shared
system prompt, which is also what happens section after section in a real report.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel, Field  # noqa: E402

from extractor.backends.client import Usage, make_llm, parse_model  # noqa: E402
from extractor.config import DEFAULT_MODEL, RunConfig  # noqa: E402

Cells = list[int | None]


class Row(BaseModel):
    key: str
    cells: Cells = Field(min_length=7, max_length=7, description="7 columns; null when blank")


class Table(BaseModel):
    rows: list[Row] = Field(min_length=3, max_length=3)


SYSTEM = (
    "You copy numbers from a Chinese government report table into JSON. "
    "Each row has 7 cells in column order: 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计. "
    "Copy what is printed; a blank cell is null; never compute totals."
)
USER = (
    "三、收到和处理政府信息公开申请情况\n"
    "一、本年新收政府信息公开申请数量 12 0 0 0 1 0 13\n"
    "二、上年结转政府信息公开申请数量 1 0 0 0 0 0 1\n"
    "三、本年度办理结果（予以公开） 5 0 0 0 1 0 6\n"
    "Rows: new, carried_over, granted."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("NIANBAO_MODEL", DEFAULT_MODEL))
    parser.add_argument("--repeat", type=int, default=2, help="calls to time (default 2)")
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args(argv)

    parse_model(args.model)
    config = RunConfig(model=args.model, use_cache=False, max_reasks=1)
    say = lambda msg: print(f"  · {msg}", file=sys.stderr)  # noqa: E731

    llm = make_llm(config, progress=say)
    print(f"model: {llm.model_id}   cpu cores: {os.cpu_count()}")
    print(f"{'call':>4}  {'seconds':>8}  {'prompt':>7}  {'compl.':>7}  {'compl tok/s':>11}  {'retries':>7}  {'reasks':>6}  ok")
    total = Usage()
    try:
        for i in range(1, args.repeat + 1):
            began = time.perf_counter()
            ok = "yes"
            try:
                result, usage = llm.ask(SYSTEM, USER, Table, max_tokens=args.max_tokens)
                right = [r.cells for r in result.rows] == [
                    [12, 0, 0, 0, 1, 0, 13], [1, 0, 0, 0, 0, 0, 1], [5, 0, 0, 0, 1, 0, 6]
                ]
                ok = "exact" if right else "valid"
            except Exception as exc:  # a benchmark reports failures, it does not stop on them
                usage = Usage()
                ok = f"FAILED: {exc}"
            elapsed = time.perf_counter() - began
            total.add(usage)
            rate = usage.completion_tokens / elapsed if elapsed > 0 else 0.0
            print(f"{i:>4}  {elapsed:>8.1f}  {usage.prompt_tokens:>7}  {usage.completion_tokens:>7}  "
                  f"{rate:>11.1f}  {usage.retries:>7}  {usage.reasks:>6}  {ok}")
    finally:
        llm.close()
    print(f"total: {total.prompt_tokens} prompt + {total.completion_tokens} completion tokens in {total.calls} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
