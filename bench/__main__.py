"""`make bench`: run every part in its own interpreter with a time budget, print the tables,
write bench/results/latest.json (this run's full figures), append its headline figures to
bench/results/history.jsonl (one line per run), and write the table of docs/bench.md between its markers."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
HISTORY = "history.jsonl"
PY = sys.executable

# part -> (module, extra args, wall-clock limit in seconds: a ceiling, not the expected time; the whole
# run takes well under 10 minutes when .aws-sam/build is fresh)
PARTS = {
    "package": ("bench.package", [], 120),   # runs first: it makes .aws-sam/build fresh for the others
    # 4 sessions, each with its deploy and its workers' INIT (unbudgeted); the budget stops further reps
    "cost": ("bench.cost", ["--reps", "2", "--budget", "300"], 600),
    "coldstart": ("bench.coldstart", [], 240),   # 120 s ran out on a machine loaded by 5 engineers
    "queries": ("bench.queries", ["--budget", "150"], 200),
    # + latency_ms: 5 idle lifecycles first, then the 50 paced ones (arrivals over 150 s, each ~2.5 min)
    "concurrent": ("bench.throughput", [], 600),
    "throughput": ("bench.dispatch_ratio", ["--lifecycles", "8", "--rounds", "2"], 420),
    "ledger_contention": ("bench.ledger_contention", [], 300),
    "ledger_verification": ("bench.ledger_verification", [], 1500),   # 1M old entries written to moto first
    "journal": ("bench.journal_cost", [], 180),   # the local stack's write-ahead journal, off vs on
    # finance's pages at 10k, 100k and 1M ledger entries and returns (~2.8 GB of moto objects at 1M)
    "finance_aggregates": ("bench.finance_aggregates", ["--budget", "600"], 900),
}


def _machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as lines:
            cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem = ""
    try:
        with open("/proc/meminfo") as lines:
            kb = int(next(line.split()[1] for line in lines if line.startswith("MemTotal")))
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores {cpu}{mem}, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}")


def _run(name: str, module: str, args: list[str], limit: int, log) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    t0 = time.monotonic()
    print(f"-- {name} (limit {limit} s)", flush=True)
    try:
        p = subprocess.run([PY, "-m", module, out, *args], cwd=ROOT, stdout=log, stderr=subprocess.PIPE,
                           text=True, timeout=limit)
        for line in p.stderr.splitlines():
            if line.startswith(f"{name}:") or line.startswith("cost:") or line.startswith("queries:") \
                    or line.startswith("coldstart:") or line.startswith("journal:") \
                    or line.startswith("finance:"):
                print("   " + line, flush=True)
        if p.returncode != 0:
            log.write(p.stderr)
            return {"error": f"exit {p.returncode}: " + p.stderr.strip().splitlines()[-1][:300] if p.stderr.strip()
                    else f"exit {p.returncode}", "seconds": round(time.monotonic() - t0, 1)}
        data = json.loads(Path(out).read_text())
    except subprocess.TimeoutExpired:
        return {"error": f"over its {limit} s budget", "seconds": limit}
    finally:
        Path(out).unlink(missing_ok=True)
    data["seconds"] = round(time.monotonic() - t0, 1)
    return data


def main() -> int:
    os.chdir(ROOT)
    # `--only NAME[,NAME]`: run those parts; the other parts' figures are kept from latest.json.
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    if only and not only <= set(PARTS):
        print(f"bench: unknown part(s) {sorted(only - set(PARTS))}; parts: {', '.join(PARTS)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    now = datetime.now(UTC)
    RESULTS.mkdir(parents=True, exist_ok=True)
    parts: dict = {}
    if only and (RESULTS / "latest.json").exists():
        parts = dict(json.loads((RESULTS / "latest.json").read_text()).get("details", {}))
    with open(Path(tempfile.gettempdir()) / "bench-last-run.log", "w") as log:   # the parts' own output
        for name, (module, args, limit) in PARTS.items():
            if only and name not in only:
                continue
            parts[name] = _run(name, module, args, limit, log)
            log.flush()
    results = report.assemble(parts, machine=_machine(), date=now.strftime("%Y-%m-%d"),
                              runtime=round(time.monotonic() - started, 1))
    record(results, now, measured=sorted(only) if only else None)
    print(report.tables(results))
    report.write_readme(ROOT / "docs" / "bench.md", report.readme_block(results))
    print(f"\nbench: {results['runtime_seconds']} s; results in bench/results/latest.json (a line in {HISTORY}); "
          "docs/bench.md table updated")
    return 0


def record(results: dict, now: datetime, measured: list[str] | None = None, folder: Path = RESULTS) -> None:
    """latest.json: this run's full figures; history.jsonl: one line of headline figures per run. Only the
    latest run keeps its full figures in the repository: a dated copy of each run was 2,000 lines of JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    line = report.history_line(results, run=now.strftime("%Y-%m-%dT%H%M%SZ"))
    if measured:   # `--only`: the other parts' figures are the previous run's, carried over
        line["measured"] = measured
    report.append_history(folder / HISTORY, line)


if __name__ == "__main__":
    from bench import cold_starts_as_on_lambda

    cold_starts_as_on_lambda()
    sys.exit(main())
