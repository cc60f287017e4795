"""The local stack's pieces that need no running stack: the console's lines, atomic writes, ports."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from infra.local import console, persistence, ports


def test_metrics_and_info_lines_stay_in_the_log_file_warnings_are_one_readable_line():
    emf = json.dumps({"_aws": {"CloudWatchMetrics": [{"Namespace": "Returns"}]}, "WaitsParked": [1.0]})
    info = json.dumps({"level": "INFO", "message": "wait parked", "return_id": "ret_1"})
    warning = json.dumps({"level": "WARNING", "message": "task token no longer waiting", "return_id": "ret_1",
                          "status": "in_transit", "location": "workflow.py:30"})
    assert console.readable("SettleFunction", emf) is None
    assert console.readable("SettleFunction", info) is None
    shown = console.readable("ApiFunction", warning)
    assert "\n" not in shown and "Api " in shown and "task token no longer waiting" in shown
    assert "return_id=ret_1" in shown and "status=in_transit" in shown and "location" not in shown


def test_a_workflow_step_is_one_line():
    line = console.step_line("SettleFunction", {"return_id": "ret_1"}, {"status": "refunded"}, None, 0.5)
    assert "Settle" in line and "ret_1" in line and "-> refunded" in line and "\n" not in line
    failed = console.step_line("IssueLabelFunction", {"return_id": "ret_1"}, {"errorType": "ImportError"},
                               "Unhandled", 0.1)
    assert "failed: ImportError" in failed


def test_the_console_keeps_every_raw_line_in_the_log_file(tmp_path, capsys):
    out = console.Console(tmp_path / "logs")
    emf = json.dumps({"_aws": {}, "RefundsPaid": [1]})
    out.function_line("SettleFunction", emf)
    out.function_line("SettleFunction", "/x/base.py:213: UserWarning: No application metrics to publish.")
    out.function_line("SettleFunction", "  self.flush_metrics()")
    out.close()
    assert capsys.readouterr().out == ""
    assert (tmp_path / "logs/functions.log").read_text().count("SettleFunction\t") == 3


def test_an_atomic_write_that_fails_leaves_the_old_content_and_no_temporary_file(tmp_path):
    target = tmp_path / "state.pickle"
    persistence.write_atomically(target, b"old")
    with pytest.raises(TypeError):
        persistence.write_atomically(target, "not bytes")   # fails half-way, after the temp file exists
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.pickle"]


def test_the_token_key_is_made_once_and_then_kept(tmp_path):
    data = persistence.DataDir(tmp_path)
    assert persistence.token_key(data, lambda: "first") == "first"
    assert persistence.token_key(data, lambda: "second") == "first"


def test_a_port_something_listens_on_is_busy_and_two_uses_of_one_port_are_refused():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        number = taken.getsockname()[1]
        with pytest.raises(ports.PortBusy) as busy:
            ports.check([ports.Port("API", number, "--api-port", "API_PORT")])
        assert f"port {number} (API) is in use" in str(busy.value) and "API_PORT=" in str(busy.value)
    with pytest.raises(ValueError, match="both"):
        ports.check([ports.Port("API", 8000, "--api-port", "API_PORT"),
                     ports.Port("Stripe", 8000, "--stripe-port", "STRIPE_PORT")])


def test_a_definition_is_parsed_once_and_every_execution_gets_its_own_components():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    from infra.local import asl_parse

    asl_parse.install()
    asl_parse.install()   # idempotent: a second deploy in the same process
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"n": 1}, "End": True}}})
    first_program, first_tree = AmazonStateLanguageParser.parse(definition)
    second_program, second_tree = AmazonStateLanguageParser.parse(definition)
    assert first_tree is second_tree and first_program is not second_program
    with pytest.raises(ASLParserException):
        AmazonStateLanguageParser.parse('{"StartAt": "Nowhere", "States": {"Done": {"Type": "Nope"}}}')


def test_the_snapshots_never_take_more_than_a_twentieth_of_a_core(tmp_path):
    """Capturing pickles every table under the DynamoDB lock: once a second on a large data set it
    was 14 % of the stack's CPU. The wait after a capture grows with what the capture cost."""
    assert persistence.next_snapshot_after(0.01) == persistence.SNAPSHOT_INTERVAL_SECONDS
    assert persistence.next_snapshot_after(0.5) == 0.5 * persistence.SNAPSHOT_COST_FACTOR

    taken, said = threading.Event(), []
    cpu = iter([0.0, 0.6])   # the snapshot thread's CPU clock before and after the capture

    def take() -> bytes:
        taken.set()
        return b"state"

    snapshots = persistence.Snapshotter(persistence.DataDir(tmp_path), take, on_error=said.append,
                                        cpu_clock=lambda: next(cpu))
    snapshots.start()
    snapshots.changed()
    assert taken.wait(10)
    deadline = time.monotonic() + 10
    while snapshots.last_wait == persistence.SNAPSHOT_INTERVAL_SECONDS and time.monotonic() < deadline:
        time.sleep(0.01)
    snapshots.cpu_clock = lambda: 0.0
    snapshots.stop()   # the last save happens whatever the wait
    assert snapshots.last_wait == 0.6 * persistence.SNAPSHOT_COST_FACTOR
    assert (tmp_path / "state.pickle").read_bytes() == b"state"
    assert said and "saved every 12 s" in said[0]
