"""A customer's return request: checked against the order and the policy, then recorded."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from .. import aws, config
from ..outbound import workflow
from ..rules import clock, ids, policy, refund_timing, risk, statuses, timeline, withdrawal as statutory
from ..rules.errors import ConflictError, ServiceUnavailableError, UnprocessableError
from ..store import timeline as timeline_items
from ..store.models import OrderModel, ReturnModel
from ..views import eligibility
from . import labels, lifecycle, orders, policies, risk_scoring, side_effects

RISK_WINDOW_DAYS = 90


def _check_items(order: OrderModel, items: list[dict], resolution: str, decided: dict,
                 waive: bool = False, withdrawal: bool = False) -> dict[str, dict]:
    lines = eligibility(order, decided, waive, statutory=withdrawal)
    return check_selection({x["sku"]: x for x in lines}, items, resolution, decided, waive)


def check_selection(lines: dict[str, dict], items: list[dict], resolution: str, decided: dict,
                    waive: bool = False) -> dict[str, dict]:
    """The selection against the order's lines (sku -> eligibility line) and the policy's decisions:
    422 naming the first item that cannot be returned so. Pure: the policy simulation runs it too.
    `waive` (an ops exception): a resolution the policy does not allow is added to the line's `waived`."""
    seen: set[str] = set()
    for n, item in enumerate(items):
        # Any sku the store sells may be asked for (another size is another sku); we only need one named.
        if resolution == "exchange" and not (item.get("exchange_for") or "").strip():
            raise UnprocessableError("an exchange names the sku wanted instead", field=f"items[{n}].exchange_for",
                                     code="exchange_for_required")
        line = lines.get(item["sku"])
        if line is None:
            raise UnprocessableError(f"{item['sku']} is not on this order", field=f"items[{n}].sku", code="unknown_sku")
        if item["sku"] in seen:
            raise UnprocessableError("each sku may appear once", field=f"items[{n}].sku", code="duplicate_sku")
        seen.add(item["sku"])
        if not line["eligible"]:
            raise UnprocessableError(line["ineligible_reason"], field=f"items[{n}].sku", code="not_eligible")
        if resolution not in decided[item["sku"]].terms.resolutions:
            message = f"{item['sku']} can be returned for {' or '.join(decided[item['sku']].terms.resolutions)} only"
            if not waive:
                raise UnprocessableError(message, field="resolution", code="resolution_not_allowed")
            line["waived"] = [*line.get("waived", []), {"rule": "resolution", "message": message}]
        if item["qty"] > line["returnable_qty"]:
            raise UnprocessableError(f"at most {line['returnable_qty']} of {item['sku']} can be returned",
                                     field=f"items[{n}].qty", code="over_quantity")
    return lines


def _returns_in_window(customer_key: str) -> int:
    since = clock.iso(clock.now() - timedelta(days=RISK_WINDOW_DAYS))
    return sum(1 for _ in ReturnModel.by_customer.query(customer_key, ReturnModel.created_at >= since))


def _decided(order: OrderModel, items: list[dict], resolution: str, recent: int,
             pinned: policies.Version | None = None, withdrawal: bool = False) -> tuple[policies.Version, dict]:
    """The policy version now in force and what it decides for each line of this selection; for a
    withdrawal, the terms the statutory right leaves of it (rules/withdrawal.py)."""
    current = pinned or policies.current()
    facts = policies.order_facts(order, recent)
    decided = policies.decisions(current.document, order.lines, facts, items, resolution)
    if withdrawal:
        decided = {sku: replace(d, terms=statutory.statutory_terms(d.terms)) for sku, d in decided.items()}
    return current, decided


def keep_terms(decided: dict, items: list[dict]) -> dict[str, policy.Policy]:
    """sku -> each item's terms; keep_item only when every item is kept (a mix: all sent back)."""
    terms = {i["sku"]: decided[i["sku"]].terms for i in items}
    if not all(t.keep_item for t in terms.values()):
        terms = {sku: replace(t, keep_item=False) for sku, t in terms.items()}
    return terms


def withdrawal_decisions(order: OrderModel) -> dict:
    """sku -> each line's decision as the statutory right of withdrawal leaves the policy in force."""
    return _decided(order, [], "refund", 0, withdrawal=True)[1]


def check(order: OrderModel, items: list[dict], resolution: str, withdrawal: bool = False) -> policy.Quote:
    """The quote of a selection not yet submitted, with the same checks as `create` (the portal shows it live).
    `withdrawal`: judged as the statutory right of withdrawal judges it (the withdrawal's preview)."""
    _, decided = _decided(order, items, resolution, _returns_in_window(order.customer_key), withdrawal=withdrawal)
    lines = _check_items(order, items, resolution, decided, withdrawal=withdrawal)
    return policy.quote_request(items, orders.prices(order), order.currency, resolution,
                                paid=orders.paid_for(order, items, lines), terms=keep_terms(decided, items))


def waivers(lines: dict[str, dict], items: list[dict]) -> list[dict]:
    """What an exception set aside for this selection: [{sku, rule, message}], in the items' order."""
    return [{"sku": i["sku"], **w} for i in items for w in lines[i["sku"]].get("waived", [])]


def create(order: OrderModel, items: list[dict], resolution: str, dropoff: dict, actor: str,
           exception: dict | None = None, withdrawal: dict | None = None) -> ReturnModel:
    """`exception` ({"reason"}: an ops agent's, `actor`): the eligibility rules that fail are waived
    (rules.policy.WAIVABLE_RULES) and the exception, its reason, its agent and what it waived are kept
    on the return and told in its timeline.
    `withdrawal`: the return a withdrawal notice opens (usecases/withdrawals.py): {withdrawal_id,
    received_at, refund_due_by, delivery_refund}; its id is added to the order under the condition that
    it is not there yet, so a second confirm of the same notice cannot open a second return."""
    return_id = ids.new_return_id()
    for attempt in range(1, 10 if ids.is_seeded() else 1):
        made = _made_before(return_id, order)
        if made is None:
            break
        if made.status != statuses.CANCELLED:
            return made   # this very request ran before and died before answering: the same return
        return_id = ids.new_return_id(attempt)   # that run was withdrawn and told to send it again
    recent = _returns_in_window(order.customer_key)
    in_force, decided = _decided(order, items, resolution, recent, withdrawal=withdrawal is not None)
    lines = _check_items(order, items, resolution, decided, waive=exception is not None,
                         withdrawal=withdrawal is not None)
    terms = keep_terms(decided, items)
    keep = policy.keeps_items([{"keep_item": t.keep_item} for t in terms.values()])
    # A returnless return sends no parcel: there is nothing to collect or drop off.
    # The label's carrier as the policy prefers it (its `carriers`), by the first item's terms.
    where = labels.dropoff_for(order, dropoff, policy_carriers=terms[items[0]["sku"]].carriers) \
        if not keep else {"method": "none"}
    currency = order.currency
    paid = orders.paid_for(order, items, lines)
    quote = policy.quote_request(items, orders.prices(order), currency, resolution, paid=paid, terms=terms)
    order_total = sum(int(x["unit_price"]) * int(x["qty"]) for x in order.lines)
    # The fraud guard holds for returnless refunds too: the review rules of every item's terms.
    # A withdrawal is the consumer's statutory right: no review may hold it back or refuse it.
    risky = withdrawal is None and policies.is_risky(order_total, recent, list(terms.values()))
    # A withdrawal's return is created at the notice's own instant (its timeline and index agree).
    now = clock.parse(withdrawal["received_at"]) if withdrawal is not None else clock.now()
    status = statuses.IN_REVIEW if risky else statuses.REQUESTED
    stored_items = [{
        "sku": i["sku"], "name": lines[i["sku"]]["name"], "qty": i["qty"], "reason": i["reason"],
        "comment": i.get("comment"), "unit_price": lines[i["sku"]]["unit_price"],
        "paid": paid[i["sku"]],
        "exchange_for": i.get("exchange_for") if resolution == "exchange" else None,
        # What the policy version in force decided for the item, kept for the return's whole life.
        "rule": decided[i["sku"]].rule, "keep_item": terms[i["sku"]].keep_item,
        "terms": terms[i["sku"]].to_stored(),
    } for i in items]
    history = [timeline.entry("return.requested", actor, {"items": len(items), "resolution": resolution})]
    granted = None
    if exception is not None:
        granted = {"reason": exception["reason"], "by": actor, "at": clock.iso(now), "waived": waivers(lines, items)}
        history.append(timeline.entry("exception.granted", actor, granted, at=granted["at"]))
    if risky:
        history.append(timeline.entry("review.required", "system", "A colleague checks this return first."))
    scored, timing = _risk_and_timing(order, in_force, quote, list(terms.values()), resolution, where)
    if timing.held_by and not keep:   # a returnless refund waits for no parcel: nothing to say
        # The policy asks for an earlier refund than this return gets: the timeline says why (staff see the
        # score in the detail; the customer the sentence, rules/timeline.py).
        history.append(timeline.entry(HELD_EVENT, "system", {
            "reason": timing.held_by, "asked": timing.asked, "score": scored.score, "hold_above": timing.hold_above}))
    quoted = quote.to_api()
    if withdrawal is not None:
        quoted = statutory.with_delivery_refund(quoted, int(withdrawal.get("delivery_refund") or 0))
        history.insert(0, timeline.entry("withdrawal.received", actor, {
            "withdrawal_id": withdrawal["withdrawal_id"], "received_at": withdrawal["received_at"],
            "refund_due_by": withdrawal["refund_due_by"], "lines": policy.holding(items)}, withdrawal["received_at"]))
    ret = ReturnModel(
        return_id, order_id=order.order_id, code=ids.return_code(return_id), customer_key=order.customer_key,
        status=status, status_since=clock.iso(now), created_at=clock.iso(now), resolution=resolution,
        currency=currency, locale=(order.customer.get("locale") or "en"), items=stored_items,
        quote=quoted, dropoff=where, policy_version=in_force.version,
        deadline=clock.iso(now + timedelta(seconds=config.periods()["dropoff"])),   # told: never the scaled wait
        timeline_count=len(history), exception=granted,
        risk=scored.to_api(), refund_timing=timing.to_stored(),
    )
    if withdrawal is not None:
        ret.withdrawal = withdrawal
        ret.withdrawal_day = withdrawal["received_at"][:10]   # the sparse `by_withdrawal_day` index
    order_actions = [OrderModel.reserved[return_id].set(policy.holding(items)),
                     OrderModel.updated_at.set(clock.iso(now))]
    order_condition = None
    if withdrawal is not None:
        order_actions.append(OrderModel.withdrawals.add({withdrawal["withdrawal_id"]}))
        order_condition = ~OrderModel.withdrawals.contains(withdrawal["withdrawal_id"])
    try:
        with TransactWrite(connection=aws.dynamodb_connection()) as tx:
            tx.save(ret, condition=ReturnModel.return_id.does_not_exist())
            timeline_items.save_with(tx, ret, history)
            tx.update(order, actions=order_actions, condition=order_condition)
    except TransactWriteError as exc:
        # The order changed between our read and write (another return, an update): the caller retries.
        raise ConflictError("the order changed while the return was being created; please try again",
                            code="order_changed") from exc
    side_effects.requested(ret)
    if ret.status == statuses.IN_REVIEW:
        side_effects.status_changed(ret, statuses.REQUESTED)
    try:
        arn = workflow.start(ret.return_id, ret.status, keep_item=keep, withdrawal=withdrawal is not None)
    except workflow.WorkflowUnavailable:
        _withdraw(ret)
        raise ServiceUnavailableError("returns cannot be started right now; send the same request again shortly",
                                      retry_after=WORKFLOW_RETRY_AFTER_SECONDS, code="workflow_unavailable") from None
    ret.update(actions=[ReturnModel.execution_arn.set(arn)])
    return ret


HELD_EVENT = "refund.held_for_inspection"


def _risk_and_timing(order: OrderModel, in_force: policies.Version, quote: policy.Quote, terms: list[policy.Policy],
                     resolution: str, dropoff: dict) -> tuple[risk.Score, refund_timing.Timing]:
    """The return's risk score (bounded reads, usecases/risk_scoring.py; the weights of the policy version it
    is judged by) and when its refund is paid. The score weighs what the refund takes from the capture (a
    store credit bonus is the store's own money)."""
    strictest = min(terms, key=lambda t: t.approval_threshold) if terms else policy.DEFAULT
    refund_amount = quote.refund_amount
    scored = risk.score(risk_scoring.facts(order, refund_amount=refund_amount - quote.bonus,
                                           approval_threshold=strictest.approval_threshold, dropoff=dropoff),
                        in_force.document.risk_weights)
    timing = refund_timing.decide([t.refund_on for t in terms], [t.risk_hold_above for t in terms], scored.score,
                                  resolution, policy.needs_approval(refund_amount, strictest))
    return scored, timing


def _made_before(return_id: str, order: OrderModel) -> ReturnModel | None:
    """The return an earlier run of the same request made (rules/ids.py `seeded`), with its workflow
    started if that run died before starting it; None when there is none."""
    try:
        ret = ReturnModel.get(return_id, consistent_read=True)
    except ReturnModel.DoesNotExist:
        return None
    if ret.order_id != order.order_id:
        return None   # cannot happen with a seeded id of this request; never answer with another order's
    if not ret.execution_arn and ret.status in (statuses.REQUESTED, statuses.IN_REVIEW):
        try:
            arn = workflow.start(ret.return_id, ret.status, keep_item=policy.keeps_items(ret.items),
                                 withdrawal=bool(ret.withdrawal))
        except workflow.WorkflowUnavailable:
            raise ServiceUnavailableError("returns cannot be started right now; send the same request again "
                                          "shortly", retry_after=WORKFLOW_RETRY_AFTER_SECONDS,
                                          code="workflow_unavailable") from None
        ret.update(actions=[ReturnModel.execution_arn.set(arn)])
    return ret


# What a client waits before sending the same request (and Idempotency-Key) again.
WORKFLOW_RETRY_AFTER_SECONDS = 5


def _withdraw(ret: ReturnModel) -> None:
    """No workflow will ever move this return: cancel it by the normal conditional move, whose
    effects give its quantities back to the order, and say why in its timeline. The client's retry
    creates a new return (the 503 is not kept by the idempotency record)."""
    lifecycle.transition(ret, statuses.CANCELLED, actor="system", event="return.workflow_unavailable",
                         detail="The return could not be started; the request may be sent again.",
                         allowed_from={statuses.REQUESTED, statuses.IN_REVIEW})

