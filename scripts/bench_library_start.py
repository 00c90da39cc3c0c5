"""Benchmark app start to first library search answered, on the demo library and on 10k entries.

    python scripts/bench_library_start.py            # demo library + 10k entries, 5 cold starts each
    python scripts/bench_library_start.py --quick    # demo library only, one start

For each library a workspace is prepared (imported through the service, index built once so the
analysis cache is filled), then a fresh Python process does what the app does at start: import the
services, open the workspace, load the index from the cache (jieba warm-up included), answer a
query. The child reports its own time from before its first import to the answer and its CPU time;
the parent also reports the process wall time (interpreter start included). Each figure is the
median over the cold starts (a fresh process each). Target: ≤ 2 s. Last line: JSON of the medians.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = [
    "四件套", "羽绒被", "乳胶枕", "蓝牙耳机", "充电器", "机械键盘", "坚果礼盒",
    "牛肉干", "大米", "连衣裙", "运动鞋", "保温杯", "电饭煲", "扫地机",
]  # fmt: skip
QUERY = "退款几天能到账"


def child(data_dir: str) -> None:
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.library_service import LibraryService
    from dyy_desk.services.workspace import open_workspace

    workspace = open_workspace(resolve_paths(data_dir), clock=SystemClock(), seed_if_new=None)
    opened = time.perf_counter()
    service = LibraryService(
        engine=workspace.engine,
        clock=workspace.clock,
        origin=workspace.machine_id,
        cache_dir=workspace.paths.cache_dir,
    )
    # As the app does: the index loads at start, the first search is answered from it, and the
    # sentence encoder with the entries' vectors loads after that search (then meaning joins the ranking).
    stats = service.index.load(semantic=False)
    loaded = time.perf_counter()
    hits = service.search(QUERY, limit=10)
    answered = time.perf_counter()
    service.index.ensure_semantic()
    semantic = time.perf_counter()
    workspace.close()
    print(
        json.dumps(
            {
                "open_s": round(opened - started, 3),
                "load_s": round(loaded - opened, 3),
                "search_ms": round((answered - loaded) * 1000, 1),
                "total_s": round(answered - started, 3),
                "semantic_s": round(semantic - answered, 3),
                "cpu_s": round(time.process_time(), 3),
                "jieba_ready": service.index.search_engine().ready,
                "entries": stats.entries,
                "from_cache": stats.from_cache,
                "analysed": stats.analysed,
                "hits": len(hits),
            }
        )
    )


def prepare(data_dir: Path, size: int | None) -> int:
    """Workspace with the demo library (size None) or `size` entries; returns the entry count."""
    sys.path.insert(0, str(ROOT))
    from dyy_desk.core.clock import SystemClock
    from dyy_desk.core.library_rows import LibraryKind
    from dyy_desk.core.types import Role
    from dyy_desk.infra.paths import resolve_paths
    from dyy_desk.services.library_service import LibraryService
    from dyy_desk.services.workspace import Seed, open_workspace

    workspace = open_workspace(resolve_paths(data_dir), clock=SystemClock(), seed_if_new=Seed.EMPTY)
    try:
        boss, _ = workspace.directory.create_user(name="主管", role=Role.SUPERVISOR)
        service = LibraryService(
            engine=workspace.engine,
            clock=workspace.clock,
            origin=workspace.machine_id,
            cache_dir=workspace.paths.cache_dir,
        )
        demo = ROOT / "resources" / "demo"
        files = [
            (demo / "library_faq.csv", LibraryKind.FAQ),
            (demo / "library_scripts.csv", LibraryKind.SCRIPTS),
        ]
        if size is not None:
            files = [
                (synthetic(demo / "library_faq.csv", data_dir.parent / "big.csv", size), LibraryKind.FAQ)
            ]
        for path, kind in files:
            preview = service.preview_import(user_id=boss.id, path=path, kind=kind)
            service.apply_import(user_id=boss.id, preview=preview)
        stats = service.index.load()  # fills the analysis cache, as the first start of the app does
        print(f"  {stats.entries} entries; first start analysed {stats.analysed} in {stats.seconds:.1f} s")
        return stats.entries
    finally:
        workspace.close()


def synthetic(source: Path, target: Path, size: int) -> Path:
    """`size` FAQ rows: the demo entries crossed with product names, spread over five clients."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        base = list(csv.DictReader(handle))
    clients = ["", "", "暖居家纺", "青禾食品", "极客数码", "云朵母婴", "山野户外"]
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question", "answer", "similar_questions", "client", "tags"])
        for i in range(size):
            row = base[i % len(base)]
            product = PRODUCTS[(i // len(base)) % len(PRODUCTS)]
            similar = "|".join(f"{product}{q}" for q in row["similar_questions"].split("|") if q)
            writer.writerow(
                [
                    f"B{i:05d}",
                    f"{product}{row['question']}",
                    row["answer"],
                    similar,
                    clients[i % 7],
                    row["tags"],
                ]
            )
    return target


def cold_starts(data_dir: Path, runs: int) -> dict[str, float]:
    results, walls = [], []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(data_dir)], capture_output=True, text=True, check=True
        )
        walls.append(time.perf_counter() - started)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    median = {
        key: statistics.median(r[key] for r in results)
        for key in ("open_s", "load_s", "search_ms", "total_s", "semantic_s", "cpu_s")
    }
    median["process_wall_s"] = round(statistics.median(walls), 3)
    median["from_cache"] = results[-1]["from_cache"]
    median["analysed"] = results[-1]["analysed"]
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5, help="cold starts per library (median reported)")
    parser.add_argument("--child", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    runs = 1 if args.quick else args.runs
    report: dict[str, object] = {}
    sizes: list[tuple[str, int | None]] = [("demo", None)] + ([] if args.quick else [("10k", 10_000)])
    for label, size in sizes:
        with tempfile.TemporaryDirectory(prefix="dyy-bench-") as tmp:
            data = Path(tmp) / "data"
            print(f"{label}:")
            entries = prepare(data, size)
            result = cold_starts(data, runs)
            print(
                f"  {entries} entries: start to first answer {result['total_s']:.2f} s "
                f"(open {result['open_s']:.2f} s, index from cache {result['load_s']:.2f} s, "
                f"query {result['search_ms']:.0f} ms); process wall {result['process_wall_s']:.2f} s, "
                f"process CPU {result['cpu_s']:.2f} s (medians of {runs} cold starts); "
                f"meaning in the ranking {result['semantic_s']:.2f} s after that answer"
            )
            report[f"{label}_start_to_first_answer_s"] = result["total_s"]
            report[f"{label}_process_wall_s"] = result["process_wall_s"]
            report[f"{label}_load_s"] = result["load_s"]
            report[f"{label}_cpu_s"] = result["cpu_s"]
            report[f"{label}_semantic_after_first_answer_s"] = result["semantic_s"]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
