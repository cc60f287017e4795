"""The bench's results: the JSON issue 9 names, the printed tables, the README block."""
from __future__ import annotations

from pathlib import Path

BEGIN, END = "<!-- BEGIN bench -->", "<!-- END bench -->"
COST_TARGET, TRANSITIONS_TARGET, INIT_TARGET = 1.00, 20, 1.25
SERVICES = ["stepfunctions", "ses", "dynamodb", "apigateway", "lambda", "s3", "sns", "secretsmanager"]


def assemble(parts: dict, machine: str, date: str, runtime: float) -> dict:
    cost, cold, q, conc, pkg = (parts.get(k, {}) for k in ("cost", "coldstart", "queries", "concurrent", "package"))
    contention = parts.get("ledger_contention", {})
    concurrent = {"lifecycles": conc.get("lifecycles", 50), "failures": conc.get("failures"),
                  "per_minute": conc.get("per_minute")}
    if conc.get("skipped") or conc.get("error"):
        concurrent["skipped"] = conc.get("skipped") or conc.get("error")
    for k in ("wall_seconds", "http_requests", "connection_retries", "lifecycle_seconds_median",
              "lifecycle_seconds_max", "errors"):
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
        "ledger_contention": ({"error": contention["error"]} if contention.get("error") else
                              {n: {k: v[k] for k in ("appends_per_second", "retries", "failures", "verified")}
                               for n, v in (contention.get("sizes") or {}).items()}),
        "targets": {
            "cost_per_1000_returns_usd": COST_TARGET, "happy_path_transitions": TRANSITIONS_TARGET,
            "init_ratio": INIT_TARGET, "scans_per_lifecycle": 0, "concurrent_failures": 0,
            "ledger_contention_failures": 0},
        "details": {"cost": cost, "coldstart": cold, "queries": q, "concurrent": conc, "package": pkg,
                    "ledger_contention": contention},
    }


def _mark(ok) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def _kb(n: int | None) -> str:
    return "?" if n is None else (f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KB")


def summary_rows(r: dict) -> list[tuple[str, str, str, str]]:
    cost, cold = r["details"]["cost"], r["details"]["coldstart"]
    rows = []
    c = r["cost_per_1000_returns_usd"]
    rows.append(("Cost per 1,000 returns (blended mix, excl. SMS)", f"${c:.3f}" if c is not None else "error",
                 f"≤ ${COST_TARGET:.2f}", _mark(None if c is None else c <= COST_TARGET)))
    hp = cost.get("happy_path_usd_per_1000")
    if hp is not None:
        rows.append(("Cost per 1,000 returns, happy path only (Stripe refund)", f"${hp:.3f}", f"≤ ${COST_TARGET:.2f}",
                     _mark(hp <= COST_TARGET)))
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
    conc = r["concurrent"]
    rows.append(("50 concurrent lifecycles over HTTP (failures)",
                 "skipped" if conc.get("skipped") else f"{conc['failures']} failed, {conc['per_minute']}/min",
                 "0 failures", _mark(None if conc.get("skipped") else conc["failures"] == 0)))
    lc = r.get("ledger_contention") or {}
    if lc and not lc.get("error"):
        most = max(lc, key=int)
        worst = sum(v["failures"] for v in lc.values())
        rows.append((f"Concurrent settles on one ledger chain (N = {', '.join(lc)})",
                     f"{worst} failed, {lc[most]['appends_per_second']} appends/s at N={most}, "
                     f"chain {'verified' if all(v['verified'] for v in lc.values()) else 'BROKEN'}",
                     "0 failures, verified", _mark(worst == 0 and all(v["verified"] for v in lc.values()))))
    return rows


def ledger_contention_table(r: dict) -> str:
    lc = r["details"].get("ledger_contention") or {}
    if not lc.get("sizes"):
        return f"ledger_contention: {lc.get('error', 'no result')}"
    rows = [[n, v["wall_seconds"], v["appends_per_second"], v["retries"], v["failures"], v["verified"],
             v["chain_length"]] for n, v in lc["sizes"].items()]
    return _table(["concurrent settles", "wall s", "appends/s", "lost races retried", "failures", "chain verified",
                   "chain length"], rows)


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
        rows.append([f"{name} ({cost['mix'].get(name, 0):.0%})"] + [f"{u.get(s, 0):.3f}" for s in SERVICES] + [
            f"**{p['usd_per_1000_total']:.3f}**", p["transitions"], q["lambda.requests"], round(q["dynamodb.wru"]),
            q["dynamodb.rru"], q["ses.emails"], q["sns.publish"], q["sns.sms"], q["api.requests"]])
    b = cost["blended_usd_per_1000"]
    rows.append(["**blended**"] + [f"{b.get(s, 0):.3f}" for s in SERVICES] +
                [f"**{cost['cost_per_1000_returns_usd']:.3f}**"] + [""] * 8)
    return _table(head, rows)


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


def package_table(r: dict) -> str:
    pkg = r["details"]["package"]
    if not pkg.get("functions"):
        return f"package: {pkg.get('error', 'no result')}"
    layer = pkg["layer"]
    rows = [[f"layer {layer.get('folder', '')} (domain + dependencies)".replace("  ", " "), _kb(layer["zipped"]),
             _kb(layer["unzipped"]), ""]]
    rows += [[n, _kb(f["zipped"]), _kb(f["unzipped"]), _kb(f["with_layer_unzipped"])] for n, f in pkg["functions"].items()]
    deps = sorted(layer["dependencies"].items(), key=lambda kv: -kv[1]["unzipped"])[:5]
    return _table(["package", "zipped", "unzipped", "with layer, unzipped (limit 250 MB)"], rows) + \
        "\n\nlargest layer dependencies (unzipped): " + ", ".join(f"{k} {_kb(v['unzipped'])}" for k, v in deps) + \
        f"; the domain itself: {_kb(layer['domain_unzipped'])}"


def concurrent_text(r: dict) -> str:
    c = r["concurrent"]
    if c.get("skipped"):
        return f"skipped: {c['skipped']}"
    text = (f"{c['lifecycles']} lifecycles, {c['failures']} failed, {c['per_minute']} completed lifecycles/min, "
            f"wall {c.get('wall_seconds')} s, {c.get('http_requests')} HTTP requests, "
            f"{c.get('connection_retries', 0)} connection retries, lifecycle median {c.get('lifecycle_seconds_median')} s")
    if c.get("errors"):
        text += "\n\nfirst errors:\n" + "\n".join(f"- `{e}`" for e in c["errors"][:5])
    return text


def tables(r: dict) -> str:
    parts = [
        f"\n== Benchmarks {r['date']} on {r['machine']} ({r['runtime_seconds']} s)",
        _table(["figure", "measured", "target", ""], summary_rows(r)),
        "\n== Cost per 1,000 returns (USD, us-east-1 list prices; per path, per service)", cost_tables(r),
        "\n== Cold start", cold_table(r),
        "\n== Query cost at 10k and 100k rows", query_table(r),
        "\n== 50 concurrent lifecycles over HTTP (local stack)", concurrent_text(r),
        "\n== Package size (sam build artifacts)", package_table(r),
        "\n== Concurrent settles on one ledger chain (in-process moto)", ledger_contention_table(r),
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
        "", "Cold start (the built function in a fresh runtime interpreter: sys.path = its `.aws-sam/build` folder + "
            "the built layer; init = handler module import):", "", cold_table(r),
        "", "Query cost:", "", query_table(r),
        "", f"Package size (the `sam build` artifacts in `{r['details']['package'].get('artifacts', '.aws-sam/build')}`):",
        "", package_table(r),
        "", "Concurrent settles on one ledger chain (in-process moto, store credit; `bench/ledger_contention.py`):",
        "", ledger_contention_table(r),
    ])


def write_readme(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"## Benchmarks\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}")
