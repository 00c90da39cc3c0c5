"""Cold start to a usable window: a fresh process, the real start path, until the queue shows rows.

Prints each run, then as its last line {"cold_start_ms": median, "runs": N, "tickets": …}.
Target: ≤ 1500 ms (median). Uses a demo workspace unless --data-dir names another.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from dyy_desk.app import run_gui
from dyy_desk.infra.paths import resolve_paths

def ready(window):
    print("READY", window.queue.model.rowCount(), flush=True)
    window.close()

sys.exit(run_gui(resolve_paths(sys.argv[1]), on_ready=ready))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dyy-bench-start-")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not args.data_dir:
        subprocess.run(
            [sys.executable, "-m", "dyy_desk", "--data-dir", data_dir, "init", "--demo"], check=True, env=env
        )
    times, rows = [], 0
    for _ in range(args.runs + 1):  # the first run warms the OS file cache and is not counted
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, data_dir], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
        )
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("READY"):
                times.append((time.perf_counter() - start) * 1000)
                rows = int(line.split()[1])
                break
        child.wait(timeout=60)
        print(f"run {len(times)}: {times[-1]:.0f} ms", flush=True)
    counted = times[1:]
    print(
        json.dumps(
            {"cold_start_ms": round(statistics.median(counted), 1), "runs": len(counted), "tickets": rows}
        )
    )


if __name__ == "__main__":
    main()
