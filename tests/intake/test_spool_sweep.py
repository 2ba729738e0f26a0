"""Spool directories of workers that died are removed when a worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from registry import create_app
from registry.intake.spool import sweep_workdirs, workdir
from registry.settings import Settings
from registry.state import state_of


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _left_behind(spool: Path, name: str) -> Path:
    directory = spool / name
    directory.mkdir(parents=True)
    (directory / "upload").write_bytes(b"x" * 1024)
    return directory


def test_only_directories_of_dead_processes_are_swept(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    dead = _left_behind(spool, f"media-{_dead_pid()}-abc")
    unowned = _left_behind(spool, "media-abc")  # a name without a pid: nobody can own it
    ours = _left_behind(spool, f"media-{os.getpid()}-def")
    other = spool / "notes.txt"
    other.write_text("not a request directory")

    removed = sweep_workdirs(spool)

    assert sorted(removed) == sorted([dead, unowned])
    assert not dead.exists() and not unowned.exists()
    assert ours.exists() and other.exists()


def test_a_request_directory_names_its_process(tmp_path: Path) -> None:
    with workdir(tmp_path) as directory:
        assert directory.name.startswith(f"media-{os.getpid()}-")
        assert sweep_workdirs(tmp_path) == []
        assert directory.exists()
    assert not directory.exists()


def test_a_starting_app_sweeps_its_spool(settings: Settings) -> None:
    spool = settings.data_dir / "spool"
    dead = _left_behind(spool, f"media-{_dead_pid()}-xyz")

    app = create_app(settings)
    try:
        assert not dead.exists()
        assert state_of(app).intake.sweep() == []
    finally:
        state_of(app).database.dispose()


def test_an_app_without_a_spool_yet_starts(settings: Settings) -> None:
    assert not (settings.data_dir / "spool").exists()

    app = create_app(settings)

    state_of(app).database.dispose()
