"""Kill an importing process at random moments: the database stays sound and holds the whole
bundle or none of it (one transaction, SQLite's journal)."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import memory_keyring, open_machine

__all__ = ["memory_keyring"]
RUNS = int(os.environ.get("DYY_SYNC_CRASH_RUNS", "12"))


@pytest.mark.slow
def test_killed_import_is_all_or_nothing(tmp_path: Path, memory_keyring: object) -> None:
    a = open_machine(tmp_path, "a", FakeClock(START), seed=Seed.DEMO)
    b = open_machine(tmp_path, "b", FakeClock(START), seed=Seed.EMPTY)
    key_text, _ = a.sync.create_team(name="李娜")
    b.sync.join_team(key_text=key_text, name="王芳")
    result = a.sync.export(out=tmp_path / "a1.dyyb")
    a.close()
    b.close()
    expected = {"ticket": result.counts["ticket"], "ticket_event": result.counts["ticket_event"]}
    env = {**os.environ, "DYY_DESK_TEAM_KEY": key_text}
    rng = random.Random(20261123)
    outcomes = set()
    for run in range(RUNS):
        target = tmp_path / f"run{run}"
        shutil.copytree(tmp_path / "b", target)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dyy_desk",
                "--data-dir",
                str(target),
                "import",
                str(tmp_path / "a1.dyyb"),
                "--yes",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=rng.uniform(0.2, 2.0))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with sqlite3.connect(target / "dyy_desk.sqlite3") as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in expected}
            peers = con.execute("SELECT count(*) FROM sync_peer").fetchone()[0]
        if counts == expected:
            assert peers == 1
            outcomes.add("all")
        else:
            assert counts == {t: 0 for t in expected} and peers == 0, counts
            outcomes.add("none")
    assert outcomes  # at least one run completed its check
