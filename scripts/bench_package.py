"""Measure an existing one-folder build: unpacked size, archive size, frozen start to a usable window.

    .venv/bin/python scripts/bench_package.py [--dist dist/dyy-desk] [--archive FILE] [--runs 5]

Prints each run, then as its LAST line {"dist_mb": …, "archive_mb": …, "frozen_start_s": …}
(MB = 2**20 bytes). Targets on Linux: dist ≤ 160 MB, archive ≤ 70 MB.

frozen_start_s: the frozen executable's own `selftest` command, run offscreen on a fresh copy of a demo
data folder (made once with the frozen `init --demo`, so no run finds caches left by another); the time
is from process start to selftest's first line, which it prints when the main window has shown the
queue's first rows (MainWindow.ready) — the same point bench_startup.py measures from source.
Build helpers (scripts/build_installer.py) import this module; it uses the standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist" / "dyy-desk"
READY_PREFIX = "ok 工单列表已加载"
MB = 1024 * 1024
START_TIMEOUT_S = 120


def frozen_executable(dist: Path) -> Path:
    """The console-capable executable of a one-folder build (on Windows the -cli twin prints)."""
    for name in ("dyy-desk-cli.exe", "dyy-desk.exe", "dyy-desk"):
        if (dist / name).is_file():
            return dist / name
    raise FileNotFoundError(f"no dyy-desk executable in {dist}")


def frozen_env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")
    env.pop("DYY_DESK_HOME", None)
    return env


def run_frozen(exe: Path, *args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=frozen_env(),
        timeout=timeout,
    )


def folder_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / MB, 1)


def make_tar_gz(folder: Path, archive: Path) -> Path:
    """`folder` as <archive>, with the folder's name as the top directory (what an agent unpacks)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz", compresslevel=9) as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def demo_template(exe: Path, where: Path) -> Path:
    """A demo data folder made by the frozen app itself, copied fresh for every timed run."""
    template = where / "template"
    result = run_frozen(exe, "--data-dir", str(template), "init", "--demo")
    if result.returncode != 0:
        raise RuntimeError(f"frozen init --demo failed ({result.returncode}):\n{result.stderr}")
    shutil.rmtree(template / "logs", ignore_errors=True)
    return template


def time_to_ready(exe: Path, data_dir: Path) -> float:
    """Seconds from starting `selftest` to its ready line; raises if the window never becomes usable."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [str(exe), "--data-dir", str(data_dir), "selftest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=frozen_env(),
    )
    assert child.stdout is not None
    elapsed: float | None = None
    for line in child.stdout:
        if line.startswith(READY_PREFIX):
            elapsed = time.perf_counter() - start
            break
    try:
        _out, err = child.communicate(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        _out, err = child.communicate()
    if elapsed is None or child.returncode != 0:
        raise RuntimeError(f"frozen selftest failed ({child.returncode}):\n{err}")
    return elapsed


def frozen_start_median(exe: Path, runs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="dyy-frozen-start-") as tmp:
        work = Path(tmp)
        template = demo_template(exe, work)
        times = []
        for i in range(runs + 1):  # the first run warms the OS file cache and is not counted
            data_dir = work / f"run{i}"
            shutil.copytree(template, data_dir)
            seconds = time_to_ready(exe, data_dir)
            label = "warm-up" if i == 0 else f"run {i}"
            print(f"frozen start {label}: {seconds:.2f} s", flush=True)
            if i:
                times.append(seconds)
        return round(statistics.median(times), 2)


def find_archive(dist: Path) -> Path | None:
    """The newest installer/archive built next to the one-folder build."""
    candidates = [
        p
        for pattern in ("dyy-desk-*.tar.gz", "dyy-desk-*-setup.exe", "DYY-Desk-*.dmg")
        for p in dist.parent.glob(pattern)
    ]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def measure(dist: Path, archive: Path | None, runs: int) -> dict[str, float]:
    exe = frozen_executable(dist)
    if archive is None:
        archive = find_archive(dist)
    if archive is None:  # no installer yet: measure what a tar.gz of the folder would be
        with tempfile.TemporaryDirectory(prefix="dyy-archive-") as tmp:
            archive_mb = round(make_tar_gz(dist, Path(tmp) / "dyy-desk.tar.gz").stat().st_size / MB, 1)
    else:
        archive_mb = round(archive.stat().st_size / MB, 1)
    return {
        "dist_mb": folder_mb(dist),
        "archive_mb": archive_mb,
        "frozen_start_s": frozen_start_median(exe, runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=DIST, help="the one-folder build (dist/dyy-desk)")
    parser.add_argument(
        "--archive", type=Path, help="installer or archive to size (default: newest in dist/)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed frozen starts (median; default 5)")
    args = parser.parse_args()
    if not args.dist.is_dir():
        sys.exit(f"{args.dist} does not exist: build it with `python scripts/dev.py package`")
    print(json.dumps(measure(args.dist, args.archive, args.runs)))


if __name__ == "__main__":
    main()
