"""Hostile inputs: how long each case of the tests/hostile corpus takes to be refused, and its peak memory.

Each case is read by ``nianbao extract`` in a fresh child process, so ru_maxrss is that case's own
peak (an interpreter with the pipeline and pdfplumber imported starts near 60 MB). For comparison:
before the expansion limits, the .docx bomb took 36 s and 3.8 GB and the PDF content bomb 20 s and
0.8 GB (2.3 GB at 4 MB of content with one character per 4 bytes).
``--near-limit`` adds inputs just under each default limit: the most a file the limits accept can cost.

Run: python benchmarks/bench_hostile.py [--near-limit]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import CASES, builders  # noqa: E402

_CHILD = """
import json, resource, sys, time
from extractor.cli import main
started = time.perf_counter()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(path: Path) -> tuple[dict[str, float], str]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, "extract", str(path), "--engine", "template"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    lines = proc.stdout.strip().splitlines()
    figures = json.loads(lines[-1]) if lines else {"code": proc.returncode, "seconds": float("nan"), "peak_mb": float("nan")}
    first = (proc.stderr.strip().splitlines() or [""])[0]
    return figures, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--near-limit", action="store_true", help="also inputs just under each default limit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-hostile-") as tmp:
        cases: list[tuple[str, Path]] = [(c.name, c.build(Path(tmp))) for c in CASES if c.available()]
        if args.near_limit:
            d = Path(tmp)
            mb = builders.MB
            cases += [
                ("docx_xml_31mb", builders.docx_xml_bomb(d, "x31.docx", inflated=31 * mb)),
                ("pdf_page_49k_chars", builders.pdf_content_bomb(d, "c49k.pdf", inflated=49_000 * 4)),
                ("html_7mb", builders.html_huge_markup(d, "h7.html", size=7 * mb)),
                ("text_1.9m_chars", builders.text_too_many_chars(d, "t19.txt", chars=1_900_000)),
            ]
        print(f"{'case':24} {'exit':>4} {'seconds':>8} {'peak MB':>8}  first line")
        for name, path in cases:
            figures, first = _measure(path)
            print(f"{name:24} {figures['code']:>4} {figures['seconds']:>8.2f} {figures['peak_mb']:>8.0f}  {first[:90]}")


if __name__ == "__main__":
    main()
