"""What the bench keeps in the repository: the latest run's full figures (latest.json), one line of
headline figures per run (history.jsonl), and the issue-20 baseline the before/after table reads."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.__main__ import HISTORY, RESULTS, record


def _history(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / HISTORY).read_text().splitlines()]


def test_the_results_folder_holds_the_latest_run_its_history_and_the_baseline_only():
    assert sorted(p.name for p in RESULTS.iterdir()) == ["cost-before-issue20.json", HISTORY, "latest.json"]


def test_the_history_has_one_line_per_run_in_order_and_the_latest_run_among_them():
    lines = _history(RESULTS)
    runs = [line["run"] for line in lines]
    assert len(lines) >= 2 and runs == sorted(set(runs))
    assert all(line["date"] == line["run"][:10] for line in lines)
    latest = json.loads((RESULTS / "latest.json").read_text())
    # A `--only` run's line also says which parts it measured (bench/__main__.py's record): not in latest.json.
    assert any({k: v for k, v in line.items() if k != "measured"} == report.history_line(latest, run=line["run"])
               for line in lines)


def test_the_before_after_table_still_reads_the_issue_20_baseline():
    latest = json.loads((RESULTS / "latest.json").read_text())
    per = report.cost_per_path(latest["details"]["cost"])
    assert per["before"] == latest["cost_per_path_usd"]["before"]   # what the latest run printed
    assert per["before"]["blended"] == 0.9106 and per["before"]["emails"]["refund"] == 5.0


def test_a_run_rewrites_latest_and_appends_one_headline_line(tmp_path):
    latest = json.loads((RESULTS / "latest.json").read_text())
    first, second = datetime(2026, 12, 6, 17, tzinfo=UTC), datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    record({**latest, "date": "2026-12-06"}, first, folder=tmp_path)
    record({**latest, "date": "2026-12-07", "cost_per_1000_returns_usd": 0.5}, second, measured=["cost"],
           folder=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [HISTORY, "latest.json"]
    assert json.loads((tmp_path / "latest.json").read_text())["date"] == "2026-12-07"
    lines = _history(tmp_path)
    assert [(line["run"], line["cost_per_1000_returns_usd"]) for line in lines] == [
        ("2026-12-06T170000Z", latest["cost_per_1000_returns_usd"]), ("2026-12-07T093000Z", 0.5)]
    assert "measured" not in lines[0] and lines[1]["measured"] == ["cost"]
    # The headline figures are the summary table's.
    assert lines[0]["happy_path_transitions"] == latest["happy_path_transitions"]
    assert lines[0]["init_ratio_worst"] == max(v for v in latest["init_ratio"].values() if v is not None)
    assert lines[0]["cost_worst_path_usd"] == max(latest["cost_per_path_usd"]["paths"].values())
    assert lines[0]["concurrent_failures"] == latest["concurrent"]["failures"]
    assert lines[0]["throughput_ratio"] == latest["throughput"]["ratio_built_to_in_process"]


def test_a_part_that_failed_or_did_not_run_is_said_so_not_zero():
    line = report.history_line(report.assemble({"cost": {"error": "over its 600 s budget"}}, machine="m",
                                               date="2026-12-06", runtime=1.0), run="2026-12-06T000000Z")
    assert line["errors"] == {"cost": "over its 600 s budget"}
    assert "cost_per_1000_returns_usd" not in line and "concurrent_failures" not in line
