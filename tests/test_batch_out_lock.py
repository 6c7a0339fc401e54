"""Two batches on one --out folder: the second is refused at once, naming the first; once the first
ends (however it ends) the folder is free again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extractor.batch.out_lock import LOCK_NAME, OutDirBusy, OutDirLock
from extractor.cli import main
from tests.shared_data import SHARED

REPO = Path(__file__).resolve().parents[1]
SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)

_HOLDER = """
import sys
from pathlib import Path
from extractor.batch.out_lock import OutDirLock
lock = OutDirLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
sys.stdin.read()  # hold it until the test closes our stdin (or kills us)
"""


@pytest.mark.skipif(SEED_001 is None, reason="shared seeds not present")
def test_a_second_batch_on_the_same_out_is_refused_while_the_first_runs(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code = main(["batch", str(SEED_001), "--out", str(out), "--engine", "template", "--file-timeout", "0"])
        err = capsys.readouterr().err
        assert code == 2 and "另一个批处理" in err and f"pid {holder.pid}" in err
        assert not (out / "results.jsonl").exists()  # nothing was read twice
    finally:
        holder.kill()  # the way a crashed batch ends: the lock goes with the process
        holder.wait(timeout=10)
    code = main(["batch", str(SEED_001), "--out", str(out), "--engine", "template", "--file-timeout", "0"])
    assert code == 0
    assert (out / LOCK_NAME).exists()  # left behind, unlocked: harmless


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with OutDirLock(tmp_path):
        with pytest.raises(OutDirBusy):
            OutDirLock(tmp_path).acquire()
    OutDirLock(tmp_path).acquire().release()
