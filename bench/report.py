"""The bench's results: the JSON issue 9 names (latest.json), a line of headline figures per run
(history.jsonl), the printed tables, the README block."""
from __future__ import annotations

import json
from pathlib import Path

BEGIN, END = "<!-- BEGIN bench -->", "<!-- END bench -->"
COST_TARGET, TRANSITIONS_TARGET, INIT_TARGET = 1.00, 20, 1.25
BLENDED_TARGET = 0.80                       # issue 20: every path ≤ COST_TARGET, the blend ≤ this
SCAN_P95_LOAD_MS, LABEL_P95_MS, THROUGHPUT_RATIO_TARGET = 300, 5000, 0.8
LEDGER_SCALE_TARGET = 5   # issue 35: appends/s at 20 writers over those at 1
# The cost part's figures measured on the code before issue 20's changes (fewer emails, timeline records
# as single writes), by the same bench (bench/cost.py), kept for the before/after table.
BEFORE = Path(__file__).resolve().parent / "results" / "cost-before-issue20.json"


def _before() -> dict:
    try:
        return json.loads(BEFORE.read_text())
    except (OSError, ValueError):
        return {}


def cost_per_path(cost: dict) -> dict:
    """`cost_per_path_usd`: USD per 1,000 returns of each path, the blend, and the paths not measurable here."""
    paths = {name: p["usd_per_1000_total"] for name, p in (cost.get("paths") or {}).items()}
    out: dict = {"per": "1,000 returns", "paths": paths, "blended": cost.get("cost_per_1000_returns_usd"),
                 "pending": cost.get("pending_paths") or {}}
    before = _before()
    if before.get("paths"):
        out["before"] = {"paths": {n: p["usd_per_1000_total"] for n, p in before["paths"].items()},
                         "blended": before.get("cost_per_1000_returns_usd"),
                         "emails": {n: p["per_return"]["ses.emails"] for n, p in before["paths"].items()},
                         "dynamodb_wru": {n: p["per_return"]["dynamodb.wru"] for n, p in before["paths"].items()},
                         "measured": before.get("measured")}
    return out


def throughput(ratio_part: dict, conc: dict) -> dict:
    by = ratio_part.get("by_mode") or {}
    out = {"built_per_minute": (by.get("built") or {}).get("per_minute"),
           "in_process_per_minute": (by.get("in_process") or {}).get("per_minute"),
           "ratio_built_to_in_process": ratio_part.get("ratio_built_to_in_process"),
           "concurrency": ratio_part.get("concurrency"), "rounds": ratio_part.get("rounds"),
           "failures": {m: v.get("failures") for m, v in by.items()},
           "http_local_stack_per_minute": conc.get("per_minute"), "target_ratio": THROUGHPUT_RATIO_TARGET}
    if ratio_part.get("error"):
        out["error"] = ratio_part["error"]
    return out
SERVICES = ["stepfunctions", "ses", "dynamodb", "apigateway", "lambda", "s3", "sns", "secretsmanager"]


def assemble(parts: dict, machine: str, date: str, runtime: float) -> dict:
    cost, cold, q, conc, pkg = (parts.get(k, {}) for k in ("cost", "coldstart", "queries", "concurrent", "package"))
    ratio_part = parts.get("throughput", {})
    contention = parts.get("ledger_contention", {})
    concurrent = {"lifecycles": conc.get("lifecycles", 50), "failures": conc.get("failures"),
                  "per_minute": conc.get("per_minute")}
    if conc.get("skipped") or conc.get("error"):
        concurrent["skipped"] = conc.get("skipped") or conc.get("error")
    for k in ("arrival_seconds", "offered_per_hour", "think_seconds", "peak_in_flight",
              "wall_seconds", "http_requests", "connection_retries", "lifecycle_seconds_median",
              "lifecycle_seconds_max", "errors", "idle_lifecycles", "idle_failures"):
        if k in conc:
            concurrent[k] = conc[k]
    query_cost = q.get("query_cost") or {size: v for size, v in (q.get("sizes") or {}).items()}
    return {
        "date": date, "machine": machine, "runtime_seconds": runtime,
        "cost_per_1000_returns_usd": cost.get("cost_per_1000_returns_usd"),
        "happy_path_transitions": cost.get("happy_path_transitions"),
        "init_ratio": cold.get("init_ratio", {}),
        "scans_per_lifecycle": cost.get("scans_per_lifecycle"),
        "query_cost": query_cost,
        "concurrent": concurrent,
        "cost_per_path_usd": cost_per_path(cost),
        "latency_ms": conc.get("latency_ms") or ({"error": conc.get("skipped") or conc.get("error")}
                                                 if conc.get("skipped") or conc.get("error") else {}),
        "throughput": throughput(ratio_part, conc),
        "package_size": {n: {"zipped": f["zipped"], "unzipped_with_layer": f["with_layer_unzipped"]}
                         for n, f in (pkg.get("functions") or {}).items()},
        "cold_start_ms": {n: {"init_ms": f.get("init_ms"), "init_ratio": f.get("init_ratio"),
                              "first_call_ms": f.get("first_call_ms")}
                          for n, f in (cold.get("functions") or {}).items()},
        "ledger_contention": ({"error": contention["error"]} if contention.get("error") else
                              {n: {k: v[k] for k in ("appends_per_second", "retries", "failures", "verified")}
                               for n, v in (contention.get("sizes") or {}).items()}),
        "targets": {
            "cost_per_1000_returns_usd": COST_TARGET, "happy_path_transitions": TRANSITIONS_TARGET,
            "init_ratio": INIT_TARGET, "scans_per_lifecycle": 0, "concurrent_failures": 0,
            "ledger_contention_failures": 0, "cost_per_path_usd": COST_TARGET, "cost_blended_usd": BLENDED_TARGET,
            "scan_p95_under_load_ms": SCAN_P95_LOAD_MS, "label_ready_p95_ms": LABEL_P95_MS,
            "throughput_ratio": THROUGHPUT_RATIO_TARGET},
        "journal": ({"error": parts["journal"]["error"]} if (parts.get("journal") or {}).get("error") else
                    (parts.get("journal") or {}).get("rounds", {})),
        "finance_reads": _finance_reads(parts.get("finance_aggregates") or {}),
        "details": {"cost": cost, "coldstart": cold, "queries": q, "concurrent": conc, "package": pkg,
                    "ledger_contention": contention, "throughput": ratio_part, "journal": parts.get("journal", {}),
                    "ledger_verification": parts.get("ledger_verification", {}),
                    "finance_aggregates": parts.get("finance_aggregates", {})},
    }


def _finance_reads(fin: dict) -> dict:
    """Per size, each finance page's DynamoDB calls and read units (bench/finance_aggregates.py)."""
    if fin.get("error"):
        return {"error": fin["error"]}
    return {size: {page: {"calls": m["calls_total"], "read_units": m["read_units"]} for page, m in pages.items()}
            for size, pages in (fin.get("sizes") or {}).items()}


def history_line(r: dict, run: str) -> dict:
    """One run's headline figures (those of the summary table), for bench/results/history.jsonl: a run's
    full figures are kept only while it is the latest (latest.json); older ones keep this line."""
    details = r.get("details") or {}
    per = r.get("cost_per_path_usd") or {}
    paths = per.get("paths") or {}
    worst_path = max(paths, key=paths.get) if paths else None
    ratios = {k: v for k, v in (r.get("init_ratio") or {}).items() if v is not None}
    worst_init = max(ratios, key=ratios.get) if ratios else None
    conc = r.get("concurrent") or {}
    lat = r.get("latency_ms") or {}
    lc = {n: v for n, v in (r.get("ledger_contention") or {}).items() if isinstance(v, dict)}
    journal = {k: {f: v[f] for f in ("writes_per_second", "fsyncs_per_write", "throughput_vs_off") if f in v}
               for k, v in (r.get("journal") or {}).items() if isinstance(v, dict)}
    errors = {name: part["error"] for name, part in details.items() if isinstance(part, dict) and part.get("error")}
    line = {
        "run": run, "date": r.get("date"), "machine": r.get("machine"), "runtime_seconds": r.get("runtime_seconds"),
        "cost_per_1000_returns_usd": r.get("cost_per_1000_returns_usd"),
        "cost_worst_path": worst_path, "cost_worst_path_usd": paths.get(worst_path),
        "happy_path_usd_per_1000": (details.get("cost") or {}).get("happy_path_usd_per_1000"),
        "happy_path_transitions": r.get("happy_path_transitions"),
        "init_ratio_worst": ratios.get(worst_init), "init_ratio_worst_function": worst_init,
        "scans_per_lifecycle": r.get("scans_per_lifecycle"),
        "query_cost_flat": (details.get("queries") or {}).get("flat"),
        "finance_reads_flat": (details.get("finance_aggregates") or {}).get("flat"),
        "concurrent_failures": None if conc.get("skipped") else conc.get("failures"),
        "concurrent_per_minute": None if conc.get("skipped") else conc.get("per_minute"),
        "scan_p95_load_ms": ((lat.get("load") or {}).get("scan") or {}).get("p95"),
        "label_ready_p95_ms": {ph: ((lat.get(ph) or {}).get("label_ready") or {}).get("p95") for ph in ("idle", "load")
                               if isinstance(lat.get(ph), dict)} or None,
        "throughput_ratio": (r.get("throughput") or {}).get("ratio_built_to_in_process"),
        "ledger_contention_failures": sum(v.get("failures", 0) for v in lc.values()) if lc else None,
        "ledger_chain_verified": all(v.get("verified") for v in lc.values()) if lc else None,
        "journal": journal or None,
    }
    if errors:
        line["errors"] = errors
    return {k: v for k, v in line.items() if v is not None}   # a part that did not run measured nothing


def append_history(path: Path, line: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def _mark(ok) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def _kb(n: int | None) -> str:
    return "?" if n is None else (f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KB")


def summary_rows(r: dict) -> list[tuple[str, str, str, str]]:
    cost = r["details"]["cost"]
    rows = []
    c = r["cost_per_1000_returns_usd"]
    rows.append(("Cost per 1,000 returns (blended mix, excl. SMS)", f"${c:.3f}" if c is not None else "error",
                 f"≤ ${COST_TARGET:.2f}", _mark(None if c is None else c <= COST_TARGET)))
    per = r.get("cost_per_path_usd") or {}
    if per.get("paths"):
        worst = max(per["paths"], key=per["paths"].get)
        rows.append(("Cost per 1,000 returns, worst path", f"${per['paths'][worst]:.3f} ({worst})",
                     f"≤ ${COST_TARGET:.2f} every path", _mark(per["paths"][worst] <= COST_TARGET)))
        rows.append(("Cost per 1,000 returns, blended (issue 20 target)", f"${c:.3f}" if c is not None else "error",
                     f"≤ ${BLENDED_TARGET:.2f}", _mark(None if c is None else c <= BLENDED_TARGET)))
    hp = cost.get("happy_path_usd_per_1000")
    if hp is not None:
        rows.append(("Cost per 1,000 returns, happy path only (Stripe refund)", f"${hp:.3f}", f"≤ ${COST_TARGET:.2f}",
                     _mark(hp <= COST_TARGET)))
    fs = cost.get("first_scan") or {}
    if fs.get("usd_per_1000") is not None:
        p95 = (fs.get("dropoff_to_refund_ms") or {}).get("p95")
        rows.append(("First-scan refund (issue 33): cost per 1,000 returns; drop-off → refund p95",
                     f"${fs['usd_per_1000']:.3f}; " + ("n/a" if p95 is None else f"{p95 / 1000:.2f} s"),
                     f"≤ ${COST_TARGET:.2f}", _mark(fs["usd_per_1000"] <= COST_TARGET)))
    t = r["happy_path_transitions"]
    rows.append(("Billed transitions, happy path (request → closed)",
                 f"{t} ({cost.get('happy_path_transitions_to_refund')} to refund)" if t is not None else "error",
                 f"≤ {TRANSITIONS_TARGET}", _mark(None if t is None else t <= TRANSITIONS_TARGET)))
    ratios = {k: v for k, v in (r["init_ratio"] or {}).items() if v is not None}
    if ratios:
        worst = max(ratios, key=ratios.get)
        rows.append(("Cold start, worst init ratio to `import boto3` + 1 client",
                     f"{ratios[worst]}× ({worst})", f"≤ {INIT_TARGET}×",
                     _mark(all(v <= INIT_TARGET for v in ratios.values()))))
    s = r["scans_per_lifecycle"]
    rows.append(("Scan calls per lifecycle", str(s), "0", _mark(None if s is None else s == 0)))
    q = r["details"]["queries"]
    if q.get("flat") is not None:
        rows.append(("Finance page / queue page cost, 10k vs 100k rows", "equal" if q["flat"] else "GROWS",
                     "equal", _mark(q["flat"])))
    fin = r["details"].get("finance_aggregates") or {}
    if fin.get("flat") is not None:
        sizes = ", ".join(f"{int(n) // 10**6}M" if int(n) >= 10**6 else f"{int(n) // 1000}k"
                          for n in fin.get("sizes", {}))
        rows.append((f"Finance analytics / reconciliation reads, {sizes} rows", "equal" if fin["flat"] else "GROWS",
                     "equal", _mark(fin["flat"])))
    conc = r["concurrent"]
    rows.append(("50 concurrent lifecycles over HTTP (failures)",
                 "skipped" if conc.get("skipped") else f"{conc['failures']} failed, {conc['per_minute']}/min",
                 "0 failures", _mark(None if conc.get("skipped") else conc["failures"] == 0)))
    lat = r.get("latency_ms") or {}
    load = lat.get("load") or {}
    if (load.get("scan") or {}).get("p95") is not None:
        rows.append(("Scan p95 under 50 concurrent lifecycles (HTTP)", f"{load['scan']['p95']:.0f} ms",
                     f"≤ {SCAN_P95_LOAD_MS} ms", _mark(load["scan"]["p95"] <= SCAN_P95_LOAD_MS)))
    label = [(lat.get(ph) or {}).get("label_ready", {}).get("p95") for ph in ("idle", "load")]
    if any(v is not None for v in label):
        worst = max(v for v in label if v is not None)
        rows.append(("Label ready p95 (POST /returns → PDF), idle / under load",
                     " / ".join("n/a" if v is None else f"{v / 1000:.2f} s" for v in label),
                     f"≤ {LABEL_P95_MS / 1000:.0f} s", _mark(worst <= LABEL_P95_MS)))
    tp = r.get("throughput") or {}
    if tp.get("ratio_built_to_in_process") is not None:
        rows.append(("Throughput, built artifacts vs in-process dispatch (same run)",
                     f"{tp['ratio_built_to_in_process']}× ({tp['built_per_minute']} vs {tp['in_process_per_minute']}"
                     f" lifecycles/min at {tp['concurrency']} concurrent)", f"≥ {THROUGHPUT_RATIO_TARGET}×",
                     _mark(tp["ratio_built_to_in_process"] >= THROUGHPUT_RATIO_TARGET)))
    lc = r.get("ledger_contention") or {}
    if lc and not lc.get("error"):
        most = max(lc, key=int)
        worst = sum(v["failures"] for v in lc.values())
        rows.append((f"Concurrent settles on the ledger's chains (N = {', '.join(lc)})",
                     f"{worst} failed, {lc[most]['appends_per_second']} appends/s at N={most}, "
                     f"chain {'verified' if all(v['verified'] for v in lc.values()) else 'BROKEN'}",
                     "0 failures, verified", _mark(worst == 0 and all(v["verified"] for v in lc.values()))))
        if "1" in lc and lc["1"]["appends_per_second"]:
            scale = round(lc[most]["appends_per_second"] / lc["1"]["appends_per_second"], 1)
            rows.append((f"Ledger appends/s at N={most} vs N=1", f"{scale}×", f"≥ {LEDGER_SCALE_TARGET}×",
                         _mark(scale >= LEDGER_SCALE_TARGET)))
    lv = ((r.get("details") or {}).get("ledger_verification") or {}).get("sizes") or {}
    if lv:
        reads = {n: v["sweep_off"]["requests"] for n, v in lv.items()}
        rows.append((f"Ledger verification job: requests for {r['details']['ledger_verification']['batch']} new "
                     f"entries at {', '.join(reads)} old", ", ".join(str(v) for v in reads.values()),
                     "the same at every size", _mark(len(set(reads.values())) == 1)))
    return rows


def ledger_verification_table(r: dict) -> str:
    lv = r["details"].get("ledger_verification") or {}
    if not lv.get("sizes"):
        return f"ledger_verification: {lv.get('error', 'no result')}"
    rows = [[n, v["history_chains"], v["sweep_off"]["requests"], v["sweep_off"]["checked"],
             (v.get("sweep_20") or {}).get("requests", "-"), (v.get("sweep_20") or {}).get("checked", "-"),
             v["sweep_off"]["seconds"], v["sweep_off"]["ok"] and (v.get("sweep_20") or {}).get("ok", True)]
            for n, v in lv["sizes"].items()]
    return _table(["old entries", "their chains", "requests (sweep off)", "entries checked",
                   "requests (sweep 20)", "entries checked", "run s (moto)", "ok"], rows)


def ledger_contention_table(r: dict) -> str:
    lc = r["details"].get("ledger_contention") or {}
    if not lc.get("sizes"):
        return f"ledger_contention: {lc.get('error', 'no result')}"
    rounds = lc.get("by_latency") or {"0ms": lc["sizes"]}
    rows = [[tag, n, v["wall_seconds"], v["appends_per_second"], v["retries"], v["failures"], v["verified"],
             v["chain_length"], v.get("chains", "")] for tag, sizes in rounds.items() for n, v in sizes.items()]
    return _table(["DynamoDB round trip", "concurrent settles", "wall s", "appends/s", "lost races retried",
                   "failures", "chain verified", "entries", "chains"], rows)


def _table(head: list[str], rows: list) -> str:
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def cost_tables(r: dict) -> str:
    cost = r["details"]["cost"]
    paths = cost.get("paths") or {}
    if not paths:
        return f"cost: {cost.get('error', 'no result')}"
    head = ["path (share of mix)"] + SERVICES + ["total $/1000", "transitions", "Lambda calls", "WRU", "RRU",
                                                   "emails", "SNS", "SMS (excl.)", "API requests"]
    rows = []
    for name, p in paths.items():
        u, q = p["usd_per_1000"], p["per_return"]
        share = f"{cost['mix'][name]:.0%}" if name in cost["mix"] else "outside the mix"
        rows.append([f"{name} ({share})"] + [f"{u.get(s, 0):.3f}" for s in SERVICES] + [
            f"**{p['usd_per_1000_total']:.3f}**", p["transitions"], q["lambda.requests"], round(q["dynamodb.wru"]),
            q["dynamodb.rru"], q["ses.emails"], q["sns.publish"], q["sns.sms"], q["api.requests"]])
    b = cost["blended_usd_per_1000"]
    rows.append(["**blended**"] + [f"{b.get(s, 0):.3f}" for s in SERVICES] +
                [f"**{cost['cost_per_1000_returns_usd']:.3f}**"] + [""] * 8)
    return _table(head, rows)


def cost_before_after_table(r: dict) -> str:
    per = r.get("cost_per_path_usd") or {}
    before = per.get("before") or {}
    if not per.get("paths"):
        return "cost: no result"
    paths = r["details"]["cost"].get("paths") or {}
    rows = []
    for name, usd in per["paths"].items():
        b = (before.get("paths") or {}).get(name)
        rows.append([name, "—" if b is None else f"{b:.3f}", f"{usd:.3f}",
                     "—" if b is None else f"{usd - b:+.3f}",
                     (before.get("emails") or {}).get(name, "—"), paths[name]["per_return"]["ses.emails"],
                     "—" if (before.get("dynamodb_wru") or {}).get(name) is None
                     else round(before["dynamodb_wru"][name]),
                     round(paths[name]["per_return"]["dynamodb.wru"]), _mark(usd <= COST_TARGET)])
    b = before.get("blended")
    rows.append(["**blended**", "—" if b is None else f"{b:.3f}", f"**{per['blended']:.3f}**",
                 "—" if b is None else f"{per['blended'] - b:+.3f}", "", "", "", "",
                 _mark(per["blended"] <= BLENDED_TARGET)])
    for name, why in (per.get("pending") or {}).items():
        rows.append([name, "—", "pending", "", "", "", "", "", why])
    note = f"before: {before.get('measured')}" if before.get("measured") else "before: not measured"
    return _table(["path", "before $/1000", "after $/1000", "change", "emails before", "emails after",
                   "WRU before", "WRU after", f"≤ ${COST_TARGET:.2f} (blend ≤ ${BLENDED_TARGET:.2f})"], rows) + \
        "\n\n" + note


def latency_table(r: dict) -> str:
    lat = r.get("latency_ms") or {}
    if not lat or lat.get("error"):
        return f"latency: {lat.get('error', 'no result')}"
    rows = []
    for figure in ("lookup", "post_returns", "label_ready", "scan", "inspection"):
        idle, load = (lat.get(ph, {}).get(figure) or {} for ph in ("idle", "load"))
        ratio = (f"{load['p50'] / idle['p50']:.1f}×" if idle.get("p50") and load.get("p50") else "")
        rows.append([figure] + [("—" if x.get(k) is None else f"{x[k]:.0f}") for x in (idle, load)
                                for k in ("p50", "p95", "p99")] + [idle.get("n", 0), load.get("n", 0), ratio])
    conc = r["concurrent"]
    return _table(["figure (ms, client-side over HTTP)", "idle p50", "idle p95", "idle p99", "load p50", "load p95",
                   "load p99", "n idle", "n load", "load/idle p50"], rows) + (
        f"\n\nidle: {conc.get('idle_lifecycles', '?')} lifecycles one after another; load: {conc.get('lifecycles')} "
        f"lifecycles arriving one every {conc.get('arrival_seconds', '?')} s ({conc.get('offered_per_hour', '?')} "
        f"returns and scans an hour) with their people's think times {conc.get('think_seconds', '?')} s, "
        f"{conc.get('peak_in_flight', '?')} in flight at the peak; the local stack from the built artifacts "
        "(`python -m infra.local run` on free ports, "
        "started and stopped by the bench). This machine is 2 cores shared with other work: read the ratios.")


def throughput_text(r: dict) -> str:
    tp = r.get("throughput") or {}
    if tp.get("error") or tp.get("ratio_built_to_in_process") is None:
        return f"throughput: {tp.get('error', 'no result')}"
    return (f"{tp['concurrency']} concurrent store-credit lifecycles per round, {tp['rounds']} rounds alternating: "
            f"built artifacts {tp['built_per_minute']}/min, in-process dispatch {tp['in_process_per_minute']}/min, "
            f"ratio **{tp['ratio_built_to_in_process']}×** (target ≥ {THROUGHPUT_RATIO_TARGET}×); failures "
            f"{tp['failures']}. Over HTTP on the local stack ({r['concurrent'].get('lifecycles')} concurrent, with the "
            f"latency probes): {tp.get('http_local_stack_per_minute')}/min. Method: `bench/dispatch_ratio.py`.")


def cold_table(r: dict) -> str:
    cold = r["details"]["coldstart"]
    if not cold.get("functions"):
        return f"cold start: {cold.get('error', 'no result')}"
    rows = []
    for name, f in cold["functions"].items():
        slow = ", ".join(f"{i['module']} {i['ms']:.0f} ms" for i in (f.get("slowest_imports") or [])[:3])
        rows.append([name, f.get("init_ms"), f.get("init_ratio"), f.get("first_call_ms"), f.get("cold_total_ratio"),
                     _mark(f.get("meets_target")), slow or f.get("error", "")])
    b = cold["baseline"]
    where = f"{cold['interpreter']}, " if cold.get("interpreter") else ""
    return (f"baseline (fresh runtime interpreter, {where}`import boto3` + one client): median {b['median_ms']} ms "
            f"(runs {b['runs_ms']})\n\n" + _table(
                ["function", "init ms", "init ratio", "first call ms", "(init+first call) ratio", "≤ 1.25×",
                 "slowest imports (-X importtime, cumulative)"], rows))


def query_table(r: dict) -> str:
    q = r["details"]["queries"]
    if not q.get("sizes"):
        return f"queries: {q.get('error', 'no result')}"
    rows = []
    for size, pages in q["sizes"].items():
        for page, m in pages.items():
            rows.append([f"{int(size):,}", page, m["calls"], m["scans"], m["items_examined"], m["items_returned"],
                         m["read_units"], m["moto_wall_ms"]])
    note = f"fill time (s): {q.get('fill_seconds')}" + (f"; {q['incomplete']}" if q.get("incomplete") else "")
    return _table(["rows/table", "page", "calls", "scans", "items examined", "returned", "read units",
                   "moto ms (informational)"], rows) + "\n\n" + note


def finance_table(r: dict) -> str:
    fin = r["details"].get("finance_aggregates") or {}
    if not fin.get("sizes"):
        return f"finance_aggregates: {fin.get('error', 'no result')}"
    rows = []
    for size, pages in fin["sizes"].items():
        for page, m in pages.items():
            rows.append([f"{int(size):,}", page, ", ".join(f"{op} {n}" for op, n in sorted(m["calls"].items())),
                         m["scans"], m["items_examined_by_queries"], m["read_units"], m["moto_wall_ms"]])
    roll = fin.get("roll_up") or {}
    per_day = fin.get("per_day")
    note = (f"one day ({fin.get('queried_day')}, {per_day} returns and {per_day} ledger entries), "
            f"reconciliation's first page of 100 orders; the day's aggregates made by the roll-up's counting "
            f"({roll.get('returns')} returns, {roll.get('entries')} entries, {roll.get('seconds_in_moto')} s in moto, "
            f"whose transactions copy every table); fill time (s): {fin.get('fill_seconds')}"
            + (f"; {fin['incomplete']}" if fin.get("incomplete") else ""))
    return _table(["ledger entries and returns", "page", "DynamoDB calls", "scans", "items examined", "read units",
                   "moto ms (informational)"], rows) + "\n\n" + note


def package_table(r: dict) -> str:
    pkg = r["details"]["package"]
    if not pkg.get("functions"):
        return f"package: {pkg.get('error', 'no result')}"
    layer = pkg["layer"]
    rows = [[f"layer {layer.get('folder', '')} (domain + dependencies)".replace("  ", " "), _kb(layer["zipped"]),
             _kb(layer["unzipped"]), ""]]
    rows += [[n, _kb(f["zipped"]), _kb(f["unzipped"]), _kb(f["with_layer_unzipped"])]
             for n, f in pkg["functions"].items()]
    deps = sorted(layer["dependencies"].items(), key=lambda kv: -kv[1]["unzipped"])[:5]
    return _table(["package", "zipped", "unzipped", "with layer, unzipped (limit 250 MB)"], rows) + \
        "\n\nlargest layer dependencies (unzipped): " + ", ".join(f"{k} {_kb(v['unzipped'])}" for k, v in deps) + \
        f"; the domain itself: {_kb(layer['domain_unzipped'])}"


def concurrent_text(r: dict) -> str:
    c = r["concurrent"]
    if c.get("skipped"):
        return f"skipped: {c['skipped']}"
    text = (f"{c['lifecycles']} lifecycles arriving one every {c.get('arrival_seconds', '?')} s, "
            f"{c.get('peak_in_flight', '?')} in flight at the peak, {c['failures']} failed, "
            f"{c['per_minute']} completed lifecycles/min, "
            f"wall {c.get('wall_seconds')} s, {c.get('http_requests')} HTTP requests, "
            f"{c.get('connection_retries', 0)} connection retries, "
            f"lifecycle median {c.get('lifecycle_seconds_median')} s")
    if c.get("errors"):
        text += "\n\nfirst errors:\n" + "\n".join(f"- `{e}`" for e in c["errors"][:5])
    return text


def journal_table(r: dict) -> str:
    j = r["details"].get("journal") or {}
    if not j.get("rounds"):
        return f"journal: {j.get('error', 'no result')}"
    rows = []
    for key, v in j["rounds"].items():
        setting, threads = key.split("@")
        rows.append([threads, setting, v["writes_per_second"], v["p50_ms"], v["p95_ms"],
                     v.get("fsyncs_per_write", ""), v.get("throughput_vs_off", "")])
    return _table(["concurrent writers", "journal", "writes/s", "p50 ms", "p95 ms", "fsyncs/write", "vs off"], rows)


def tables(r: dict) -> str:
    parts = [
        f"\n== Benchmarks {r['date']} on {r['machine']} ({r['runtime_seconds']} s)",
        _table(["figure", "measured", "target", ""], summary_rows(r)),
        "\n== Cost per 1,000 returns (USD, us-east-1 list prices; per path, per service)", cost_tables(r),
        "\n== Cost per path, before / after issue 20", cost_before_after_table(r),
        "\n== Latency (ms)", latency_table(r),
        "\n== Throughput: built artifacts vs in-process dispatch", throughput_text(r),
        "\n== Cold start", cold_table(r),
        "\n== Query cost at 10k and 100k rows", query_table(r),
        "\n== Finance pages from the day aggregates at 10k, 100k and 1M rows", finance_table(r),
        "\n== 50 concurrent lifecycles over HTTP (local stack)", concurrent_text(r),
        "\n== Package size (sam build artifacts)", package_table(r),
        "\n== Concurrent settles on the ledger's chains (in-process moto)", ledger_contention_table(r),
        "\n== Ledger verification job: requests per run (in-process moto)", ledger_verification_table(r),
        "\n== Write-ahead journal of the local stack: conditional writes through the emulator, off vs on",
        journal_table(r),
    ]
    return "\n".join(parts)


def readme_block(r: dict) -> str:
    cost = r["details"]["cost"]
    return "\n".join([
        f"Latest `make bench`: {r['date']}, {r['machine']}, {r['runtime_seconds']} s. "
        "Regenerated by the bench between these markers; do not edit by hand. "
        "Full figures: `bench/results/latest.json`.",
        "", _table(["figure", "measured", "target", ""], summary_rows(r)),
        "", "Cost per 1,000 returns by path and service (USD; SMS excluded; prices and sources in `bench/prices.py`;"
            f" blended mix {', '.join(f'{k} {v:.0%}' for k, v in (cost.get('mix') or {}).items())}):",
        "", cost_tables(r),
        "", "Cost per path before / after issue 20 (fewer, better emails; timeline records as single writes):",
        "", cost_before_after_table(r),
        "", "Latency, what a person waits for (`latency_ms`):", "", latency_table(r),
        "", "Throughput, built artifacts vs the previous in-process dispatch (`throughput`):", "", throughput_text(r),
        "", "Cold start (the built function in a fresh runtime interpreter: sys.path = its `.aws-sam/build` folder + "
            "the built layer; init = handler module import):", "", cold_table(r),
        "", "Query cost:", "", query_table(r),
        "", "Finance pages from the day aggregates (`bench/finance_aggregates.py`: /analytics/returns and "
            "/finance/reconciliation for one day):", "", finance_table(r),
        "", "Package size (the `sam build` artifacts in "
            f"`{r['details']['package'].get('artifacts', '.aws-sam/build')}`):",
        "", package_table(r),
        "", "Concurrent settles on the ledger's chains (in-process moto, store credit; `bench/ledger_contention.py`):",
        "", ledger_contention_table(r),
        "", "Ledger verification job: DynamoDB requests of one run after the same batch of new refunds, with the "
        "history written straight to moto (`bench/ledger_verification.py`):", "", ledger_verification_table(r),
        "", "What the local stack's write-ahead journal costs a conditional write through the emulator "
            "(medians of alternating off/on rounds; `bench/journal_cost.py`):",
        "", journal_table(r),
    ])


def write_readme(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"## Benchmarks\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}")
