"""Who may reach the review UI and what it leaves behind: login attempts limited, the reviewer is the
logged-in user, the Host header is checked on loopback, uploads and exports are private and removed."""

from __future__ import annotations

import os
import socket
import stat
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from extractor.review_store import ReviewStore
from tests.shared_data import SHARED
from ui.access import LoginGuard, _hostname, reviewer_name
from ui.private_files import PrivateExports
from ui.service import ReviewService

SEED_001 = next((SHARED / "seeds").glob("001_*.txt"), None)
needs_seed = pytest.mark.skipif(SEED_001 is None, reason="shared seeds not present")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fifty_wrong_passwords_are_mostly_never_checked_and_lock_the_login() -> None:
    clock = _Clock()
    guard = LoginGuard("reviewer", "s3cret", clock=clock)
    assert not any(guard("reviewer", f"guess{i}") for i in range(50))
    assert guard.checked == 5 and guard.locked()
    assert guard("reviewer", "s3cret") is False  # even the right password waits out the lock
    clock.now += 61
    assert guard("reviewer", "s3cret") is True and not guard.locked()


def test_each_lockout_lasts_twice_as_long_and_a_success_resets_it() -> None:
    clock = _Clock()
    guard = LoginGuard("u", "p", clock=clock)
    for _ in range(5):
        guard("u", "x")
    clock.now += 61
    for _ in range(5):
        guard("u", "x")
    clock.now += 61
    assert guard.locked()  # the second lock is 120 s
    clock.now += 60
    assert guard("u", "p")
    for _ in range(5):
        guard("u", "x")
    clock.now += 61
    assert not guard.locked()  # back to 60 s after a success
    assert not guard("U", "p") and not guard("u", "P ")  # user and password both compared exactly


def test_failures_outside_the_window_do_not_add_up() -> None:
    clock = _Clock()
    guard = LoginGuard("u", "p", clock=clock)
    for _ in range(20):
        guard("u", "x")
        clock.now += 100  # one wrong password every 100 s: never 5 within 300 s
    assert not guard.locked() and guard.checked == 20


def test_reviewer_is_the_logged_in_user_when_there_is_one() -> None:
    assert reviewer_name(SimpleNamespace(username="alice"), "mallory") == "alice"
    assert reviewer_name(SimpleNamespace(username=None), "张三") == "张三"
    assert reviewer_name(None, None) == ""


def test_host_names_are_read_as_browsers_send_them() -> None:
    assert _hostname("127.0.0.1:7860") == "127.0.0.1"
    assert _hostname("[::1]:7860") == "::1"
    assert _hostname("LocalHost.:80") == "localhost"
    assert _hostname("evil.example:7860") == "evil.example"
    assert _hostname("127.0.0.1.evil.example") == "127.0.0.1.evil.example"


@needs_seed
def test_exports_are_private_and_swept(tmp_path: Path) -> None:
    assert SEED_001 is not None
    service = ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=None)
    session = service.extract(service.load_input(SEED_001.read_text(encoding="utf-8"), None), "template")
    service.confirm(session, "甲")
    paths = [service.export(fmt) for fmt in ("json", "csv", "xlsx", "gold")]  # type: ignore[arg-type]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    service.exports.sweep(now=float("inf"))
    assert not any(p.exists() for p in paths)


def test_export_folders_are_removed_after_an_hour_only(tmp_path: Path) -> None:
    exports = PrivateExports(max_age_s=3600)
    fresh = exports.new_dir()
    exports.sweep()
    assert fresh.is_dir()
    exports.close()
    assert not fresh.exists()


# ---- the served app
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int, ReviewService]]:
    pytest.importorskip("gradio")
    from ui.app import build_app, launch

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    monkeypatch.delenv("NIANBAO_UI_USER", raising=False)
    monkeypatch.delenv("NIANBAO_UI_PASSWORD", raising=False)
    service = ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=None)
    port = _free_port()
    app = build_app(service)
    launch(app, port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}", port, service
    finally:
        app.close()
        monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)


def _status(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_loopback_ui_refuses_other_host_names(served: tuple[str, int, ReviewService]) -> None:
    base, port, _ = served
    assert _status(f"{base}/config") == 200
    assert _status(f"{base}/config", {"Host": f"localhost:{port}"}) == 200
    # a DNS-rebinding page reaches the port under its own name
    assert _status(f"{base}/config", {"Host": f"rebind.attacker.example:{port}"}) == 400
    assert _status(f"{base}/gradio_api/info", {"Host": "127.0.0.1.attacker.example"}) == 400


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_uploads_land_in_a_private_folder(served: tuple[str, int, ReviewService]) -> None:
    import httpx

    base, _, _ = served
    root = Path(os.environ["GRADIO_TEMP_DIR"])
    assert stat.S_IMODE(root.parent.stat().st_mode) == 0o700 and root.parent.name.startswith("nianbao-ui-")
    resp = httpx.post(f"{base}/gradio_api/upload", files={"files": ("r.txt", "年度报告".encode(), "text/plain")},
                      timeout=10)
    resp.raise_for_status()
    stored = Path(resp.json()[0])
    assert root in stored.parents  # not /tmp/gradio, readable by every account


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_login_over_http_is_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gradio")
    from ui.app import build_app, launch

    monkeypatch.setenv("NIANBAO_UI_USER", "reviewer")
    monkeypatch.setenv("NIANBAO_UI_PASSWORD", "s3cret")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    port = _free_port()
    app = build_app(ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=None))
    launch(app, port=port, prevent_thread_lock=True, quiet=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def login(password: str) -> int:
            data = urllib.parse.urlencode({"username": "reviewer", "password": password}).encode()
            return _status(f"{base}/login", data=data)

        assert [login(f"wrong{i}") for i in range(20)] == [400] * 20
        assert login("s3cret") == 400  # locked: the right password is refused for now
    finally:
        app.close()
        monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)


@needs_seed
def test_confirm_records_the_logged_in_user_not_the_typed_name(tmp_path: Path) -> None:
    pytest.importorskip("gradio")
    from ui.app import build_app

    assert SEED_001 is not None
    service = ReviewService(ReviewStore(tmp_path / "r.sqlite"), time_budget_s=None)
    app = build_app(service)
    on_confirm = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "on_confirm")
    session = service.extract(service.load_input(SEED_001.read_text(encoding="utf-8"), None), "template")
    on_confirm(session, "mallory", SimpleNamespace(username="alice"))
    assert [r.reviewer for r in service.list_records()] == ["alice"]
    session = service.reopen(service.list_records()[0].id)
    on_confirm(session, "张三", SimpleNamespace(username=None))  # no login: the typed name
    assert [r.reviewer for r in service.list_records()] == ["张三"]
