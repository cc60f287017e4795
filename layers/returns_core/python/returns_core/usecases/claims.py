"""Claims: a problem with an order that needs no return parcel (rules/claims.py).

Opening one writes the claim and its first timeline entry together, then alerts ops (the OPS topic)
and tells the customer (`claim_received`). Ops resolves it once:

- `refund`: through the one pay path (usecases/movements.py), the API reserves the amount on the
  order under a hold key of its own request (checked against what is left of the capture with every
  other refund, adjustment, claim and hold, in one versioned write) and moves the claim `open` ->
  `refund_pending` with the decision; a racing resolve that lost gives its hold back and is answered
  409 (or, for the same refund, with the winner's). It then asks the Settle function
  (the only writer of the ledger) to pay it, synchronously (outbound/claim_payer.py): Settle pays
  under the claim's movement key (the provider's idempotency key too), appends the `claim` entry
  and the claim's payment record in the ledger's one transaction, and moves the claim to
  `refunded`. If that invoke fails, the claim stays `refund_pending`, visibly (GET /ops/claims),
  with its hold: the same resolve call pays it later, once (`pay_refund` is safe to run again).
- `reship`: `open` -> `reship_requested`, and `claim.reship_requested` on the events topic.
- `reject`: `open` -> `rejected`; the customer is told why (the note).

The claimed units are reserved on the order when the claim opens (beside the returns' reservations):
no return and no other claim can take them while the claim stands, and a refunded claim keeps them
for good. A rejected or reshipped claim gives them back.

A manual-provider order (paid offline) has no provider to refund through and a claim has no
finance wait: its refund is store credit only (as a dispute's adjustment), a `refund` method is 422.
"""
from __future__ import annotations

import logging

from ..rules import claims as rules, clock, ids, policy
from ..rules.errors import ConflictError, InvalidTransition, ServiceUnavailableError, UnprocessableError
from ..rules.settlement import movement_key
from ..rules.shapes import ClaimResolution
from ..store import claims as store, ledger, writes
from ..store.models import ClaimModel, OrderModel
from . import movements, orders

log = logging.getLogger(__name__)
PENDING, SUCCEEDED = "pending", "succeeded"


def open_claim(order: OrderModel, kind: str, lines: list[dict], message: str, actor: str) -> ClaimModel:
    """Open a claim on units of the order that no return and no other claim holds: the claim reserves
    them on the order in its own transaction (as a return does), so a claim and a return, or two
    claims, can never refund the same unit. A rejected or reshipped claim gives them back."""
    claim_id = ids.new_claim_id()
    if ids.is_seeded():
        try:   # this very request ran before and died before answering: the same claim
            return store.get(claim_id)
        except store.ClaimNotFound:
            pass

    def attempt() -> ClaimModel:
        order.refresh(consistent_read=True)
        order_lines = order.lines
        held = policy.held_quantities(order.reserved or {})
        for field, problem in rules.line_problems(order_lines, lines, held):
            raise UnprocessableError(problem, field=field, code="over_quantity" if field.endswith(".qty")
                                     else "invalid_value")
        captured = int(order.payment["captured_amount"])
        shipping = int(order.shipping_paid) if order.shipping_paid is not None else None
        names = {line["sku"]: line.get("name") for line in order_lines}
        stored = [{"sku": line["sku"], "name": names[line["sku"]], "qty": int(line["qty"]),
                   "paid": rules.lines_value(order_lines, captured, shipping, [line], held)} for line in lines]
        now = clock.iso()
        claim = ClaimModel(claim_id, order_id=order.order_id, customer_key=order.customer_key,
                           kind=kind, lines=stored, message=message, currency=order.currency,
                           locale=order.customer.get("locale") or "en", status=rules.OPEN,
                           status_since=now, created_at=now, created_by=actor, photos=[])
        store.create(claim, actor, {"kind": kind, "lines": [{"sku": x["sku"], "qty": x["qty"]} for x in stored]},
                     reserve=(order, [OrderModel.reserved[claim.claim_id].set(policy.holding(stored)),
                                      OrderModel.updated_at.set(now)]))
        return claim

    claim = writes.transact(attempt, busy=lambda: ConflictError(
        "the order changed while the claim was being opened; please try again", code="order_changed"))
    _after(claim, lambda: _alert_opened(claim))
    _after(claim, lambda: _email(claim, "claim_received"))
    return claim


def _give_back_units(claim: ClaimModel) -> None:
    """A claim that refunds nothing (rejected, or reshipped: the customer gets the units again) gives its
    units back to the order: they may be returned or claimed later. Idempotent."""
    writes.forget_key(orders.get(claim.order_id), OrderModel.reserved, claim.claim_id,
                      [OrderModel.updated_at.set(clock.iso())])


def _alert_opened(claim: ClaimModel) -> None:
    from ..outbound import events

    events.alert_ops("claim.opened", None, f"claim {claim.claim_id} ({claim.kind}) on order {claim.order_id}",
                     {"claim_id": claim.claim_id, "order_id": claim.order_id, "kind": claim.kind,
                      "lines": [{"sku": x["sku"], "qty": int(x["qty"])} for x in claim.lines]})


def _email(claim: ClaimModel, template: str) -> None:
    from ..outbound import messaging
    from ..outbound.notifications import messages
    from ..views.claims import claim_view

    customer = orders.get(claim.order_id).customer
    data = messages.build(template, claim_view(claim), customer)
    name = messaging.send_email(customer["email"], template, claim.locale or "en", data,
                                about={"claim_id": claim.claim_id})
    store.append_timeline(claim, actor="system", event="message.sent", detail={"channel": "email", "template": name})


def _after(claim: ClaimModel, effect) -> None:
    """A side effect of a change already written: its failure is recorded on the claim (and logged
    without personal data), never undoes the change nor fails the request that made it."""
    try:
        effect()
    except Exception as exc:  # noqa: BLE001 - recorded, the claim stands
        log.warning("claim side effect failed", extra={"claim_id": claim.claim_id, "error": type(exc).__name__})
        try:
            store.append_timeline(claim, actor="system", event="effect.failed", detail={"error": type(exc).__name__})
        except Exception:  # noqa: BLE001 - the log line above is what is left
            pass


def add_photo(claim: ClaimModel, content_type: str) -> dict:
    """An upload form for one more photo (at most MAX_PHOTOS per claim), recorded on the claim first."""
    from ..outbound import claim_photos

    if claim.status not in (rules.OPEN, rules.REFUND_PENDING):
        raise InvalidTransition(claim.status, claim.status, "photos are added while the claim is open")
    photo_id = ids.new_photo_id()
    key = claim_photos.key_of(claim.claim_id, photo_id)

    def decide(claim: ClaimModel) -> writes.Update:
        if len(claim.photos or []) >= rules.MAX_PHOTOS:
            raise UnprocessableError(f"a claim has at most {rules.MAX_PHOTOS} photos", field="photos",
                                     code="too_many_photos")
        return writes.Update([ClaimModel.photos.set([*(claim.photos or []),
                                                     {"photo_id": photo_id, "s3_key": key, "at": clock.iso(),
                                                      "content_type": content_type}])])

    writes.update(claim, decide, busy=lambda: InvalidTransition(claim.status, claim.status,
                                                                "the claim is changing too fast; try again"))
    return {"photo_id": photo_id, "upload": claim_photos.upload_form(key, content_type)}


def photos_for_staff(claim: ClaimModel) -> list[dict]:
    """The claim's photos that are what a photo must be, each with a view link; the others are named with
    why they are not shown (a bad upload is deleted by the check: claim_photos.check)."""
    from ..outbound import claim_photos

    out = []
    for photo in claim.photos or []:
        problem = claim_photos.check(photo["s3_key"])
        shown = {"photo_id": photo["photo_id"], "at": photo.get("at")}
        if problem is None:
            out.append({**shown, "status": "ok", "url": claim_photos.view_url(photo["s3_key"])})
        else:
            out.append({**shown, "status": "missing" if problem == "missing" else "rejected", "problem": problem})
    return out


def resolve(claim_id: str, decision: str, amount: int | None, note: str, method: str | None,
            actor: str) -> ClaimModel:
    claim = store.get(claim_id)
    if decision != "refund" and amount is not None:
        raise UnprocessableError("only a refund has an amount", field="amount", code="invalid_value")
    if decision != "refund" and method is not None:
        raise UnprocessableError("only a refund has a method", field="method", code="invalid_value")
    if claim.status == rules.REFUND_PENDING and decision == "refund":
        _same_refund(claim, amount, method)
        return _pay(claim)   # decided before, not paid yet: pay it now (once)
    if claim.status == rules.RESHIP_REQUESTED and decision == "reship" \
            and not (claim.resolution or {}).get("published_at"):
        _reship(claim)       # decided before, the store not told yet: tell it now
        return claim
    if claim.status != rules.OPEN:
        raise InvalidTransition(claim.status, rules.DECIDED[decision])
    now = clock.iso()
    resolution = {"decision": decision, "note": note, "by": actor, "at": now}
    if decision == "refund":
        return _decide_refund(claim, resolution, amount, method)
    if not store.move(claim, rules.DECIDED[decision], actor=actor, event="claim.resolved",
                      detail={"decision": decision, "note": note}, updates=[ClaimModel.resolution.set(resolution)]):
        return claim   # the same decision, made by someone else first
    _give_back_units(claim)
    if decision == "reship":
        _reship(claim)
    _after(claim, lambda: _email(claim, "claim_resolved"))
    return claim


def _same_refund(claim: ClaimModel, amount: int | None, method: str | None) -> None:
    decided = claim.resolution or {}
    if amount is not None and int(amount) != int(decided.get("amount") or 0):
        raise InvalidTransition(claim.status, rules.REFUNDED,
                                f"this claim's refund of {decided.get('amount')} is decided; it is being paid")
    if method is not None and method != decided.get("method"):
        raise InvalidTransition(claim.status, rules.REFUNDED, "this claim's refund is decided with another method")


def _decide_refund(claim: ClaimModel, resolution: dict, amount: int | None, method: str | None) -> ClaimModel:
    order = orders.get(claim.order_id)
    amount = int(amount) if amount is not None else sum(int(x.get("paid") or 0) for x in claim.lines)
    if amount <= 0:
        raise UnprocessableError("the claimed lines were paid nothing: give an amount", field="amount",
                                 code="invalid_value")
    method = method or "refund"
    if method == "refund" and order.payment["provider"] == "manual":
        raise UnprocessableError("this order was paid offline: refund the claim as store_credit",
                                 field="method", code="invalid_value")
    held = movements.request_hold_key(rules.hold_key(claim.claim_id))
    resolution = {**resolution, "amount": amount, "method": method, "status": PENDING, "hold": held}

    def write_decision() -> bool:
        return store.move(claim, rules.REFUND_PENDING, actor=resolution["by"], event="claim.resolved",
                          detail={"decision": "refund", "note": resolution["note"], "amount": amount,
                                  "method": method},
                          updates=[ClaimModel.resolution.set(resolution)])

    def lost() -> ClaimModel:
        # A racing resolve decided it first: the same refund is paid once (here too, safely), another is a 409.
        claim.refresh(consistent_read=True)
        _same_refund(claim, amount, method)
        return _pay(claim)

    try:
        answer = movements.decide(order, held, amount, write_decision, lost)
    except ledger.OverRefund as exc:
        raise UnprocessableError(str(exc), field="amount", code="over_refund") from None
    return answer if answer is not None else _pay(claim)


def _pay(claim: ClaimModel) -> ClaimModel:
    from ..outbound import claim_payer

    try:
        claim_payer.pay(claim.claim_id)
    except claim_payer.PayerUnavailable as exc:
        log.warning("claim refund not paid yet", extra={"claim_id": claim.claim_id, "error": str(exc)[:200]})
        raise ServiceUnavailableError("the claim's refund is decided and held but not paid yet; send the same "
                                      "resolve again to pay it", retry_after=5, code="refund_pending",
                                      details={"claim_id": claim.claim_id, "status": rules.REFUND_PENDING}) from None
    claim.refresh(consistent_read=True)
    _after(claim, lambda: _email(claim, "claim_resolved"))
    return claim


def _reship(claim: ClaimModel) -> None:
    """Tell the store to send the lines again; if SNS fails the claim says so (no `published_at`) and
    the same resolve call tells it then (the store keys the reship by `claim_id`)."""
    from ..outbound import events

    try:
        events.publish_claim("claim.reship_requested", claim,
                             {"lines": [{"sku": x["sku"], "qty": int(x["qty"])} for x in claim.lines]})
    except Exception as exc:  # noqa: BLE001 - the decision stands; the caller is told to resend
        log.warning("claim reship not published", extra={"claim_id": claim.claim_id, "error": type(exc).__name__})
        raise ServiceUnavailableError("the reship is decided but the store was not told yet; send the same "
                                      "resolve again", retry_after=5, code="reship_not_published",
                                      details={"claim_id": claim.claim_id}) from None
    claim.update(actions=[ClaimModel.resolution["published_at"].set(clock.iso())])


def pay_refund(claim_id: str) -> dict:
    """The Settle function pays a decided claim refund: once, under the claim's movement key, as a
    `claim` ledger entry; then the claim is `refunded`. Safe to run again at any point."""
    claim = store.get(claim_id)
    resolution = claim.resolution or {}
    if resolution.get("decision") != "refund" or claim.status not in (rules.REFUND_PENDING, rules.REFUNDED):
        raise InvalidTransition(claim.status, rules.REFUNDED, "this claim has no refund to pay")
    if resolution.get("ledger_seq") is None:
        _pay_once(claim, resolution)
        claim.refresh(consistent_read=True)
    paid = claim.resolution or {}
    store.move(claim, rules.REFUNDED, actor="system", event="claim.refunded",
               detail={"amount": int(paid["amount"]), "method": paid.get("method")})
    return {"claim_id": claim.claim_id, "status": claim.status, "refund": SUCCEEDED}


def _still_pending(claim: ClaimModel) -> None:
    if claim.status != rules.REFUND_PENDING:
        raise InvalidTransition(claim.status, rules.REFUNDED, "this claim has no refund to pay")


def refund_payment(claim: ClaimModel, order: OrderModel, resolution: ClaimResolution) -> movements.Payment:
    amount = int(resolution["amount"])
    return movements.Payment(
        key=movement_key(claim.claim_id, "claim"), kind="claim", owner=claim, owner_id=claim.claim_id,
        recorded_in="resolution", hold=resolution.get("hold") or rules.hold_key(claim.claim_id), order=order,
        amount=amount, currency=claim.currency, customer_key=claim.customer_key,
        store_credit=resolution.get("method") == "store_credit", record={"amount": amount},
        metadata={"claim_id": claim.claim_id, "order_id": claim.order_id, "kind": "claim"},
        approved_by=resolution.get("by"), still_payable=_still_pending)


def _pay_once(claim: ClaimModel, resolution: ClaimResolution) -> None:
    movements.pay(refund_payment(claim, orders.get(claim.order_id), resolution))


def listing(status: str | None, cursor: dict | None, limit: int) -> tuple[list[ClaimModel], dict | None]:
    """Claims in one status, oldest first (by_status), a page at a time."""
    hits = ClaimModel.by_status.query(status or rules.OPEN, scan_index_forward=True, limit=limit,
                                      last_evaluated_key=cursor)
    page = list(hits)
    return ClaimModel.load_many(page), hits.last_evaluated_key
