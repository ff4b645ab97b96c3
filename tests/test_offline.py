"""Crosswalk never touches the network: the CLI (in fresh processes) and a whole TUI session
run with every IPv4/IPv6 socket refused, and still work. (Local AF_UNIX socket pairs stay
allowed: asyncio's event loop uses one to wake itself.)"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import offline_environment


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    return offline_environment(tmp_path / "guard", Path(__file__).parent.parent)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, text=True,
                          capture_output=True, timeout=120)


def test_the_guard_refuses_the_network(offline_env: dict[str, str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
        env=offline_env, text=True, capture_output=True, timeout=60)
    assert probe.returncode != 0
    assert "network access attempted while offline" in probe.stderr


def test_every_command_works_offline(offline_env: dict[str, str], tmp_path: Path) -> None:
    ws = tmp_path / "demo.db"
    steps = [
        ["--workspace", str(ws), "demo", "--no-open"],
        ["--workspace", str(ws), "status", "--json"],
        ["--workspace", str(ws), "verify"],
        ["--workspace", str(ws), "coverage", "--json"],
        ["--workspace", str(ws), "risks", "heatmap"],
        ["--workspace", str(ws), "exercise", "report", "EX-1"],
        ["--workspace", str(ws), "playbook", "export", "model-drift", "-o",
         str(tmp_path / "drift.json")],
        ["--workspace", str(ws), "export", "matrix", "--format", "xlsx", "-o",
         str(tmp_path / "m.xlsx")],
        ["keygen", "-o", str(tmp_path / "k")],
        ["--workspace", str(ws), "export", "bundle", "-o", str(tmp_path / "b.zip"),
         "--sign", str(tmp_path / "k.key")],
        ["verify-bundle", str(tmp_path / "b.zip"), "--pubkey", str(tmp_path / "k.pub")],
        ["clocks", "--aware", "2026-11-01T09:00"],
    ]
    for args in steps:
        r = run(offline_env, *args)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        assert "offline" not in r.stderr, args


async def test_a_whole_tui_session_offline(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    from app.services.demo import create_demo
    from app.tui.app import make_app
    from app.tui.sections import SECTIONS

    real = socket.socket

    class Offline(real):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, *args: object, **kwargs: object) -> None:
            if family in (socket.AF_INET, socket.AF_INET6) or family == -1:
                raise OSError("network access attempted while offline")
            super().__init__(family, *args, **kwargs)  # type: ignore[arg-type]

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("network access attempted while offline")

    store = create_demo(tmp_path / "demo.db", actor="tester")
    monkeypatch.setattr(socket, "socket", Offline)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(OSError, match="offline"):
        socket.create_connection(("127.0.0.1", 9))
    app = make_app(store, show_paths=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for section in SECTIONS:
            await pilot.press(section.key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.current_mode == section.id
        await pilot.press("0", "enter")  # the demo's exercise in the runner
        await pilot.pause()
        await pilot.press("r")  # its after-action report
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "AfterActionScreen"
    store.close()
