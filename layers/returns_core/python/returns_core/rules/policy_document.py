"""The store's returns policy as a document: validated, then asked what it decides for one order line.

Pure functions over plain values (api.md "Returns policy"). A document is `{"defaults": {...},
"rules": [...]}`; `parse` turns it into a `Document` or raises `PolicyInvalid` naming every bad
field by its path (`policy.rules[2].set.window_days`); `decide` answers, for one line of one order,
the deciding rule and the `Terms` (a `policy.Policy`) the line is judged by.

Money thresholds and fees (`approval_above`, `review.order_above`, `return_shipping_fee.amount`,
`unit_price_below`, `unit_price_above`) are integer minor units of the order's currency, written
either as a plain integer (the same minor units in every currency: what the built-in defaults have
always meant) or as a map per currency, `{"EUR": 50000, "JPY": 50000, "*": 50000}` (JPY has no
decimals: 50000 is ¥50,000). A map's `"*"` entry covers the currencies it does not name; a currency
a map does not cover leaves the value as it was before that map (the built-in default under the
store's defaults, the earlier value under a rule), and a match key it does not cover does not hold.

The store's `defaults` override the built-in defaults (BUILT_IN) key by key, so a partial document
is complete; a store that never published one is judged by BUILT_IN, version 1.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from . import refund_timing, risk
from .policy import CONDITIONS, CUSTOMER_CHOICE_REASONS, DEFAULT, REASONS, RESOLUTIONS, Policy

# The defaults document of api.md: what the rules in policy.py have always applied.
BUILT_IN: dict[str, Any] = {
    "defaults": {
        "window_days": DEFAULT.window_days, "resolutions": list(RESOLUTIONS),
        "store_credit_bonus_percent": DEFAULT.store_credit_bonus_percent,
        "restocking_fee_percent": DEFAULT.restocking_fee_percent,
        "return_shipping_fee": {"amount": DEFAULT.return_shipping_fee,
                                "reasons": [r for r in REASONS if r in CUSTOMER_CHOICE_REASONS]},
        "grades": dict(DEFAULT.grade_percent),
        "keep_item": False, "approval_above": DEFAULT.approval_threshold,
        "review": {"order_above": DEFAULT.risky_order_total, "returns_in_90_days": DEFAULT.risky_returns_in_90_days},
    },
    "rules": [],
}
BUILT_IN_VERSION = 1

MAX_RULES = 200
MAX_LIST = 500
MAX_WINDOW_DAYS = 3650
MAX_AMOUNT = 10**11
MESSAGE_MAX = 500
RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
ANY_CURRENCY = "*"
MATCH_KEYS = ("sku", "category", "tags", "country", "reason", "resolution", "unit_price_below",
              "unit_price_above", "delivered_from", "delivered_to", "customer_returns_in_90_days_above")
SET_EXTRA = ("returnable", "message")
# api.md v3 "When the refund is paid, and risk": settings of `defaults` and `set` that the built-in
# document leaves out (absent: at inspection, hold above 50), and the document's own `risk_weights`.
TIMING_KEYS = ("refund_on", "risk_hold_above")


class PolicyInvalid(ValueError):
    """Every problem of a document: [(path, message)], the first one first."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(f"{problems[0][0]}: {problems[0][1]}")


@dataclass(frozen=True)
class Rule:
    id: str
    match: dict[str, Any]
    set: dict[str, Any]


@dataclass(frozen=True)
class Document:
    defaults: dict[str, Any]          # the store's defaults over BUILT_IN's: complete
    rules: tuple[Rule, ...]
    source: dict[str, Any] = field(default_factory=dict)   # the document as the store wrote it
    risk_weights: dict[str, int] = field(default_factory=dict)   # the store's overrides of risk.WEIGHTS

    def to_api(self) -> dict[str, Any]:
        return copy.deepcopy(self.source)


@dataclass(frozen=True)
class LineFacts:
    """What the rules may match on for one order line."""
    sku: str
    unit_price: int
    category: str | None = None
    tags: tuple[str, ...] = ()
    reason: str | None = None          # unknown at the lookup: a rule matching on it does not hold yet
    resolution: str | None = None


@dataclass(frozen=True)
class OrderFacts:
    currency: str
    country: str | None = None
    delivered_on: date | None = None
    customer_returns_in_90_days: int = 0


@dataclass(frozen=True)
class Decision:
    rule: str | None                   # the last rule that matched (whose settings decided), None: defaults
    terms: Policy                      # the effective settings, in the order's currency

    @property
    def eligible(self) -> bool:
        return self.terms.returnable


# --- validation -------------------------------------------------------------

class _Check:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def integer(self, path: str, value: Any, low: int, high: int) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(path, "must be an integer")
            return False
        if not low <= value <= high:
            self.bad(path, f"must be between {low} and {high}")
            return False
        return True

    def amount(self, path: str, value: Any) -> None:
        """A plain integer of minor units, or a map currency -> integer (with an optional "*")."""
        if isinstance(value, dict):
            if not value:
                self.bad(path, "a map of amounts per currency must name at least one currency")
            for cur, v in value.items():
                if cur != ANY_CURRENCY and not (isinstance(cur, str) and CURRENCY.match(cur)):
                    self.bad(f"{path}.{cur}", 'must be a 3-letter upper-case ISO 4217 code or "*"')
                    continue
                self.integer(f"{path}.{cur}", v, 0, MAX_AMOUNT)
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(path, "must be an integer of minor units or a map of them per currency")
            return
        self.integer(path, value, 0, MAX_AMOUNT)

    def choices(self, path: str, value: Any, allowed: tuple[str, ...] | None, non_empty: bool = True) -> None:
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return
        if non_empty and not value:
            self.bad(path, "must not be empty")
        if len(value) > MAX_LIST:
            self.bad(path, f"at most {MAX_LIST} values")
        for n, v in enumerate(value):
            if not isinstance(v, str) or not v.strip() or len(v) > 64:
                self.bad(f"{path}[{n}]", "must be a non-empty string of at most 64 characters")
            elif allowed is not None and v not in allowed:
                self.bad(f"{path}[{n}]", f"must be one of {', '.join(allowed)}")

    def day(self, path: str, value: Any) -> None:
        try:
            if not isinstance(value, str):
                raise ValueError
            date.fromisoformat(value)
            if len(value) != 10:
                raise ValueError
        except ValueError:
            self.bad(path, "must be a date YYYY-MM-DD")

    def unknown(self, path: str, given: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in given:
            if key not in known:
                self.bad(f"{path}.{key}" if path else str(key), f"is not a known key (known: {', '.join(known)})")

    def obj(self, path: str, value: Any) -> bool:
        if not isinstance(value, dict):
            self.bad(path, "must be an object")
            return False
        return True


DEFAULT_KEYS = tuple(BUILT_IN["defaults"]) + TIMING_KEYS


# --- carriers (issue 29): which carrier issues the label, per country and drop-off method --------------
# `carriers`: {"<ISO country or *>": {"<drop-off method or *>": ["<carrier id>", ...]}}, the order in which
# the configured carriers are tried (outbound/carriers.carrier_for). The ids and methods are those of
# outbound/carriers (GET /carriers); tests/unit/test_policy_carriers.py keeps the two lists equal.
CARRIER_KEYS = ("carriers",)
CARRIER_IDS = ("demo", "colissimo", "dhl_parcel_de", "gls", "bpost", "easypost")
CARRIER_METHODS = ("relay_point", "letterbox", "post_office")


def _carriers(c: _Check, path: str, value: Any) -> None:
    if not c.obj(path, value):
        return
    for country, methods in value.items():
        p = f"{path}.{country}"
        if country != "*" and not (isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country)):
            c.bad(p, "must be an upper-case ISO 3166-1 alpha-2 code or *")
        elif c.obj(p, methods):
            c.unknown(p, methods, CARRIER_METHODS + ("*",))
            for method, ids in methods.items():
                c.choices(f"{p}.{method}", ids, CARRIER_IDS)


def carrier_preference(carriers: dict[str, Any], country: str, method: str) -> list[str]:
    """The carriers the policy prefers for this country and method, the most specific entry first."""
    for where in (country, "*"):
        for how in (method, "*"):
            found = (carriers.get(where) or {}).get(how)
            if found:
                return list(found)
    return []


def _settings(c: _Check, path: str, given: dict[str, Any], extra: tuple[str, ...] = ()) -> None:
    """The keys of `defaults` (every one optional), and in a rule's `set` also `returnable`, `message`."""
    c.unknown(path, given, DEFAULT_KEYS + CARRIER_KEYS + extra)
    for key, value in given.items():
        p = f"{path}.{key}"
        if key == "carriers":
            _carriers(c, p, value)
        elif key == "window_days":
            c.integer(p, value, 0, MAX_WINDOW_DAYS)
        elif key == "resolutions":
            c.choices(p, value, RESOLUTIONS)
        elif key in ("store_credit_bonus_percent", "restocking_fee_percent"):
            c.integer(p, value, 0, 100)
        elif key == "return_shipping_fee":
            if c.obj(p, value):
                c.unknown(p, value, ("amount", "reasons"))
                if "amount" in value:
                    c.amount(f"{p}.amount", value["amount"])
                if "reasons" in value:
                    c.choices(f"{p}.reasons", value["reasons"], REASONS, non_empty=False)
        elif key == "grades":
            if c.obj(p, value):
                c.unknown(p, value, CONDITIONS)
                for cond, pct in value.items():
                    if cond in CONDITIONS:
                        c.integer(f"{p}.{cond}", pct, 0, 100)
        elif key in ("keep_item", "returnable"):
            if not isinstance(value, bool):
                c.bad(p, "must be true or false")
        elif key == "approval_above":
            c.amount(p, value)
        elif key == "review":
            if c.obj(p, value):
                c.unknown(p, value, ("order_above", "returns_in_90_days"))
                if "order_above" in value:
                    c.amount(f"{p}.order_above", value["order_above"])
                if "returns_in_90_days" in value:
                    c.integer(f"{p}.returns_in_90_days", value["returns_in_90_days"], 1, 1000)
        elif key == "message" and (not isinstance(value, str) or not value.strip() or len(value) > MESSAGE_MAX):
            c.bad(p, f"must be a non-empty text of at most {MESSAGE_MAX} characters")
        elif key == "refund_on" and value not in refund_timing.MOMENTS:
            c.bad(p, f"must be one of {', '.join(refund_timing.MOMENTS)}")
        elif key == "risk_hold_above":
            c.integer(p, value, 0, 100)


def _risk_weights(c: _Check, path: str, given: Any) -> None:
    if c.obj(path, given):
        c.unknown(path, given, risk.SIGNALS)
        for code, weight in given.items():
            if code in risk.SIGNALS:
                c.integer(f"{path}.{code}", weight, risk.WEIGHT_MIN, risk.WEIGHT_MAX)


def _match(c: _Check, path: str, given: dict[str, Any]) -> None:
    c.unknown(path, given, MATCH_KEYS)
    for key, value in given.items():
        p = f"{path}.{key}"
        if key in ("sku", "category", "tags"):
            c.choices(p, value, None)
        elif key == "country":
            c.choices(p, value, None)
            if isinstance(value, list):
                for n, v in enumerate(value):
                    if isinstance(v, str) and not re.fullmatch(r"[A-Z]{2}", v):
                        c.bad(f"{p}[{n}]", "must be an upper-case ISO 3166-1 alpha-2 code")
        elif key == "reason":
            c.choices(p, value, REASONS)
        elif key == "resolution":
            c.choices(p, value, RESOLUTIONS)
        elif key in ("unit_price_below", "unit_price_above"):
            c.amount(p, value)
        elif key in ("delivered_from", "delivered_to"):
            c.day(p, value)
        elif key == "customer_returns_in_90_days_above":
            c.integer(p, value, 0, 1000)
    if (isinstance(given.get("delivered_from"), str) and isinstance(given.get("delivered_to"), str)
            and not any(x[0].startswith(f"{path}.delivered_") for x in c.problems)
            and given["delivered_from"] > given["delivered_to"]):
        c.bad(f"{path}.delivered_to", "must not be before delivered_from")


def parse(doc: Any, path: str = "policy") -> Document:
    """The document as a `Document`; `PolicyInvalid` names every bad field."""
    c = _Check()
    if not c.obj(path, doc):
        raise PolicyInvalid(c.problems)
    c.unknown(path, doc, ("defaults", "rules", "risk_weights"))
    if "risk_weights" in doc:
        _risk_weights(c, f"{path}.risk_weights", doc["risk_weights"])
    defaults = doc.get("defaults", {})
    if c.obj(f"{path}.defaults", defaults):
        _settings(c, f"{path}.defaults", defaults)
    rules = doc.get("rules", [])
    seen: set[str] = set()
    if not isinstance(rules, list):
        c.bad(f"{path}.rules", "must be a list")
        rules = []
    elif len(rules) > MAX_RULES:
        c.bad(f"{path}.rules", f"at most {MAX_RULES} rules")
    for n, rule in enumerate(rules):
        p = f"{path}.rules[{n}]"
        if not c.obj(p, rule):
            continue
        c.unknown(p, rule, ("id", "match", "set"))
        rid = rule.get("id")
        if not isinstance(rid, str) or not RULE_ID.match(rid):
            c.bad(f"{p}.id", "must be 1-64 letters, digits, '-', '_' or '.'")
        elif rid in seen:
            c.bad(f"{p}.id", f"another rule is already called {rid}")
        else:
            seen.add(rid)
        if c.obj(f"{p}.match", rule.get("match", {})):
            _match(c, f"{p}.match", rule.get("match", {}))
        if "set" not in rule:
            c.bad(f"{p}.set", "a rule must set something")
        elif c.obj(f"{p}.set", rule["set"]):
            _settings(c, f"{p}.set", rule["set"], SET_EXTRA)
    if c.problems:
        raise PolicyInvalid(c.problems)
    merged = _merge(BUILT_IN["defaults"], defaults)
    return Document(merged, tuple(Rule(r["id"], dict(r.get("match", {})), dict(r["set"])) for r in rules),
                    copy.deepcopy(doc), dict(doc.get("risk_weights") or {}))



def warnings(document: Document) -> list[dict[str, str]]:
    """What a valid document does that the store probably did not mean: every line unreturnable."""
    out: list[dict[str, str]] = []
    for n, rule in enumerate(document.rules):
        if rule.match or rule.set.get("returnable") is not False:
            continue
        if not any(later.set.get("returnable") is True for later in document.rules[n + 1:]):
            out.append({"path": f"policy.rules[{n}]", "code": "nothing_returnable",
                        "message": f"rule {rule.id} matches every line and makes it unreturnable: "
                                   "no line of any order can be returned under this policy"})
    if document.defaults["window_days"] == 0 and not any("window_days" in r.set for r in document.rules):
        out.append({"path": "policy.defaults.window_days", "code": "nothing_returnable",
                    "message": "a 0-day window: no delivered line can be returned under this policy"})
    return out


# --- deciding ----------------------------------------------------------------

def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on `base` key by key; the nested maps (grades, review, return_shipping_fee) too, and an
    amount map currency by currency."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key in (
                "grades", "review", "return_shipping_fee", "carriers"):
            out[key] = _merge(out[key], value)
        elif isinstance(value, dict) and key in ("approval_above", "amount", "order_above"):
            prev = out.get(key)
            out[key] = {**(prev if isinstance(prev, dict) else {ANY_CURRENCY: prev}), **value}
        else:
            out[key] = copy.deepcopy(value)
    return out


def amount_in(value: Any, currency: str) -> int | None:
    """A plain amount, or a per-currency map's value for `currency` (its "*" otherwise); None: not covered."""
    if isinstance(value, dict):
        got = value.get(currency, value.get(ANY_CURRENCY))
        return None if got is None else int(got)
    return None if value is None else int(value)


def _matches(match: dict[str, Any], line: LineFacts, order: OrderFacts) -> bool:
    for key, want in match.items():
        if key == "sku" and line.sku not in want:
            return False
        if key == "category" and line.category not in want:
            return False
        if key == "tags" and not set(line.tags) & set(want):
            return False
        if key == "country" and (order.country or "").upper() not in want:
            return False
        if key == "reason" and line.reason not in want:
            return False
        if key == "resolution" and line.resolution not in want:
            return False
        if key in ("unit_price_below", "unit_price_above"):
            limit = amount_in(want, order.currency)
            if limit is None:
                return False
            if key == "unit_price_below" and not line.unit_price < limit:
                return False
            if key == "unit_price_above" and not line.unit_price > limit:
                return False
        if key in ("delivered_from", "delivered_to"):
            if order.delivered_on is None:
                return False
            day = date.fromisoformat(want)
            if key == "delivered_from" and order.delivered_on < day:
                return False
            if key == "delivered_to" and order.delivered_on > day:
                return False
        if key == "customer_returns_in_90_days_above" and not order.customer_returns_in_90_days > want:
            return False
    return True


def _terms(settings: dict[str, Any], currency: str, base: Policy = DEFAULT) -> Policy:
    def money_of(value: Any, fallback: int) -> int:
        got = amount_in(value, currency)
        return fallback if got is None else got

    fee = settings["return_shipping_fee"]
    review = settings["review"]
    return replace(
        base,
        window_days=int(settings["window_days"]),
        resolutions=tuple(r for r in RESOLUTIONS if r in settings["resolutions"]),
        store_credit_bonus_percent=int(settings["store_credit_bonus_percent"]),
        restocking_fee_percent=int(settings["restocking_fee_percent"]),
        return_shipping_fee=money_of(fee.get("amount"), DEFAULT.return_shipping_fee),
        shipping_fee_reasons=tuple(r for r in REASONS if r in fee.get("reasons", ())),
        grade_percent={c: int(settings["grades"][c]) for c in CONDITIONS},
        keep_item=bool(settings["keep_item"]),
        approval_threshold=money_of(settings["approval_above"], DEFAULT.approval_threshold),
        risky_order_total=money_of(review.get("order_above"), DEFAULT.risky_order_total),
        risky_returns_in_90_days=int(review["returns_in_90_days"]),
        returnable=bool(settings.get("returnable", True)),
        message=settings.get("message"),
        refund_on=str(settings.get("refund_on", refund_timing.INSPECTION)),
        risk_hold_above=int(settings.get("risk_hold_above", refund_timing.DEFAULT_HOLD_ABOVE)),
        carriers=copy.deepcopy(settings.get("carriers") or {}),
    )


def decide(document: Document, line: LineFacts, order: OrderFacts) -> Decision:
    """The settings one line is judged by: the defaults, then every matching rule in list order, a
    later one overriding an earlier one key by key. `rule`: the last rule that matched."""
    settings = document.defaults
    deciding: str | None = None
    for rule in document.rules:
        if _matches(rule.match, line, order):
            settings = _merge(settings, _in_currency(rule.set, order.currency))
            deciding = rule.id
    return Decision(deciding, _terms(settings, order.currency))


def _in_currency(values: dict[str, Any], currency: str) -> dict[str, Any]:
    """A rule's settings with each amount map reduced to this currency; one it does not cover is dropped,
    so the earlier value stands."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("approval_above",):
            got = amount_in(value, currency)
            if got is not None:
                out[key] = got
        elif key in ("return_shipping_fee", "review") and isinstance(value, dict):
            inner = {}
            for k, v in value.items():
                if k in ("amount", "order_above"):
                    got = amount_in(v, currency)
                    if got is not None:
                        inner[k] = got
                else:
                    inner[k] = v
            out[key] = inner
        else:
            out[key] = value
    return out


def delivered_on(delivered_at: datetime | None) -> date | None:
    return delivered_at.date() if delivered_at is not None else None


def facts_of_line(line: dict[str, Any], reason: str | None = None, resolution: str | None = None) -> LineFacts:
    return LineFacts(str(line["sku"]), int(line["unit_price"]), line.get("category"),
                     tuple(line.get("tags") or ()), reason, resolution)



BUILT_IN_DOCUMENT = parse(BUILT_IN)
