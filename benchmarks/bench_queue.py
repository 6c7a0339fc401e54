"""The review queue at an office's scale: how long the queue takes to list, open, confirm and export a
batch of N distinct real reports (the seeds and devset texts, each with its own copy note).

    .venv/bin/python benchmarks/bench_queue.py               # 1,000 reports
    .venv/bin/python benchmarks/bench_queue.py --reports 200

Prints seconds per step and the size of the HTML the list sends to the browser; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_batch import make_corpus, run_batch  # noqa: E402
from extractor.config import RunConfig  # noqa: E402
from extractor.review_store import ReviewStore  # noqa: E402
from ui import queue_render  # noqa: E402
from ui.queue import QueueService  # noqa: E402
from ui.service import ReviewService  # noqa: E402


def _timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn(*args)
    print(f"{label:<44} {time.perf_counter() - t0:8.3f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-queue-") as tmp:
        root = Path(tmp)
        files = make_corpus(root / "in", args.reports)
        out = root / "out"
        _timed(f"batch (template, -j 1, {len(files)} reports)", run_batch, files, out, RunConfig(engine="template"), 1)
        qs = QueueService(ReviewService(ReviewStore(root / "reviews.sqlite")))
        queue = _timed("queue: first load (parse results.jsonl)", qs.load, out)
        _timed("queue: load again (parsed batch cached)", qs.load, out)
        html = _timed("queue: render the list", queue_render.render_queue, queue)
        print(f"{'queue: list HTML sent to the browser':<44} {len(html.encode()) / 1024:8.0f} KiB")
        first = queue.items[0].key
        session = _timed("open the first report (read file, evidence)", qs.open_item, out, first)
        _timed("confirm it", qs.confirm, session, "bench")
        p = queue.progress
        t0 = time.perf_counter()
        outcome = qs.confirm_clean(out, "bench")
        seconds = time.perf_counter() - t0
        per = seconds / max(1, len(outcome.confirmed))
        print(f"{'bulk-confirm ' + str(len(outcome.confirmed)) + ' clean reports':<44} {seconds:8.3f} s "
              f"({per * 1000:.1f} ms each; {p.clean} were clean)")
        _timed("export confirmed reports (csv + xlsx + jsonl)", qs.export, out, "csv", root / "export")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
