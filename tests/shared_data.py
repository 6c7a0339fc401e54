"""Where the tests find the seeds, gold labels and development set.

``../shared`` beside the checkout is the original (or ``NIANBAO_SHARED``). A clone without it still runs
the suite: the same reports live in ``evals/samples`` (a test proves the copies equal the originals), and
a mirror with ``../shared``'s layout is assembled from them. Only what the samples lack is missing there
(the devset's d002/d003 PDFs, its notes): tests that need those skip, naming the file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "evals" / "samples"

# evals/samples name -> path inside a ../shared layout
_RENAMED = {"d001_pdf.pdf": "devset/d001.pdf", "d014_html.html": "devset/d014.html"}


def _layout_path(sample: Path) -> str | None:
    name = sample.name
    if name in _RENAMED:
        return _RENAMED[name]
    if name.startswith("d") and sample.suffix in (".txt", ".json") and "_" not in sample.stem:
        return f"devset/{name}"
    if name[:1].isdigit():
        return f"seeds/{name}" if sample.suffix == ".txt" else f"gold/{name}"
    return None


def _mirror() -> Path:
    files = sorted(p for p in SAMPLES.iterdir() if p.is_file() and _layout_path(p))
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    target = Path(tempfile.gettempdir()) / f"nianbao-shared-mirror-{digest.hexdigest()[:12]}"
    if target.is_dir():
        return target
    building = Path(tempfile.mkdtemp(prefix="nianbao-shared-build-"))
    for p in files:
        dest = building / str(_layout_path(p))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    try:
        building.rename(target)
    except OSError:  # another process built it first
        shutil.rmtree(building, ignore_errors=True)
    return target


def _resolve() -> tuple[Path, bool]:
    env = os.environ.get("NIANBAO_SHARED")
    if env and Path(env).is_dir():
        return Path(env), True
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside, True
    return _mirror(), False


SHARED, SHARED_IS_ORIGINAL = _resolve()
