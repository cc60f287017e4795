"""The store's returns policy: its versions, publishing one, and what one decides for an order.

Version 1 is the built-in defaults document (rules/policy_document.BUILT_IN), never stored: a store
that never published a policy is judged exactly as before policies were documents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..rules import clock, policy, policy_document
from ..rules.errors import ConflictError, NotFoundError, UnprocessableError
from ..rules.policy_document import Document, OrderFacts
from ..store import policies
from ..store.models import OrderModel, ReturnModel

RISK_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Version:
    version: int
    document: Document
    updated_at: str | None
    updated_by: str | None

    def to_api(self) -> dict:
        return {"version": self.version, "updated_at": self.updated_at, "updated_by": self.updated_by,
                "policy": self.document.to_api()}


BUILT_IN = Version(policy_document.BUILT_IN_VERSION, policy_document.BUILT_IN_DOCUMENT, None, None)


def _of(item) -> Version:
    return Version(int(item.version), policy_document.parse(item.document), item.updated_at, item.updated_by)


def current() -> Version:
    found = policies.latest()
    return BUILT_IN if found is None else _of(found)


def version(number: int) -> Version:
    """A version by its number: 404 for one never published."""
    if number == BUILT_IN.version:
        return BUILT_IN
    found = policies.get(number) if number > BUILT_IN.version else None
    if found is None:
        raise NotFoundError(f"policy version {number} does not exist", field="version", code="policy_version_not_found")
    return _of(found)


def validated(document: object) -> tuple[Document, list[dict]]:
    """The document checked: 422 naming the first bad field (every problem in `details.errors`)."""
    try:
        parsed = policy_document.parse(document)
    except policy_document.PolicyInvalid as exc:
        path, message = exc.problems[0]
        raise UnprocessableError(f"{path}: {message}", field=path, code="invalid_policy",
                                 details={"errors": [{"field": p, "message": m} for p, m in exc.problems]}) from None
    return parsed, policy_document.warnings(parsed)


def publish(document: object, actor: str) -> tuple[Version, list[dict]]:
    """The document as the next version; two publishing at once: one wins, the other is a 409."""
    parsed, warned = validated(document)
    number = current().version + 1
    try:
        item = policies.add(number, parsed.to_api(), clock.iso(), actor)
    except policies.VersionTaken:
        raise ConflictError("another policy was published meanwhile; reload and try again",
                            code="policy_changed") from None
    return _of(item), warned


def returns_in_window(customer_key: str) -> int:
    """The customer's returns created in the last 90 days (the review rule's and the rules' count)."""
    since = clock.iso(clock.now() - timedelta(days=RISK_WINDOW_DAYS))
    return sum(1 for _ in ReturnModel.by_customer.query(customer_key, ReturnModel.created_at >= since))


def order_facts(order: OrderModel, recent_returns: int) -> OrderFacts:
    home = order.shipping_address or {}
    delivered = None
    try:
        delivered = clock.parse(order.delivered_at) if order.delivered_at else None
    except ValueError:
        delivered = None
    return OrderFacts(order.currency, home.get("country"), policy_document.delivered_on(delivered), recent_returns)


def decisions(doc: Document, order_lines: list[dict], facts: OrderFacts,
              items: list[dict] | None = None, resolution: str | None = None) -> dict[str, policy_document.Decision]:
    """sku -> the line's decision; with `items` (a selection), each item's reason and the resolution count."""
    reason_of = {i["sku"]: i.get("reason") for i in items or []}
    return {line["sku"]: policy_document.decide(
                doc, policy_document.facts_of_line(line, reason_of.get(line["sku"]), resolution), facts)
            for line in order_lines}


def is_risky(order_total: int, returns_in_90_days: int, terms: list[policy.Policy]) -> bool:
    """Ops reviews the return if any item's terms say so (the strictest of them decides)."""
    return any(policy.is_risky(order_total, returns_in_90_days, t) for t in terms) if terms else \
        policy.is_risky(order_total, returns_in_90_days)


def for_lookup(order: OrderModel) -> tuple[Version, dict[str, policy_document.Decision], policy.Policy]:
    """What the customer's lookup shows: the version in force, each line's decision before a reason or
    a resolution is chosen, and the defaults' terms in the order's currency."""
    current_version = current()
    facts = order_facts(order, returns_in_window(order.customer_key))
    decided = decisions(current_version.document, order.lines, facts)
    defaults = policy_document.decide(policy_document.Document(current_version.document.defaults, ()),
                                      policy_document.LineFacts("", 0), facts).terms
    return current_version, decided, defaults
