"""Issue 20: every path costs fewer Step Functions transitions. The lifecycle goes from each step straight
to the step that usually follows it, not through Route each time; a wait entered with a status it does not
wait for fails with ReturnRerouted and goes back to Route. Read from the ASL JSON (nothing runs), so a new
direct edge without the guard, or a retrier that swallows the reroute, fails here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from returns_core import config
from returns_core.rules import statuses
from returns_core.usecases import lifecycle

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachines/return_lifecycle.asl.json").read_text())
STATES = ASL["States"]
AWAIT_CALLBACK = "${AwaitCallbackFunctionArn}"
REROUTED = lifecycle.ReturnRerouted.__name__
# Error names a retrier or an earlier catcher would match ReturnRerouted with (States.TaskFailed matches
# every task failure but a timeout).
SWALLOWS = {"States.ALL", "States.TaskFailed", REROUTED}
# Steps entered directly that need no guard: they advance from the record whatever its status (Settle
# settles what is settleable, SettleAdjustment pays a recorded adjustment once) and hand the status on,
# unchanged or moved, to a guarded wait.
RECORD_DRIVEN = {"Settle", "SettleAdjustment"}
# Steps that are not waits yet check the status they are entered with (the execution's first state).
GUARDED_STEPS = {"IssueLabel"}


def _is_await(state: dict) -> bool:
    return state["Type"] == "Task" and state.get("Parameters", {}).get("FunctionName") == AWAIT_CALLBACK


def _is_lambda_step(state: dict) -> bool:
    return state["Type"] == "Task" and ":::lambda:invoke" in state["Resource"]


AWAITS = sorted(name for name, state in STATES.items() if _is_await(state))
# The waits that check the status they are entered with. The others are the withdrawal deadline's: entered
# from their clock's choice (the clock read the return's status and chose the wait), never from a step.
GUARDED = [n for n in AWAITS if "status.$" in STATES[n]["Parameters"]["Payload"]]
DIRECT_EDGES = sorted((name, state["Next"]) for name, state in STATES.items()
                      if state["Type"] == "Task" and state.get("Next") not in (None, "Route")
                      and _is_lambda_step(STATES[state["Next"]]))


def test_the_usual_path_goes_step_to_step():
    usual = ["IssueLabel", "AwaitDropoff", "AwaitArrival", "AwaitInspection", "Settle", "AwaitConfirmation"]
    assert [STATES[a]["Next"] for a in usual[:-1]] == usual[1:]
    # The first state is the usual first step; a return with no label to issue (under review, kept by the
    # customer, restarted by resume.py in a later status) reroutes from it to Route.
    assert ASL["StartAt"] == "IssueLabel"
    # After the confirmation wait there is a real branch (closed, disputed): Route decides.
    assert STATES["AwaitConfirmation"]["Next"] == "Route"
    # A resolved dispute's adjustment goes straight to its follow-up wait (the delay is always in the input).
    assert STATES["SettleAdjustment"]["Next"] == "AwaitDisputeFollowup"
    assert [n for n, s in STATES.items() if s["Type"] == "Choice"] == ["Route", "WithdrawalDeadlineChoice"]


@pytest.mark.parametrize("edge", DIRECT_EDGES, ids=lambda e: f"{e[0]}->{e[1]}")
def test_every_step_entered_directly_guards_its_entry(edge):
    _, entered = edge
    assert entered in GUARDED or entered in RECORD_DRIVEN or entered in GUARDED_STEPS, \
        f"{entered} is entered straight from another step but cannot hand an unexpected status back to Route"


@pytest.mark.parametrize("name", GUARDED)
def test_every_wait_reroutes_first_and_never_retries_the_reroute(name):
    state = STATES[name]
    first = state["Catch"][0]
    assert first == {"ErrorEquals": [REROUTED], "ResultPath": "$.rerouted", "Next": "Route"}, \
        f"{name}: the reroute catch must come first, keep the input ($.state) and go to Route"
    for retrier in state["Retry"]:
        assert not SWALLOWS & set(retrier["ErrorEquals"]), f"{name} retries {retrier['ErrorEquals']}"
    payload = state["Parameters"]["Payload"]
    # The status the step before handed on, and the execution's withdrawal flag: what statuses.waits_in reads.
    assert payload.get("status.$") == "$.state.status", name
    assert payload.get("withdrawal.$") == "$.withdrawal", name
    assert state["Resource"].endswith(".waitForTaskToken") and "TimeoutSecondsPath" in state, name


def test_only_the_withdrawal_deadlines_waits_do_not_check_their_status():
    unguarded = sorted(set(AWAITS) - set(GUARDED))
    assert unguarded == ["WithdrawalAwaitBeforeAlert", "WithdrawalAwaitBeforeDeadline"]
    for name in unguarded:
        entered_from = [n for n, s in STATES.items() if s.get("Next") == name or name in
                        [c["Next"] for c in s.get("Choices", []) + s.get("Catch", [])] or s.get("Default") == name]
        assert entered_from == ["WithdrawalDeadlineChoice"] and STATES[name]["Next"] == "Route"
        assert not any(REROUTED in c["ErrorEquals"] for c in STATES[name]["Catch"])


def _route_choices() -> list[tuple[str, bool, str]]:
    """(status, whether the choice is for a withdrawal's return, target) of each of Route's choices."""
    found = []
    for choice in STATES["Route"]["Choices"]:
        operands = choice.get("And", [choice])
        status = next(o["StringEquals"] for o in operands if o["Variable"] == "$.state.status")
        withdrawal = any(o["Variable"] == "$.withdrawal" and o.get("BooleanEquals") is True for o in operands)
        found.append((status, withdrawal, choice["Next"]))
    return found


def test_route_never_sends_a_status_to_a_wait_that_would_reroute_it():
    """A reroute goes to Route; were Route to send the same status back to a wait that rejects it, the
    execution would loop. Route's first match wins, so a withdrawal's return reaches the plain waits' choices
    only when no withdrawal choice took it."""
    withdrawal_statuses = {status for status, withdrawal, _ in _route_choices() if withdrawal}
    for status, withdrawal, target in _route_choices():
        if target in GUARDED:
            wait = STATES[target]["Parameters"]["Payload"]["wait"]
            assert statuses.waits_in(wait, status, withdrawal=withdrawal), (status, target)
            if status in withdrawal_statuses:
                continue   # a withdrawal's return in this status went to WithdrawalClock first
            assert statuses.waits_in(wait, status, withdrawal=True), (status, target)


def test_every_wait_timeout_is_always_in_the_execution_input(monkeypatch):
    """No Choice fills a missing delay in (HasDisputeFollowupDelay was one): workflow.start sends them all."""
    sent = set(config.workflow_timeouts())
    for name, state in STATES.items():
        path = state.get("TimeoutSecondsPath", "")
        if path.startswith("$.timeouts."):
            assert path.removeprefix("$.timeouts.") in sent, f"{name} waits on a delay the input may lack"


@pytest.mark.parametrize("wait,status", sorted(statuses.WAITS.items()))
def test_a_wait_entered_with_its_own_status_parks(wait, status):
    assert statuses.waits_in(wait, status)


@pytest.mark.parametrize("wait", sorted(statuses.WAITS))
def test_a_wait_entered_with_another_status_is_rerouted(wait):
    for status in set(statuses.ALL) - {statuses.WAITS[wait]}:
        assert not statuses.waits_in(wait, status)


def test_a_withdrawals_parcel_waits_against_its_deadline_not_in_the_plain_waits():
    assert not statuses.waits_in("arrival", statuses.IN_TRANSIT, withdrawal=True)
    assert not statuses.waits_in("inspection", statuses.RECEIVED, withdrawal=True)
    assert statuses.waits_in("dropoff", statuses.AWAITING_DROPOFF, withdrawal=True)
    assert statuses.waits_in("confirmation", statuses.REFUNDED, withdrawal=True)


def test_park_reroutes_before_it_reads_the_return():
    # No table behind this test: a read would fail; the reroute is decided from the input alone.
    with pytest.raises(lifecycle.ReturnRerouted) as raised:
        lifecycle.park("RET-NOWHERE", "dropoff", "token", entered_with=statuses.RECEIVED)
    assert "RET-NOWHERE" not in str(raised.value)


# Steps that end the execution without Route -> the wait whose timeout enters them. A Succeed state cannot
# hand an unexpected status back, so the rules must leave the return no other way out of that wait's status.
ENDS_DIRECTLY = {"DisputeAutoClose": "dispute_followup"}


def _after(status: str) -> set[str]:
    """Every status a return in `status` can move on to, however many moves later."""
    seen: set[str] = set()
    todo = [status]
    while todo:
        for nxt in statuses.ALLOWED[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _routed_to(target: str) -> set[str]:
    return {c["StringEquals"] for c in STATES["Route"]["Choices"]
            if c.get("Variable") == "$.state.status" and c["Next"] == target}


def test_a_step_ends_the_execution_directly_only_where_the_rules_leave_no_other_status():
    # A task ends the execution with `End` (one transition less than a Succeed state after it) or goes to a
    # Succeed state; either stands for the statuses Route sends to a Succeed state (closed).
    succeeds = [name for name, state in STATES.items() if state["Type"] == "Succeed"]
    ending = {name: [state["Next"]] if state.get("Next") in succeeds else succeeds for name, state in STATES.items()
              if state["Type"] == "Task" and (state.get("End") or state.get("Next") in succeeds)}
    assert set(ending) == set(ENDS_DIRECTLY)
    for step, wait in ENDS_DIRECTLY.items():
        waits = [n for n in AWAITS if STATES[n]["Parameters"]["Payload"].get("wait") == wait]
        assert waits and all(any(c["ErrorEquals"] == ["States.Timeout"] and c["Next"] == step
                                 for c in STATES[n]["Catch"]) for n in waits)
        entered_from = [n for n, s in STATES.items() if s.get("Next") == step or
                        any(c["Next"] == step for c in s.get("Catch", []))]
        assert entered_from == waits, f"{step} is entered from elsewhere than the {wait} wait's timeout"
        ended_in = set().union(*(_routed_to(s) for s in ending[step]))
        assert ended_in and _after(statuses.WAITS[wait]) <= ended_in, \
            f"a return can leave {statuses.WAITS[wait]} for a status {ending[step]} does not stand for"


def test_a_spanning_wait_stays_pending_inside_its_statuses_and_ends_outside_them():
    """A withdrawal's parcel is waited for once, from its sending to its inspection: the scan keeps the
    wait's token (no resume, no second pass round Route and the clock); any move out of it ends the wait."""
    span = statuses.SPANNING_WAITS["withdrawal_parcel"]
    assert span == {statuses.IN_TRANSIT, statuses.RECEIVED}
    assert statuses.pending_in("withdrawal_parcel") == span
    assert statuses.keeps_waiting("withdrawal_parcel", statuses.IN_TRANSIT, statuses.RECEIVED)
    for current in span:
        for new in statuses.ALLOWED.get(current, ()):
            assert statuses.keeps_waiting("withdrawal_parcel", current, new) == (new in span)
    for wait, status in statuses.WAITS.items():   # every other wait ends with any change of status
        assert statuses.pending_in(wait) == {status}
        assert not any(statuses.keeps_waiting(wait, status, new) for new in statuses.ALLOWED.get(status, ()))
    assert not statuses.keeps_waiting(None, statuses.IN_TRANSIT, statuses.RECEIVED)


def test_the_first_state_reroutes_first_and_never_retries_nor_fails_the_label_for_it():
    """IssueLabel is where every execution starts: entered with a status that has no label to issue, it
    hands the execution to Route (its first catcher), not to LabelFailed, and no retrier repeats it."""
    state = STATES[ASL["StartAt"]]
    assert state["Catch"][0] == {"ErrorEquals": [REROUTED], "ResultPath": "$.rerouted", "Next": "Route"}
    assert state["Catch"][-1]["Next"] == "LabelFailed"
    for retrier in state["Retry"]:
        assert not SWALLOWS & set(retrier["ErrorEquals"]), retrier
    assert state["Parameters"]["Payload"] == {"return_id.$": "$.return_id", "status.$": "$.state.status",
                                              "keep_item.$": "$.keep_item"}


def test_route_sends_to_the_label_step_only_what_it_issues():
    """Route's first match wins: the returnless choice (requested + keep_item) comes before the label's, so
    the label step never gets a status or a return it would reroute straight back (a loop)."""
    seen_keep_item = False
    for choice in STATES["Route"]["Choices"]:
        operands = choice.get("And", [choice])
        keep_item = any(o["Variable"] == "$.keep_item" and o.get("BooleanEquals") is True for o in operands)
        status = next(o["StringEquals"] for o in operands if o["Variable"] == "$.state.status")
        if keep_item and status == statuses.REQUESTED:
            seen_keep_item = True
        if choice["Next"] == "IssueLabel":
            assert seen_keep_item and statuses.issues_label_in(status, keep_item=False), choice
            assert not statuses.issues_label_in(status, keep_item=True)


@pytest.mark.parametrize("status", sorted(statuses.ALLOWED))
def test_only_a_requested_return_that_is_sent_back_gets_a_label(status):
    assert statuses.issues_label_in(status) is (status == statuses.REQUESTED)
    assert statuses.issues_label_in(status, keep_item=True) is False


@pytest.mark.parametrize("entered_with,keep_item", [("in_review", False), ("requested", True), ("in_transit", False)])
def test_the_label_step_reroutes_before_reading_the_return(entered_with, keep_item):
    """No return by this id exists anywhere: reaching the store would fail otherwise than ReturnRerouted."""
    from returns_core.usecases import labels

    with pytest.raises(lifecycle.ReturnRerouted) as rerouted:
        labels.issue("ret_never_stored", entered_with=entered_with, keep_item=keep_item)
    assert rerouted.value.entered_with == entered_with
