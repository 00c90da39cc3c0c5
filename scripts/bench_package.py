"""Measure an existing one-folder build: unpacked size, archive size, frozen start to a usable window.

    .venv/bin/python scripts/bench_package.py [--dist dist/dyy-desk] [--archive FILE] [--runs 5]

Prints each run, then as its LAST line
{"dist_mb": …, "archive_mb": …, "frozen_start_s": …, "frozen_start_cpu_s": …}
MB are decimal, as in the issue's targets: 1 MB = 10**6 bytes (the per-run lines also give MiB, 2**20,
what `du -h` shows). Targets on Linux: dist ≤ 160 MB, archive ≤ 70 MB, frozen start ≤ 2 s.

frozen_start_s: the frozen executable's own `selftest` command, run offscreen on a fresh copy of a demo
data folder (made once with the frozen `init --demo`, so no run finds caches left by another); the time
is from process start to selftest's first line, which it prints when the main window has shown the
queue's first rows (MainWindow.ready) — the same point bench_startup.py measures from source. The first
run is not counted: it reads the freshly built files from disk and lets fontconfig build a user font
cache if the system's is stale, which happen once per machine, not once per start.
frozen_start_cpu_s: CPU seconds (all threads, user + system) the process had used at that point, read
from /proc on Linux (null elsewhere). On a shared machine wall time grows with the load (printed with
each run); CPU time hardly does, so compare builds by it.
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
MB = 1000 * 1000  # decimal, like the targets in the issue
MIB = 1024 * 1024
TARGETS = {"dist_mb": 160.0, "archive_mb": 70.0, "frozen_start_s": 2.0}  # Linux, issue #8
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


def folder_bytes(folder: Path) -> int:
    """Apparent size of every regular file (symlinks, e.g. libQt6Core.so.6 → PySide6/Qt/lib, count 0)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def size_text(size: int) -> str:
    return f"{size / MB:.1f} MB ({size / MIB:.1f} MiB, {size:,} bytes)"


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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a running process, all threads (Linux /proc; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0], utime fields[11]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def time_to_ready(exe: Path, data_dir: Path) -> tuple[float, float | None]:
    """(wall seconds, CPU seconds) from starting `selftest` to its ready line; raises if the window never
    becomes usable."""
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
    cpu: float | None = None
    for line in child.stdout:
        if line.startswith(READY_PREFIX):
            elapsed = time.perf_counter() - start
            cpu = cpu_seconds(child.pid)
            break
    try:
        _out, err = child.communicate(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        _out, err = child.communicate()
    if elapsed is None or child.returncode != 0:
        raise RuntimeError(f"frozen selftest failed ({child.returncode}):\n{err}")
    return elapsed, cpu


def frozen_start_median(exe: Path, runs: int) -> tuple[float, float | None]:
    """Median (wall, CPU) seconds to a usable window over `runs` starts after an uncounted first one."""
    with tempfile.TemporaryDirectory(prefix="dyy-frozen-start-") as tmp:
        work = Path(tmp)
        template = demo_template(exe, work)
        walls, cpus = [], []
        for i in range(runs + 1):
            data_dir = work / f"run{i}"
            shutil.copytree(template, data_dir)
            load = load_average()
            wall, cpu = time_to_ready(exe, data_dir)
            label = "first run (not counted)" if i == 0 else f"run {i}"
            cpu_text = "" if cpu is None else f", {cpu:.2f} s CPU"
            load_text = "" if load is None else f" (load {load:.1f})"
            print(f"frozen start {label}: {wall:.2f} s{cpu_text}{load_text}", flush=True)
            if i:
                walls.append(wall)
                if cpu is not None:
                    cpus.append(cpu)
        return round(statistics.median(walls), 2), round(statistics.median(cpus), 2) if cpus else None


def find_archive(dist: Path) -> Path | None:
    """The newest installer/archive built next to the one-folder build."""
    candidates = [
        p
        for pattern in ("dyy-desk-*.tar.gz", "dyy-desk-*-setup.exe", "DYY-Desk-*.dmg")
        for p in dist.parent.glob(pattern)
    ]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def measure(dist: Path, archive: Path | None, runs: int) -> dict[str, float | None]:
    exe = frozen_executable(dist)
    if archive is None:
        archive = find_archive(dist)
    dist_size = folder_bytes(dist)
    print(f"dist {dist}: {size_text(dist_size)}; target <= {TARGETS['dist_mb']:.0f} MB", flush=True)
    if archive is None:  # no installer yet: measure what a tar.gz of the folder would be
        with tempfile.TemporaryDirectory(prefix="dyy-archive-") as tmp:
            archive_size = make_tar_gz(dist, Path(tmp) / "dyy-desk.tar.gz").stat().st_size
        name = "(a tar.gz made for the measurement)"
    else:
        archive_size = archive.stat().st_size
        name = archive.name
    print(f"archive {name}: {size_text(archive_size)}; target <= {TARGETS['archive_mb']:.0f} MB", flush=True)
    wall, cpu = frozen_start_median(exe, runs)
    target = TARGETS["frozen_start_s"]
    print(f"frozen start median: {wall:.2f} s wall, {cpu} s CPU; target <= {target} s", flush=True)
    return {
        "dist_mb": round(dist_size / MB, 1),
        "archive_mb": round(archive_size / MB, 1),
        "frozen_start_s": wall,
        "frozen_start_cpu_s": cpu,
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
