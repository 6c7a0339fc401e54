"""``python -m tests.hostile DIR``: write the hostile corpus into DIR."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.hostile import build_corpus

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.hostile DIR")
    for name, path in build_corpus(Path(sys.argv[1])).items():
        print(f"{name}\t{path}")
