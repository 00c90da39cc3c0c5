"""Evaluate library search end to end, the way a supervisor and an agent use it.

    python scripts/eval_search.py FAQ_CSV QUERIES_CSV [--limit 10]

The FAQ file is imported into a fresh temporary data folder through the command line (`init --empty`,
then `library import`), and every query goes through ONE `search --stdin --jsonl` process (with the
query's client when the queries file has a `client` column). Queries are sent one at a time so the
latency per query excludes start-up. Evaluation data is read only from the paths given here.

Prints Recall@1, Recall@5, MRR (queries with a gold id), recall per `kind` when that column exists,
answer-or-abstain accuracy (queries without a gold id: no result, or the top score below the engine's
no-match threshold), and ms per query; the LAST line is `{"r1": …, "r5": …, "mrr": …}`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dyy_desk.core.search import SearchEngine  # noqa: E402


def cli(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dyy_desk", "--data-dir", str(data_dir), *args]


def run_checked(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    sys.stderr.write(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faq_csv", type=Path)
    parser.add_argument("queries_csv", type=Path)
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    with args.queries_csv.open(encoding="utf-8-sig", newline="") as handle:
        queries = list(csv.DictReader(handle))
    with tempfile.TemporaryDirectory(prefix="dyy-eval-") as tmp:
        data = Path(tmp) / "data"
        run_checked(cli(data, "init", "--empty"))
        run_checked(cli(data, "library", "import", str(args.faq_csv.resolve()), "--kind", "faq"))
        process = subprocess.Popen(
            cli(data, "search", "--stdin", "--jsonl", "--limit", str(args.limit)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        assert process.stdin is not None and process.stdout is not None
        results: list[list[dict[str, object]]] = []
        latencies: list[float] = []
        for row in queries:
            query = " ".join(row["query"].split())  # one query per line: no tabs or line breaks inside
            client = (row.get("client") or "").strip()
            started = time.perf_counter()
            process.stdin.write(f"{query}\t{client}\n" if client else f"{query}\n")
            process.stdin.flush()
            line = process.stdout.readline()
            latencies.append((time.perf_counter() - started) * 1000.0)
            if not line:
                raise SystemExit("search process ended early")
            results.append(json.loads(line))
        process.stdin.close()
        process.wait()
    report(queries, results, latencies)


def report(
    queries: list[dict[str, str]], results: list[list[dict[str, object]]], latencies: list[float]
) -> None:
    threshold = SearchEngine.no_match_threshold
    ranks: list[int | None] = []
    by_kind: dict[str, list[int | None]] = defaultdict(list)
    abstain_ok = abstain_n = false_abstain = 0
    for row, hits in zip(queries, results, strict=True):
        gold = (row.get("gold_id") or "").strip()
        top_score = float(hits[0]["score"]) if hits else 0.0  # type: ignore[arg-type]
        if not gold:
            abstain_n += 1
            abstain_ok += int(not hits or top_score < threshold)
            continue
        ids = [str(h["id"]) for h in hits]
        rank = ids.index(gold) + 1 if gold in ids else None
        ranks.append(rank)
        false_abstain += int(not hits or top_score < threshold)
        if row.get("kind"):
            by_kind[row["kind"]].append(rank)
    n = len(ranks) or 1
    r1 = sum(1 for r in ranks if r == 1) / n
    r5 = sum(1 for r in ranks if r is not None and r <= 5) / n
    mrr = sum(1 / r for r in ranks if r is not None) / n
    print(f"queries: {len(queries)} ({len(ranks)} with gold, {abstain_n} without)")
    print(f"Recall@1 {r1:.3f}   Recall@5 {r5:.3f}   MRR {mrr:.3f}")
    for kind in sorted(by_kind):
        kr = by_kind[kind]
        k1 = sum(1 for r in kr if r == 1) / len(kr)
        k5 = sum(1 for r in kr if r is not None and r <= 5) / len(kr)
        print(f"  {kind:<16} n={len(kr):>3}  R@1 {k1:.3f}  R@5 {k5:.3f}")
    if abstain_n:
        print(f"answer-or-abstain accuracy (threshold {threshold}): {abstain_ok / abstain_n:.3f}")
    print(f"gold queries whose top score falls below the threshold: {false_abstain / n:.3f}")
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] if ordered else 0.0
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0
    mean = sum(latencies) / len(latencies) if latencies else 0.0
    print(f"latency per query: mean {mean:.1f} ms, p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(json.dumps({"r1": round(r1, 4), "r5": round(r5, 4), "mrr": round(mrr, 4)}))


if __name__ == "__main__":
    main()
